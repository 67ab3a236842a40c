use healthplan_core::CoreError;
use thiserror::Error;

/// Why a store operation failed. A refused write has changed nothing.
#[derive(Debug, Error)]
pub enum StoreError {
    // Causes are part of the message (not `source`) so `{:#}` chains do not repeat them.
    #[error("cannot open database {target}: {cause}")]
    Open { target: String, cause: sqlx::Error },
    #[error("cannot create data directory {path}: {cause}")]
    DataDir { path: String, cause: std::io::Error },
    #[error("unsupported DATABASE_URL scheme in {0:?}: use postgres://… or sqlite://…")]
    UnsupportedUrl(String),
    #[error("database migration failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Db(sqlx::Error),
    #[error("{entity} {key} not found")]
    NotFound { entity: &'static str, key: String },
    #[error("{entity} {key} already exists")]
    AlreadyExists { entity: &'static str, key: String },
    #[error("{entity} {key}: version conflict (you sent version {sent:?}, stored is {stored:?}); reload and try again")]
    VersionConflict {
        entity: &'static str,
        key: String,
        sent: Option<i64>,
        stored: Option<i64>,
    },
    #[error("{key}: status cannot change from {from} to {to}")]
    Workflow {
        key: String,
        from: &'static str,
        to: &'static str,
    },
    #[error("{0}")]
    Invalid(String),
    /// The capability does not cover this row; nothing was written.
    #[error("forbidden: {0}")]
    Forbidden(#[from] healthplan_access::Denied),
    #[error("stored {entity} {key} cannot be read: {reason}")]
    Corrupt {
        entity: &'static str,
        key: String,
        reason: String,
    },
    #[error(transparent)]
    Core(#[from] CoreError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(e)
    }
}

impl StoreError {
    pub(crate) fn corrupt(
        entity: &'static str,
        key: impl Into<String>,
        reason: impl ToString,
    ) -> Self {
        StoreError::Corrupt {
            entity,
            key: key.into(),
            reason: reason.to_string(),
        }
    }
}

/// Whether a database error is a unique-key violation (a concurrent insert won).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_foreign_key_violation())
}
