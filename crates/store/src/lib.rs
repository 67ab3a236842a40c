//! Persistence for healthplan: one [`Database`] API, two backends — SQLite (the embedded
//! default, a file in the data dir) and PostgreSQL (`DATABASE_URL=postgres://…`).
//!
//! Every write runs in one transaction together with its audit rows, so a refused or failed
//! write leaves the database as it was. Migrations are embedded and applied on [`Store::open`].

mod error;
mod model;
mod postgres;
mod sqlite;
pub mod testing;
#[cfg(test)]
mod tests;

pub use error::{Result, StoreError};
pub use model::{
    AuditAction, AuditEntry, AuditFilter, DataValueFilter, ImportCount, Numeric, NumericScan,
    NumericValue, PlanIndicator, PlanSummary, PlanTask,
};
pub use postgres::PgDb;
pub use sqlite::SqliteDb;

use healthplan_core::{
    Area, AreaCode, DataElement, DataValue, Department, Period, PlanDocument, TaskProgress, User,
};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Where the data lives. `database_url` wins when set; otherwise `<data_dir>/healthplan.db`.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
}

impl StoreConfig {
    pub fn new(data_dir: impl Into<PathBuf>, database_url: Option<String>) -> Self {
        StoreConfig {
            data_dir: data_dir.into(),
            database_url: database_url.filter(|u| !u.trim().is_empty()),
        }
    }

    /// The SQLite file used when no `DATABASE_URL` is given.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join(SQLITE_FILE)
    }
}

/// File name of the embedded database inside the data dir.
pub const SQLITE_FILE: &str = "healthplan.db";

/// An open database of either backend. Cheap to clone (a connection pool inside).
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

impl Store {
    /// Opens (creating if needed) the database the config names and applies migrations.
    pub async fn open(config: &StoreConfig) -> Result<Store> {
        match config.database_url.as_deref() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Store::Postgres(PgDb::open(url).await?))
            }
            Some(url) if url.starts_with("sqlite:") => {
                Ok(Store::Sqlite(SqliteDb::open_url(url).await?))
            }
            Some(url) => Err(StoreError::UnsupportedUrl(redact(url))),
            None => {
                let dir = &config.data_dir;
                std::fs::create_dir_all(dir).map_err(|cause| StoreError::DataDir {
                    path: dir.display().to_string(),
                    cause,
                })?;
                Ok(Store::Sqlite(
                    SqliteDb::open_file(&config.sqlite_path()).await?,
                ))
            }
        }
    }

    /// Opens the SQLite file at `path` (created if missing).
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        Ok(Store::Sqlite(SqliteDb::open_file(path).await?))
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Where the data is, for messages (passwords removed).
    pub fn location(&self) -> String {
        match self {
            Store::Sqlite(db) => db.location(),
            Store::Postgres(db) => db.location(),
        }
    }

    /// Waits for open connections to finish and closes the pool.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(db) => db.pool.close().await,
            Store::Postgres(db) => db.pool.close().await,
        }
    }
}

/// Removes the password from a database URL so it can be shown.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Declares the [`Database`] trait that each backend implements and forwards the same
/// methods from [`Store`], so callers hold one concrete type and need no trait import.
macro_rules! database_api {
    ($( $(#[$m:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty; )*) => {
        /// The storage API. One implementation per backend; [`Store`] forwards to them.
        pub trait Database: Send + Sync {
            $( $(#[$m])* fn $name(&self $(, $arg: $ty)*) -> impl std::future::Future<Output = $ret> + Send; )*
        }

        impl Store {
            $( $(#[$m])* pub async fn $name(&self $(, $arg: $ty)*) -> $ret {
                match self {
                    Store::Sqlite(db) => db.$name($($arg),*).await,
                    Store::Postgres(db) => db.$name($($arg),*).await,
                }
            } )*
        }
    };
}

database_api! {
    /// Inserts or updates areas, all or nothing. Parents must come before children (or
    /// already be stored).
    fn import_areas(&self, actor: &str, areas: &[Area]) -> Result<ImportCount>;
    /// Every area, ordered by code.
    fn list_areas(&self) -> Result<Vec<Area>>;
    /// Adds departments that are not there yet, all or nothing.
    fn import_departments(&self, actor: &str, departments: &[Department]) -> Result<ImportCount>;
    fn list_departments(&self) -> Result<Vec<Department>>;

    /// Stores a validated plan with its tasks and indicators as rows; returns the plan id.
    /// `source_text` is the document text the importer read (spans point into it).
    fn save_plan(&self, actor: &str, doc: &PlanDocument, source_text: Option<&str>) -> Result<i64>;
    /// Replaces a stored plan's document (a person's corrections); audited with before/after.
    fn update_plan(&self, actor: &str, id: i64, doc: &PlanDocument) -> Result<()>;
    /// The plan document exactly as stored.
    fn plan(&self, id: i64) -> Result<PlanDocument>;
    fn plan_source_text(&self, id: i64) -> Result<Option<String>>;
    fn list_plans(&self) -> Result<Vec<PlanSummary>>;
    /// The plan's indicators as rows with database ids (for data entry to reference).
    fn plan_indicators(&self, plan_id: i64) -> Result<Vec<PlanIndicator>>;
    fn plan_tasks(&self, plan_id: i64) -> Result<Vec<PlanTask>>;

    /// Declares or redefines data elements, all in one transaction.
    fn put_data_elements(&self, actor: &str, elements: &[DataElement]) -> Result<()>;
    fn list_data_elements(&self) -> Result<Vec<DataElement>>;
    /// Writes one value. `expected_version` is `None` for a new value and the version the
    /// writer read otherwise; a mismatch is a [`StoreError::VersionConflict`]. The status
    /// change must be allowed by the workflow. Returns the stored value (version bumped).
    fn put_data_value(&self, actor: &str, value: &DataValue, expected_version: Option<i64>) -> Result<DataValue>;
    /// Bulk administrative load (e.g. a file import): inserts or overwrites each value as
    /// given, bumping versions, all or nothing, each row audited.
    fn import_data_values(&self, actor: &str, values: &[DataValue]) -> Result<ImportCount>;
    fn delete_data_value(&self, actor: &str, element: &str, area: &AreaCode, period: Period, expected_version: i64) -> Result<()>;
    fn list_data_values(&self, filter: &DataValueFilter) -> Result<Vec<DataValue>>;
    /// Every stored value (the analytics engine's start-up load), ordered by element, area,
    /// period.
    fn all_data_values(&self) -> Result<Vec<DataValue>>;
    /// Streams every number-bearing value (number, ratio, boolean) to `f` in pages under one
    /// read snapshot, without building a `Vec<DataValue>`: the analytics engine's start-up
    /// load. Order is storage order (by row id). `f` returns `Break` to stop early. Text
    /// values are only counted. A row that cannot be read is a [`StoreError::Corrupt`].
    fn for_each_numeric_value(&self, f: &mut (dyn FnMut(NumericValue<'_>) -> ControlFlow<()> + Send)) -> Result<NumericScan>;

    /// Inserts or replaces the progress of one task for one area and period.
    fn put_task_progress(&self, actor: &str, progress: &TaskProgress) -> Result<()>;
    fn list_task_progress(&self, plan_id: i64) -> Result<Vec<TaskProgress>>;

    fn create_user(&self, actor: &str, user: &User, password_hash: Option<&str>) -> Result<()>;
    /// Replaces the display name and grants of an existing user.
    fn update_user(&self, actor: &str, user: &User) -> Result<()>;
    fn user(&self, username: &str) -> Result<Option<User>>;
    fn user_password_hash(&self, username: &str) -> Result<Option<String>>;
    fn list_users(&self) -> Result<Vec<User>>;

    /// Audit entries matching the filter, oldest first.
    fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;
    /// Row count of every table, to report what a command did (and prove what it did not).
    fn row_counts(&self) -> Result<Vec<(String, i64)>>;
}

/// Tables reported by [`Store::row_counts`].
pub const TABLES: [&str; 10] = [
    "areas",
    "departments",
    "plans",
    "plan_tasks",
    "plan_indicators",
    "data_elements",
    "data_values",
    "task_progress",
    "users",
    "audit_log",
];

/// Now as fixed-width UTC RFC 3339 with microseconds, so stored timestamps sort as text.
pub(crate) fn now_utc() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format_utc(d.as_secs() as i64, d.subsec_micros())
}

fn format_utc(secs: i64, micros: u32) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil-from-days (H. Hinnant), valid for the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(format_utc(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(format_utc(951_782_400, 5), "2000-02-29T00:00:00.000005Z");
        assert_eq!(
            format_utc(1_798_761_599, 999_999),
            "2026-12-31T23:59:59.999999Z"
        );
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u@h:5432/db"
        );
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }

    #[test]
    fn empty_url_means_sqlite() {
        let c = StoreConfig::new("/tmp/x", Some(" ".into()));
        assert!(c.database_url.is_none());
        assert_eq!(c.sqlite_path(), Path::new("/tmp/x/healthplan.db"));
    }
}
