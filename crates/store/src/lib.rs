//! Persistence for healthplan: one API ([`Database`], [`Accounts`], [`Workflow`]), two backends — SQLite (the embedded
//! default, a file in the data dir) and PostgreSQL (`DATABASE_URL=postgres://…`).
//!
//! Every write runs in one transaction together with its audit rows, so a refused or failed
//! write leaves the database as it was. Migrations are embedded and applied on [`Store::open`].

pub mod changes;
mod error;
mod model;
mod notify_model;
mod postgres;
mod sqlite;
pub mod testing;
#[cfg(test)]
mod tests;

pub use changes::{ChangeFeed, ChangeListener};
pub use error::{Result, StoreError};
pub use model::{
    AlertFilter, ApiToken, AuditAction, AuditCheck, AuditEntry, AuditFilter, DataValueFilter,
    EvidenceFile, EvidenceMeta, HomeVisit, ImportCount, MappingCount, MappingKind, MappingRow,
    Numeric, NumericScan, NumericValue, PeriodRange, PlanIndicator, PlanSummary, PlanTask,
    Publication, ResponsibilityRows, SessionRow, TaskKey, Throttle, ValueKey, ValueRecord,
};
pub use model::{MigrationState, PoolState};
pub use notify_model::{
    Attempt, Channel, Delivery, NewNotification, Notification, NotificationKind, NotificationPrefs,
    NotifySettings, SmtpSecurity, SmtpSettings, Webhook, WebhookFormat,
};
pub use postgres::PgDb;
pub use sqlite::SqliteDb;

use healthplan_access::{
    AlertHandler, BulkWriter, MappingEditor, PlanEditor, ProgressWriter, ReadScope, RegistryAdmin,
    Reviewer, RoundManager, SelfService, UserAdmin, ValueWriter,
};
use healthplan_core::{
    Alert, AlertAction, AlertComment, Area, DataElement, DataValue, Department, Finding, NewRound,
    PlanDocument, PlanStatus, ReviewDecision, Round, TaskProgress, User, WatchedSeries,
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

    /// Writes a consistent copy of the SQLite database to `path` while others keep reading
    /// and writing (`VACUUM INTO`: one read transaction, compacted). PostgreSQL copies are
    /// `pg_dump`'s job.
    pub async fn sqlite_snapshot(&self, path: &Path) -> Result<()> {
        match self {
            Store::Sqlite(db) => db.vacuum_into(path).await,
            Store::Postgres(_) => Err(StoreError::Invalid(
                "a PostgreSQL database is copied with pg_dump, not VACUUM INTO".into(),
            )),
        }
    }

    /// What a low-level consistency check finds wrong (empty: nothing). SQLite runs
    /// `PRAGMA integrity_check` (every page, index and constraint); PostgreSQL, which checks
    /// its pages as it reads them, scans every table.
    pub async fn integrity_check(&self) -> Result<Vec<String>> {
        match self {
            Store::Sqlite(db) => {
                let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_all(&db.pool)
                    .await?;
                Ok(rows.into_iter().filter(|r| r != "ok").collect())
            }
            Store::Postgres(db) => {
                for t in TABLES {
                    // Table names come from a constant list, never from input.
                    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}")))
                        .fetch_one(&db.pool)
                        .await?;
                }
                Ok(Vec::new())
            }
        }
    }

    /// Whether the database `config` names holds any table, without creating or migrating
    /// it (a restore refuses to overwrite one that does).
    pub async fn has_tables(config: &StoreConfig) -> Result<bool> {
        match config.database_url.as_deref() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                PgDb::has_tables(url).await
            }
            Some(url) => Err(StoreError::UnsupportedUrl(redact(url))),
            None => SqliteDb::has_tables(&config.sqlite_path()).await,
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
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// One caller's saves for [`Store::put_data_value_groups`]: who writes, and each value with
/// the version it replaces.
pub type ValueGroup<'a> = (&'a ValueWriter, &'a [(DataValue, Option<i64>)]);

/// Declares a storage trait that each backend implements and forwards the same methods from
/// [`Store`], so callers hold one concrete type and need no trait import.
macro_rules! database_api {
    ($(#[$tm:meta])* trait $trait:ident { $( $(#[$m:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty; )* }) => {
        $(#[$tm])*
        pub trait $trait: Send + Sync {
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
    /// The registry, plans and data values (sql.rs). Writes take the capability that allows
    /// them and check every row against it; reads of scoped data take a [`ReadScope`].
    trait Database {
    /// Inserts or updates areas, all or nothing. Parents must come before children (or
    /// already be stored).
    fn import_areas(&self, by: &RegistryAdmin, areas: &[Area]) -> Result<ImportCount>;
    /// Every area, ordered by code (the tree is public).
    fn list_areas(&self) -> Result<Vec<Area>>;
    /// Adds departments that are not there yet, all or nothing.
    fn import_departments(&self, by: &RegistryAdmin, departments: &[Department]) -> Result<ImportCount>;
    fn list_departments(&self) -> Result<Vec<Department>>;

    /// Stores a validated plan with its tasks and indicators as rows; returns the plan id.
    /// `source_text` is the document text the importer read (spans point into it). Each
    /// indicator without an element is linked to the element with the same normalised name
    /// and unit, or to a new one; the stored document carries the links.
    fn save_plan(&self, by: &PlanEditor, doc: &PlanDocument, source_text: Option<&str>) -> Result<i64>;
    /// Replaces a stored plan's document (a person's corrections); audited with before/after.
    fn update_plan(&self, by: &PlanEditor, id: i64, doc: &PlanDocument) -> Result<()>;
    /// Replaces a stored plan's document if its version is still `expected` (any version when
    /// `None`), else `VersionConflict` with the stored one; returns the new version.
    fn edit_plan(&self, by: &PlanEditor, id: i64, expected: Option<i64>, doc: &PlanDocument) -> Result<i64>;
    /// Moves a plan along draft → confirmed (→ published through `publish_plan`, which also
    /// keeps what the public sees).
    fn set_plan_status(&self, by: &PlanEditor, id: i64, status: PlanStatus) -> Result<()>;
    /// Publishes a plan with the snapshot the public pages show.
    fn publish_plan(&self, by: &PlanEditor, id: i64, as_of: i32, snapshot: &serde_json::Value) -> Result<()>;
    /// The latest published snapshot of a plan, while it is published.
    fn publication(&self, id: i64) -> Result<Option<Publication>>;
    /// The plan document exactly as stored; `NotFound` when the scope may not read it (the
    /// public reads publications instead).
    fn plan(&self, scope: &ReadScope, id: i64) -> Result<PlanDocument>;
    fn plan_summary(&self, scope: &ReadScope, id: i64) -> Result<PlanSummary>;
    fn plan_source_text(&self, scope: &ReadScope, id: i64) -> Result<Option<String>>;
    /// Plans the scope may read (for the public: published ones).
    fn list_plans(&self, scope: &ReadScope) -> Result<Vec<PlanSummary>>;
    /// The plan's indicators as rows with database ids (for data entry to reference).
    fn plan_indicators(&self, scope: &ReadScope, plan_id: i64) -> Result<Vec<PlanIndicator>>;
    fn plan_tasks(&self, scope: &ReadScope, plan_id: i64) -> Result<Vec<PlanTask>>;
    /// Links one indicator of a plan to an existing data element; audited.
    fn link_indicator(&self, by: &PlanEditor, plan_id: i64, index: usize, element: &str) -> Result<()>;
    /// Indicators measured by any of these elements in the plans the scope reads, ordered
    /// by plan id and position (what the value rules of an entry need, in one query).
    fn indicators_of_elements(&self, scope: &ReadScope, elements: &[String]) -> Result<Vec<PlanIndicator>>;
    /// Plans with an indicator measured by this element.
    fn plans_linking(&self, element: &str) -> Result<Vec<i64>>;
    /// Element leads and task units of every plan, for the access policy.
    fn responsibilities(&self) -> Result<ResponsibilityRows>;

    /// Declares or redefines data elements, all in one transaction.
    fn put_data_elements(&self, by: &RegistryAdmin, elements: &[DataElement]) -> Result<()>;
    fn list_data_elements(&self) -> Result<Vec<DataElement>>;
    /// A reporter's save. `expected_version` is `None` for a new value and the version the
    /// writer read otherwise; a mismatch is a [`StoreError::VersionConflict`]. Only entry
    /// moves are allowed (new/draft/returned → draft/submitted): submitted values wait for
    /// review and approved ones are locked. Returns the stored value (version bumped).
    fn put_data_value(&self, by: &ValueWriter, value: &DataValue, expected_version: Option<i64>) -> Result<DataValue>;
    /// Several saves as one: all are checked against the capability first, and either all
    /// are stored or none.
    fn put_data_values(&self, by: &ValueWriter, values: &[(DataValue, Option<i64>)]) -> Result<Vec<DataValue>>;
    /// Several callers' `put_data_values` in one transaction (group commit: one commit, one
    /// fsync); one answer per caller, in order. Each caller's values are all or nothing and
    /// fail alone; when the commit itself fails, nothing is stored and every caller hears it.
    fn put_data_value_groups(&self, groups: &[ValueGroup<'_>]) -> Vec<Result<Vec<DataValue>>>;
    /// The stored values at these keys that the scope reads (missing ones are left out).
    fn data_values_at(&self, scope: &ReadScope, keys: &[ValueKey]) -> Result<Vec<DataValue>>;
    /// A reviewer approves, returns (with a comment) or reopens (with a comment) a value.
    fn review_data_value(&self, by: &Reviewer, key: &ValueKey, expected_version: i64, decision: ReviewDecision, comment: Option<&str>) -> Result<DataValue>;
    /// Bulk administrative load (e.g. a file import): inserts or overwrites each value as
    /// given, bumping versions, all or nothing, each row audited.
    fn import_data_values(&self, by: &BulkWriter, values: &[DataValue]) -> Result<ImportCount>;
    /// Deletes a draft or returned value.
    fn delete_data_value(&self, by: &ValueWriter, key: &ValueKey, expected_version: i64) -> Result<DataValue>;
    fn data_value(&self, scope: &ReadScope, key: &ValueKey) -> Result<Option<DataValue>>;
    /// Values the scope may read, matching the filter, ordered by element, area, period.
    fn list_data_values(&self, scope: &ReadScope, filter: &DataValueFilter) -> Result<Vec<DataValue>>;
    /// Like `list_data_values`, with who last changed and who reviewed each value.
    fn data_value_records(&self, scope: &ReadScope, filter: &DataValueFilter) -> Result<Vec<ValueRecord>>;
    /// Streams every number-bearing value (number, ratio, boolean) to `f` in pages under one
    /// read snapshot, without building a `Vec<DataValue>`: the analytics engine's start-up
    /// load. Order is storage order (by row id). `f` returns `Break` to stop early. Text
    /// values are only counted. A row that cannot be read is a [`StoreError::Corrupt`].
    fn for_each_numeric_value(&self, f: &mut (dyn FnMut(NumericValue<'_>) -> ControlFlow<()> + Send)) -> Result<NumericScan>;

    /// Audit entries matching the filter, oldest first. Callers check the reader's right to
    /// the entity first.
    fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;
    /// Walks the audit log's hash chain and names the first row that breaks it.
    fn verify_audit(&self) -> Result<AuditCheck>;
    /// Row count of every table, to report what a command did (and prove what it did not).
    fn row_counts(&self) -> Result<Vec<(String, i64)>>;
    }
}

database_api! {
    /// Users, sessions, API tokens and sign-in throttling (sql_accounts.rs). Session and
    /// token look-ups are by hash and take no capability: they are how a caller gets one.
    trait Accounts {
    fn create_user(&self, by: &UserAdmin, user: &User, password_hash: Option<&str>) -> Result<()>;
    /// Replaces the display name, grants and disabled flag of an existing user; disabling
    /// ends the user's sessions.
    fn update_user(&self, by: &UserAdmin, user: &User) -> Result<()>;
    fn reset_password(&self, by: &UserAdmin, username: &str, password_hash: &str) -> Result<()>;
    fn change_own_password(&self, by: &SelfService, password_hash: &str) -> Result<()>;
    fn user(&self, username: &str) -> Result<Option<User>>;
    fn user_password_hash(&self, username: &str) -> Result<Option<String>>;
    fn list_users(&self, by: &UserAdmin) -> Result<Vec<User>>;

    /// Starts a session (a new id on every sign-in); audited as a sign-in.
    fn create_session(&self, username: &str, id_hash: &str, csrf: &str, client: &str) -> Result<()>;
    fn session(&self, id_hash: &str) -> Result<Option<SessionRow>>;
    fn touch_session(&self, id_hash: &str) -> Result<()>;
    /// Ends a session, audited with the reason (`sign_out`, `idle`).
    fn end_session(&self, id_hash: &str, reason: &str) -> Result<()>;

    fn create_token(&self, by: &SelfService, name: &str, token_hash: &str) -> Result<ApiToken>;
    /// A token for another user (the command line and admins).
    fn create_token_for(&self, by: &UserAdmin, username: &str, name: &str, token_hash: &str) -> Result<ApiToken>;
    fn list_tokens(&self, by: &SelfService) -> Result<Vec<ApiToken>>;
    fn revoke_token(&self, by: &SelfService, id: i64) -> Result<()>;
    /// The live token with this hash; records the use in the audit log.
    fn use_token(&self, token_hash: &str, client: &str) -> Result<Option<ApiToken>>;

    /// Failed sign-ins recorded under these keys.
    fn sign_in_failures(&self, keys: &[String]) -> Result<Vec<Throttle>>;
    /// Records a failed sign-in under each key; audited.
    fn record_sign_in_failure(&self, keys: &[String], username: &str, client: &str, reason: &str) -> Result<()>;
    fn clear_sign_in_failures(&self, keys: &[String]) -> Result<()>;
    }
}

database_api! {
    /// Early-warning alerts (sql_alerts.rs).
    trait Alerts {
    /// Records what checks found; raises (and returns) an alert for each subject whose state
    /// changed into an alarming one. An unchanged state raises nothing.
    fn record_findings(&self, findings: &[Finding]) -> Result<Vec<Alert>>;
    /// `record_findings` for the check that follows an approval: in the same transaction the
    /// approved value's audit log gains an entry with how many alerts the approval raised.
    fn record_approval_findings(&self, value: &ValueKey, findings: &[Finding]) -> Result<Vec<Alert>>;
    /// Alerts of the scope's areas, newest first.
    fn list_alerts(&self, scope: &ReadScope, filter: &AlertFilter) -> Result<Vec<Alert>>;
    fn alert(&self, scope: &ReadScope, id: i64) -> Result<(Alert, Vec<AlertComment>)>;
    /// Acknowledges, closes or reopens an alert and/or comments on it; audited.
    fn handle_alert(&self, by: &AlertHandler, id: i64, action: Option<AlertAction>, comment: Option<&str>) -> Result<Alert>;
    /// The last recorded state of every subject starting with `prefix`.
    fn alert_states(&self, prefix: &str) -> Result<std::collections::HashMap<String, String>>;
    /// The data elements the outbreak detectors watch, by element code.
    fn list_watched(&self) -> Result<Vec<WatchedSeries>>;
    /// Watches an element (or changes how); the element must be declared. Audited.
    fn put_watched(&self, by: &RegistryAdmin, series: &WatchedSeries) -> Result<()>;
    fn delete_watched(&self, by: &RegistryAdmin, element: &str) -> Result<()>;
    /// The stored detector settings (TOML), if someone changed the defaults.
    fn surveillance_settings(&self) -> Result<Option<String>>;
    /// Replaces the detector settings; the caller has checked them. Audited.
    fn put_surveillance_settings(&self, by: &RegistryAdmin, toml: &str) -> Result<()>;
    }
}

database_api! {
    /// The reporting workflow (sql_workflow.rs): rounds, task progress and its evidence.
    trait Workflow {
    fn open_round(&self, by: &RoundManager, round: &NewRound) -> Result<Round>;
    fn close_round(&self, by: &RoundManager, id: i64) -> Result<()>;
    /// Rounds of plans the scope reads, or that ask one of its areas to report; newest first.
    fn list_rounds(&self, scope: &ReadScope) -> Result<Vec<Round>>;
    fn round(&self, scope: &ReadScope, id: i64) -> Result<Round>;

    /// A reporter's progress report on a task; versioned and moved like a data value.
    fn put_task_progress(&self, by: &ProgressWriter, progress: &TaskProgress, expected_version: Option<i64>) -> Result<TaskProgress>;
    fn review_task_progress(&self, by: &Reviewer, key: &TaskKey, expected_version: i64, decision: ReviewDecision, comment: Option<&str>) -> Result<TaskProgress>;
    fn list_task_progress(&self, scope: &ReadScope, plan_id: i64) -> Result<Vec<TaskProgress>>;
    fn add_evidence(&self, by: &ProgressWriter, key: &TaskKey, file: &EvidenceFile) -> Result<i64>;
    fn list_evidence(&self, scope: &ReadScope, key: &TaskKey) -> Result<Vec<EvidenceMeta>>;
    fn evidence(&self, scope: &ReadScope, id: i64) -> Result<(EvidenceMeta, Vec<u8>)>;
    /// Whether an approver must be someone other than the last submitter (on unless an
    /// administrator turned it off).
    fn four_eyes(&self) -> Result<bool>;
    /// Turns the four-eyes rule on or off for the whole instance (audited).
    fn set_four_eyes(&self, by: &UserAdmin, required: bool) -> Result<()>;
    }
}

database_api! {
    /// The DHIS2 code mapping table (sql_mapping.rs), edited by planners; every change audited.
    trait Mappings {
    /// Every row, by kind then local code.
    fn list_mapping(&self) -> Result<Vec<MappingRow>>;
    /// Makes the table exactly `rows`, all or nothing; a row that is empty or maps a code a
    /// second time is an [`StoreError::Invalid`] naming it (`row 3: …`).
    fn replace_mapping(&self, by: &MappingEditor, rows: &[MappingRow]) -> Result<MappingCount>;
    /// Adds a row or changes the DHIS2 code of a local code.
    fn put_mapping_row(&self, by: &MappingEditor, row: &MappingRow) -> Result<()>;
    fn delete_mapping_row(&self, by: &MappingEditor, kind: MappingKind, local_code: &str) -> Result<()>;
    }
}

database_api! {
    /// Department aliases (sql_departments.rs): variant names an admin merged into the
    /// department they name.
    trait Departments {
    /// Every `(variant, department)`, by variant.
    fn list_department_aliases(&self) -> Result<Vec<(String, String)>>;
    /// Makes `variant` an alias of `department` (or of what `department` is an alias of):
    /// its registered rows and its own aliases move to the department; audited.
    fn merge_department(&self, by: &RegistryAdmin, variant: &str, department: &str) -> Result<()>;
    }
}

database_api! {
    /// What operating the service needs (sql_ops.rs): health, metrics, the record of
    /// backups and other operator actions.
    trait Operations {
    /// A round trip to the database.
    fn ping(&self) -> Result<()>;
    /// Migrations applied, and those this binary knows that the database lacks.
    fn migration_state(&self) -> Result<MigrationState>;
    fn pool_state(&self) -> Result<PoolState>;
    /// Audits an operator action that changes no protected data (a backup, its outcome):
    /// an `insert` of `entity`/`key` with `outcome` as the row's `after`.
    fn record_operation(&self, actor: &str, entity: &str, key: &str, outcome: &serde_json::Value) -> Result<()>;
    /// The newest audit entry of `entity`.
    fn last_operation(&self, entity: &str) -> Result<Option<AuditEntry>>;
    /// Alerts ever raised.
    fn alert_count(&self) -> Result<i64>;
    /// Claims this period's run of a periodic job: true for the one process (of all those
    /// on this database) whose claim finds the last run at least `every` ago.
    fn claim_job(&self, name: &str, every: std::time::Duration) -> Result<bool>;
    }
}

database_api! {
    /// Notifications (sql_notify.rs): each user's inbox, e-mail opt-in, the admin's webhooks
    /// and SMTP settings, and the outbox the delivery job sends from.
    trait Notifications {
    /// Adds an event to each recipient's inbox (once per user and `event`), and queues an
    /// e-mail for each newly notified user who opted in and one post per enabled webhook
    /// (once per event); returns the users newly notified.
    fn add_notifications(&self, n: &NewNotification) -> Result<Vec<String>>;
    /// The caller's own notifications, newest first.
    fn notifications(&self, by: &SelfService, unread_only: bool, limit: i64) -> Result<Vec<Notification>>;
    fn unread_notifications(&self, by: &SelfService) -> Result<i64>;
    /// Marks one of the caller's notifications read; another user's is `NotFound`.
    fn mark_notification_read(&self, by: &SelfService, id: i64) -> Result<Notification>;
    fn mark_all_notifications_read(&self, by: &SelfService) -> Result<u64>;
    /// Every enabled account, to find who an event concerns.
    fn active_users(&self) -> Result<Vec<User>>;
    fn notification_prefs(&self, by: &SelfService) -> Result<NotificationPrefs>;
    /// Sets the caller's e-mail address and opt-in; audited.
    fn put_notification_prefs(&self, by: &SelfService, prefs: &NotificationPrefs) -> Result<()>;
    fn notify_settings(&self) -> Result<Option<NotifySettings>>;
    /// Replaces the SMTP settings; audited without the password.
    fn put_notify_settings(&self, by: &UserAdmin, settings: &NotifySettings) -> Result<()>;
    fn list_webhooks(&self) -> Result<Vec<Webhook>>;
    /// Adds (id 0) or changes a webhook (a `None` secret keeps the stored one); audited
    /// without the URL's path or the secret.
    fn put_webhook(&self, by: &UserAdmin, webhook: &Webhook) -> Result<Webhook>;
    fn delete_webhook(&self, by: &UserAdmin, id: i64) -> Result<()>;
    /// Pending messages due at `now`, leased for `lease` so no other run sends them too.
    fn claim_deliveries(&self, now: jiff::Timestamp, lease: std::time::Duration, limit: i64) -> Result<Vec<Delivery>>;
    /// Records one attempt's outcome (audited as `notification_delivery`).
    fn record_delivery(&self, id: i64, attempt: &Attempt) -> Result<Delivery>;
    /// The outbox, newest first, for the admin page.
    fn list_deliveries(&self, limit: i64) -> Result<Vec<Delivery>>;
    }
}

database_api! {
    /// What the home page (工作台) keeps per user (sql_daily.rs).
    trait Daily {
    /// Records that the caller opened the home now and returns the visit before, if any:
    /// the home shows what changed since then.
    fn visit_home(&self, by: &SelfService) -> Result<Option<HomeVisit>>;
    }
}

/// Audit entity of a successful backup (key: the file written).
pub const BACKUP_ENTITY: &str = "backup";
/// Audit entity of a failed backup (key: where it was to be written).
pub const BACKUP_FAILURE_ENTITY: &str = "backup_failure";

/// Tables reported by [`Store::row_counts`].
pub const TABLES: [&str; 28] = [
    "areas",
    "departments",
    "department_aliases",
    "plans",
    "plan_tasks",
    "plan_indicators",
    "publications",
    "data_elements",
    "data_values",
    "task_progress",
    "evidence",
    "rounds",
    "round_areas",
    "round_departments",
    "users",
    "sessions",
    "api_tokens",
    "sign_in_throttle",
    "alerts",
    "alert_comments",
    "alert_state",
    "exchange_mapping",
    "notifications",
    "notification_prefs",
    "webhooks",
    "notification_outbox",
    "audit_log",
    "home_visits",
];

/// An audit row's link in the chain: SHA-256 (hex) over the previous row's hash, the row's
/// text fields and its before/after JSON (keys sorted, so PostgreSQL's JSONB reads back the
/// same), each on its own line.
pub(crate) fn audit_hash(
    prev: &str,
    fields: [&str; 5],
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> String {
    use sha2::{Digest, Sha256};
    let json = |v: Option<&serde_json::Value>| v.map_or_else(String::new, |v| v.to_string());
    let mut h = Sha256::new();
    for part in std::iter::once(prev)
        .chain(fields)
        .chain([json(before).as_str(), json(after).as_str()])
    {
        h.update(part.as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Now as fixed-width UTC RFC 3339 with microseconds, so stored timestamps sort as text.
pub(crate) fn now_utc() -> String {
    format_utc(jiff::Timestamp::now())
}

pub(crate) fn format_utc(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A stored timestamp back as an instant (`None` for text that is not one).
pub fn parse_utc(s: &str) -> Option<jiff::Timestamp> {
    s.parse().ok()
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn formats_utc_timestamps() {
        let t = |s, us| jiff::Timestamp::new(s, us * 1000).unwrap();
        assert_eq!(format_utc(t(0, 0)), "1970-01-01T00:00:00.000000Z");
        assert_eq!(format_utc(t(951_782_400, 5)), "2000-02-29T00:00:00.000005Z");
        let last = format_utc(t(1_798_761_599, 999_999));
        assert_eq!(last, "2026-12-31T23:59:59.999999Z");
        assert_eq!(parse_utc(&last), Some(t(1_798_761_599, 999_999)));
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
