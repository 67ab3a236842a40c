//! The SQL behind [`Daily`]: the home page's read marker. Compiled into each backend beside
//! sql.rs.

use super::Backend;
use crate::error::Result;
use crate::model::HomeVisit;
use crate::{now_utc, Daily};
use healthplan_access::SelfService;
use sqlx::Row;

impl Daily for Backend {
    async fn visit_home(&self, by: &SelfService) -> Result<Option<HomeVisit>> {
        // Takes the write lock first: a read then a write in a deferred SQLite transaction
        // fails at once (busy) when another writer got in between.
        let mut tx = self.begin_write().await?;
        let before = sqlx::query("SELECT audit_id, seen_at FROM home_visits WHERE username = $1")
            .bind(by.username())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| -> Result<HomeVisit> {
                Ok(HomeVisit {
                    audit_id: r.try_get("audit_id")?,
                    at: r.try_get("seen_at")?,
                })
            })
            .transpose()?;
        sqlx::query(
            "INSERT INTO home_visits (username, audit_id, seen_at)
             SELECT $1, COALESCE(MAX(id), 0), $2 FROM audit_log WHERE true
             ON CONFLICT (username) DO UPDATE
             SET audit_id = excluded.audit_id, seen_at = excluded.seen_at",
        )
        .bind(by.username())
        .bind(now_utc())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(before)
    }
}
