//! The SQLite backend: a file in the data dir, WAL, foreign keys on.

use crate::error::{Result, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub(crate) type Db = sqlx::Sqlite;
pub(crate) type Backend = SqliteDb;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteDb {
    pub(crate) pool: sqlx::Pool<Db>,
    location: String,
}

impl SqliteDb {
    pub(crate) async fn open_file(path: &Path) -> Result<SqliteDb> {
        let opts = SqliteConnectOptions::new().filename(path);
        Self::open_with(opts, path.display().to_string()).await
    }

    pub(crate) async fn open_url(url: &str) -> Result<SqliteDb> {
        let opts = SqliteConnectOptions::from_str(url).map_err(|cause| StoreError::Open {
            target: url.to_string(),
            cause,
        })?;
        Self::open_with(opts, url.to_string()).await
    }

    async fn open_with(opts: SqliteConnectOptions, location: String) -> Result<SqliteDb> {
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: in WAL mode NORMAL may lose the last commits on a power cut, and a
            // write is acknowledged only once it is durable. Group commit keeps it cheap.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Writers wait for each other instead of failing with SQLITE_BUSY.
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|cause| StoreError::Open {
                target: location.clone(),
                cause,
            })?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteDb { pool, location })
    }

    pub fn location(&self) -> String {
        self.location.clone()
    }

    pub(crate) async fn vacuum_into(&self, path: &Path) -> Result<()> {
        let target = path.to_str().ok_or_else(|| {
            StoreError::Invalid(format!("{} is not a UTF-8 path", path.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn has_tables(path: &Path) -> Result<bool> {
        if !path.exists() {
            return Ok(false);
        }
        let opts = SqliteConnectOptions::new().filename(path).read_only(true);
        let mut conn = sqlx::ConnectOptions::connect(&opts)
            .await
            .map_err(|cause| StoreError::Open {
                target: path.display().to_string(),
                cause,
            })?;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_one(&mut conn)
        .await?;
        sqlx::Connection::close(conn).await?;
        Ok(n > 0)
    }

    /// Deferred transactions could deadlock when two readers both upgrade to writers;
    /// `BEGIN IMMEDIATE` takes the write lock up front.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
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
