//! The PostgreSQL backend, chosen by `DATABASE_URL=postgres://…`.

use crate::error::{Result, StoreError};
use sqlx::postgres::PgPoolOptions;

pub(crate) type Db = sqlx::Postgres;
pub(crate) type Backend = PgDb;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgDb {
    pub(crate) pool: sqlx::Pool<Db>,
    location: String,
}

impl PgDb {
    pub(crate) async fn open(url: &str) -> Result<PgDb> {
        let location = crate::redact(url);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(url)
            .await
            .map_err(|cause| StoreError::Open {
                target: location.clone(),
                cause,
            })?;
        MIGRATOR.run(&pool).await?;
        Ok(PgDb { pool, location })
    }

    pub fn location(&self) -> String {
        self.location.clone()
    }

    pub(crate) async fn has_tables(url: &str) -> Result<bool> {
        use sqlx::Connection;
        let mut conn =
            sqlx::PgConnection::connect(url)
                .await
                .map_err(|cause| StoreError::Open {
                    target: crate::redact(url),
                    cause,
                })?;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        )
        .fetch_one(&mut conn)
        .await?;
        conn.close().await?;
        Ok(n > 0)
    }

    /// Runs `f` with the id of a snapshot exported from a read-only repeatable-read
    /// transaction (for `pg_dump --snapshot`), and returns every table's row count in that
    /// same snapshot with `f`'s result.
    pub async fn in_exported_snapshot<F, Fut, T>(&self, f: F) -> Result<(Vec<(String, i64)>, T)>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await?;
        let mut rows = Vec::with_capacity(crate::TABLES.len());
        for t in crate::TABLES {
            // Table names come from a constant list, never from input.
            let n: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}")))
                    .fetch_one(&mut *tx)
                    .await?;
            rows.push((t.to_string(), n));
        }
        let out = f(snapshot).await;
        tx.commit().await?;
        Ok((rows, out))
    }

    /// Writes take one lock first, so audit rows chain in commit order (as SQLite's
    /// `BEGIN IMMEDIATE` does) and no two writers wait on each other's rows.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(7346016)")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

// The same SQL compiled for each backend on purpose (see sql.rs).
#[allow(clippy::duplicate_mod)]
#[path = "sql.rs"]
mod sql;
#[allow(clippy::duplicate_mod)]
#[path = "sql_accounts.rs"]
mod sql_accounts;
#[allow(clippy::duplicate_mod)]
#[path = "sql_alerts.rs"]
mod sql_alerts;
#[allow(clippy::duplicate_mod)]
#[path = "sql_daily.rs"]
mod sql_daily;
#[allow(clippy::duplicate_mod)]
#[path = "sql_departments.rs"]
mod sql_departments;
#[allow(clippy::duplicate_mod)]
#[path = "sql_group.rs"]
mod sql_group;
#[allow(clippy::duplicate_mod)]
#[path = "sql_mapping.rs"]
mod sql_mapping;
#[allow(clippy::duplicate_mod)]
#[path = "sql_notify.rs"]
mod sql_notify;
#[allow(clippy::duplicate_mod)]
#[path = "sql_ops.rs"]
mod sql_ops;
#[allow(clippy::duplicate_mod)]
#[path = "sql_workflow.rs"]
mod sql_workflow;
// The change feed exists on PostgreSQL only (one process serves a SQLite file).
#[path = "pg_changes.rs"]
mod pg_changes;
