//! Test support shared by this crate's stories and the CLI's end-to-end tests: a fresh
//! PostgreSQL database per test on the server named by `HEALTHPLAN_TEST_DATABASE_URL`.

use crate::error::Result;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::sync::atomic::{AtomicU32, Ordering};

/// Set to a PostgreSQL URL to run the PostgreSQL half of the test suites.
pub const TEST_DATABASE_URL_VAR: &str = "HEALTHPLAN_TEST_DATABASE_URL";

/// The server to create test databases on, when the environment names one.
pub fn postgres_test_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// `url` with its database name replaced by `name` (query string kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    format!("{}/{}{}", &base[..host_end], name, query)
}

/// A database created for one test; call [`TestDatabase::drop`] at the end.
#[derive(Debug)]
pub struct TestDatabase {
    /// Connection URL of the new database.
    pub url: String,
    server_url: String,
    name: String,
}

impl TestDatabase {
    /// Creates an empty database with a unique name on the server of `server_url`.
    pub async fn create(server_url: &str) -> Result<TestDatabase> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        let name = format!(
            "hp_t_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = PgConnection::connect(server_url).await?;
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(TestDatabase {
            url: with_database(server_url, &name),
            server_url: server_url.to_string(),
            name,
        })
    }

    /// Drops the database, closing any connections still open to it.
    pub async fn drop(self) -> Result<()> {
        let mut conn = PgConnection::connect(&self.server_url).await?;
        sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        Ok(())
    }
}

/// Every row of every table (migration bookkeeping included) as text, sorted per table: two
/// databases hold the same data when these are equal.
pub async fn table_rows(
    store: &crate::Store,
) -> Result<std::collections::BTreeMap<String, Vec<String>>> {
    use sqlx::Row;
    let mut out = std::collections::BTreeMap::new();
    match store {
        crate::Store::Sqlite(db) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&db.pool)
            .await?;
            for t in tables {
                let columns: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                        .bind(&t)
                        .fetch_all(&db.pool)
                        .await?;
                let row = columns
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || ',' || ");
                // Names come from the database's own catalogue.
                let mut rows: Vec<String> =
                    sqlx::query(AssertSqlSafe(format!("SELECT {row} FROM \"{t}\"")))
                        .fetch_all(&db.pool)
                        .await?
                        .iter()
                        .map(|r| r.try_get::<String, _>(0))
                        .collect::<std::result::Result<_, _>>()?;
                rows.sort();
                out.insert(t, rows);
            }
        }
        crate::Store::Postgres(db) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema()",
            )
            .fetch_all(&db.pool)
            .await?;
            for t in tables {
                let mut rows: Vec<String> =
                    sqlx::query_scalar(AssertSqlSafe(format!("SELECT r::text FROM \"{t}\" r")))
                        .fetch_all(&db.pool)
                        .await?;
                rows.sort();
                out.insert(t, rows);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/ci?sslmode=disable", "x"),
            "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u:p@h", "x"), "postgres://u:p@h/x");
    }
}
