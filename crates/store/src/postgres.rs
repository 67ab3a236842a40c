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
#[path = "sql_mapping.rs"]
mod sql_mapping;
#[allow(clippy::duplicate_mod)]
#[path = "sql_workflow.rs"]
mod sql_workflow;
