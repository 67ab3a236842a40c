//! Test support shared by this crate's stories and the CLI's end-to-end tests: a fresh
//! PostgreSQL database per test on the server named by `HEALTHPLAN_TEST_DATABASE_URL`.
//! Under CI (`CI` set) that variable is required, so the PostgreSQL half fails instead of
//! passing by skipping.

use crate::error::Result;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::sync::atomic::{AtomicU32, Ordering};

/// Set to a PostgreSQL URL to run the PostgreSQL half of the test suites.
pub const TEST_DATABASE_URL_VAR: &str = "HEALTHPLAN_TEST_DATABASE_URL";

/// Set (to anything but empty) by CI, which must run the PostgreSQL half.
pub const CI_VAR: &str = "CI";

/// The server to create test databases on, when the environment names one.
///
/// # Panics
/// When `CI` is set and the URL is not: a CI run without PostgreSQL is a broken run.
pub fn postgres_test_url() -> Option<String> {
    let set = |var: &str| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
    let url = set(TEST_DATABASE_URL_VAR);
    if url.is_none() && set(CI_VAR).is_some() {
        panic!(
            "{CI_VAR} is set but {TEST_DATABASE_URL_VAR} is not: the PostgreSQL tests cannot run"
        );
    }
    url
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

/// A database created for one test, dropped when this value is, also when the test fails
/// ([`TestDatabase::remove`] drops it and reports errors).
#[derive(Debug)]
pub struct TestDatabase {
    /// Connection URL of the new database.
    pub url: String,
    server_url: String,
    name: String,
    removed: bool,
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
            removed: false,
        })
    }

    /// Drops the database, closing any connections still open to it.
    pub async fn remove(mut self) -> Result<()> {
        drop_database(&self.server_url, &self.name).await?;
        self.removed = true;
        Ok(())
    }
}

async fn drop_database(server_url: &str, name: &str) -> Result<()> {
    let mut conn = PgConnection::connect(server_url).await?;
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    Ok(())
}

impl Drop for TestDatabase {
    /// A test that panics still leaves no database behind. `Drop` cannot await, and may run
    /// inside a runtime, so the drop runs on a thread of its own with its own runtime.
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        let (server, name) = (self.server_url.clone(), self.name.clone());
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(drop_database(&server, &name))
                .map_err(std::io::Error::other)
        })
        .join();
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("test database {} not dropped: {e}", self.name),
            Err(_) => eprintln!("test database {} not dropped: the drop panicked", self.name),
        }
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

/// Bulk-inserts approved number values `(element, area, period, value)` straight into
/// `data_values`, unaudited, for benchmarks that need millions of stored values (elements
/// and areas must exist). PostgreSQL: one COPY with triggers off (the change feed is for
/// running servers; run this with none); needs a superuser. SQLite: multi-row INSERTs, 200 000
/// rows per transaction. `progress` hears the rows sent so far.
pub async fn bulk_insert_numbers(
    store: &crate::Store,
    rows: impl Iterator<Item = (String, String, String, f64)>,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<u64> {
    const UPDATED_AT: &str = "2025-01-01T00:00:00.000000Z";
    let mut n = 0u64;
    match store {
        crate::Store::Postgres(db) => {
            let mut conn = db.pool.acquire().await?;
            sqlx::query("SET session_replication_role = replica")
                .execute(&mut *conn)
                .await?;
            let mut copy = conn
                .copy_in_raw(
                    "COPY data_values (element, area_code, period, value_type, num_value, status, \
                     version, updated_by, updated_at) FROM STDIN",
                )
                .await?;
            let mut buf = String::with_capacity(1 << 20);
            for (e, a, p, v) in rows {
                use std::fmt::Write;
                let _ = writeln!(
                    buf,
                    "{e}\t{a}\t{p}\tnumber\t{v}\tapproved\t1\tbench\t{UPDATED_AT}"
                );
                n += 1;
                if buf.len() > (1 << 20) - 512 {
                    copy.send(buf.as_bytes()).await?;
                    buf.clear();
                    progress(n);
                }
            }
            copy.send(buf.as_bytes()).await?;
            copy.finish().await?;
            sqlx::query("SET session_replication_role = origin")
                .execute(&mut *conn)
                .await?;
            sqlx::query("ANALYZE data_values")
                .execute(&mut *conn)
                .await?;
        }
        crate::Store::Sqlite(db) => {
            const PER_STATEMENT: usize = 500;
            const PER_TRANSACTION: u64 = 200_000;
            let mut conn = db.pool.acquire().await?;
            let mut rows = rows.peekable();
            while rows.peek().is_some() {
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let mut in_tx = 0;
                while in_tx < PER_TRANSACTION && rows.peek().is_some() {
                    let chunk: Vec<_> = rows.by_ref().take(PER_STATEMENT).collect();
                    let mut sql = String::from(
                        "INSERT INTO data_values (element, area_code, period, value_type, \
                         num_value, status, version, updated_by, updated_at) VALUES ",
                    );
                    for i in 0..chunk.len() {
                        if i > 0 {
                            sql.push(',');
                        }
                        sql.push_str("(?, ?, ?, 'number', ?, 'approved', 1, 'bench', ?)");
                    }
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (e, a, p, v) in &chunk {
                        q = q.bind(e).bind(a).bind(p).bind(v).bind(UPDATED_AT);
                    }
                    q.execute(&mut *tx).await?;
                    in_tx += chunk.len() as u64;
                    n += chunk.len() as u64;
                }
                tx.commit().await?;
                progress(n);
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exists(server: &str, name: &str) -> bool {
        let mut conn = PgConnection::connect(server).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        n == 1
    }

    /// A test that fails before removing its database still leaves none behind.
    #[tokio::test]
    async fn a_dropped_test_database_is_gone() {
        let Some(server) = postgres_test_url() else {
            eprintln!("{TEST_DATABASE_URL_VAR} not set: PostgreSQL test skipped");
            return;
        };
        let db = TestDatabase::create(&server).await.unwrap();
        let name = db.name.clone();
        assert!(exists(&server, &name).await);
        let failed = tokio::spawn(async move {
            let _db = db;
            panic!("a failing test");
        })
        .await;
        assert!(failed.is_err());
        assert!(!exists(&server, &name).await);
    }

    /// Under CI, a PostgreSQL test without a server fails rather than skipping.
    #[test]
    fn ci_without_a_database_fails() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "testing::tests::a_dropped_test_database_is_gone"])
            .env(CI_VAR, "1")
            .env_remove(TEST_DATABASE_URL_VAR)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{text}");
        assert!(text.contains("1 failed"), "{text}");
        assert!(
            text.contains("is set but HEALTHPLAN_TEST_DATABASE_URL is not"),
            "{text}"
        );
    }

    #[test]
    fn replaces_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/ci?sslmode=disable", "x"),
            "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u:p@h", "x"), "postgres://u:p@h/x");
    }
}
