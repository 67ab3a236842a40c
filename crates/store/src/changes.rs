//! The change feed of data values, which keeps several server processes on one PostgreSQL
//! database in step: triggers record every committed change of `data_values` in
//! `value_changes` (ids in commit order) and send `NOTIFY healthplan_values`. A process reads
//! the changes after the last id it applied ([`Store::changes_since`]), woken by a
//! [`ChangeListener`] or by a timer. SQLite databases are served by one process and have no
//! feed: the head is always 0 and there is never anything to read.

use crate::error::Result;
use crate::model::ValueKey;
use crate::Store;
use healthplan_core::DataValue;
use std::time::Duration;

/// The notification channel the triggers send on.
pub const CHANNEL: &str = "healthplan_values";

/// What changed after a point of the feed.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeFeed {
    /// Values changed after the point asked for, up to change `last`, each with what it
    /// holds now (`None`: deleted). One entry per value, however often it changed.
    Changes {
        last: i64,
        values: Vec<(ValueKey, Option<DataValue>)>,
        /// Reload markers among the changes (their ids): a process changed what engines and
        /// policies are built from (areas, elements, plans, watched series); the others
        /// rebuild them from the store.
        reloads: Vec<i64>,
    },
    /// Changes after the point were pruned: the reader must reload from `data_values`.
    Pruned,
}

/// Waits for change notifications on a connection of its own.
pub struct ChangeListener {
    inner: sqlx::postgres::PgListener,
}

impl ChangeListener {
    /// The next notification: `true`, or `false` when the connection was lost (it is
    /// re-established on the next call; notifications sent meanwhile are gone, so the caller
    /// catches up from the feed).
    pub async fn next(&mut self) -> Result<bool> {
        Ok(self.inner.try_recv().await?.is_some())
    }
}

impl Store {
    /// Whether other processes may write to this database (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self, Store::Postgres(_))
    }

    /// The id of the newest recorded change (0 when none, and always on SQLite).
    pub async fn change_head(&self) -> Result<i64> {
        match self {
            Store::Sqlite(_) => Ok(0),
            Store::Postgres(db) => db.change_head().await,
        }
    }

    /// Values changed after change `after`, at most `limit` changes' worth, in one
    /// snapshot.
    pub async fn changes_since(&self, after: i64, limit: i64) -> Result<ChangeFeed> {
        match self {
            Store::Sqlite(_) => Ok(ChangeFeed::Changes {
                last: after,
                values: Vec::new(),
                reloads: Vec::new(),
            }),
            Store::Postgres(db) => db.changes_since(after, limit).await,
        }
    }

    /// Starts listening for change notifications (`None` on SQLite). Listen first, then
    /// read the feed, so nothing committed in between is missed.
    pub async fn change_listener(&self) -> Result<Option<ChangeListener>> {
        match self {
            Store::Sqlite(_) => Ok(None),
            Store::Postgres(db) => {
                let mut inner = sqlx::postgres::PgListener::connect_with(&db.pool).await?;
                inner.listen(CHANNEL).await?;
                Ok(Some(ChangeListener { inner }))
            }
        }
    }

    /// Tells the other processes to rebuild their engine and policy from the store (after
    /// areas, elements, plans or watched series changed): a marker change in the feed.
    /// Returns the marker's id (0 on SQLite).
    pub async fn announce_reload(&self) -> Result<i64> {
        match self {
            Store::Sqlite(_) => Ok(0),
            Store::Postgres(db) => db.announce_reload().await,
        }
    }

    /// Deletes changes older than `keep`; returns how many went.
    pub async fn prune_changes(&self, keep: Duration) -> Result<u64> {
        match self {
            Store::Sqlite(_) => Ok(0),
            Store::Postgres(db) => db.prune_changes(keep).await,
        }
    }
}
