//! The SQL behind [`Operations`]: what health checks, metrics and backups need. Compiled
//! into each backend beside sql.rs.

use super::sql::{audit, check_actor};
use super::{Backend, MIGRATOR};
use crate::error::Result;
use crate::model::{AuditAction, AuditEntry, AuditFilter, MigrationState, PoolState};
use crate::{format_utc, Database, Operations};

impl Operations for Backend {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migration_state(&self) -> Result<MigrationState> {
        let applied: Vec<i64> = sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await?;
        let pending = MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect();
        Ok(MigrationState {
            applied: applied.len(),
            pending,
        })
    }

    async fn pool_state(&self) -> Result<PoolState> {
        Ok(PoolState {
            size: self.pool.size(),
            idle: self.pool.num_idle(),
            max: self.pool.options().get_max_connections(),
        })
    }

    async fn record_operation(
        &self,
        actor: &str,
        entity: &str,
        key: &str,
        outcome: &serde_json::Value,
    ) -> Result<()> {
        check_actor(actor)?;
        let mut tx = self.begin_write().await?;
        audit(
            &mut tx,
            actor,
            entity,
            key,
            AuditAction::Insert,
            None,
            Some(outcome),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn last_operation(&self, entity: &str) -> Result<Option<AuditEntry>> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM audit_log WHERE entity = $1")
            .bind(entity)
            .fetch_one(&self.pool)
            .await?;
        let Some(id) = id else { return Ok(None) };
        let filter = AuditFilter {
            entity: Some(entity.to_string()),
            after_id: Some(id - 1),
            limit: Some(1),
            ..AuditFilter::default()
        };
        Ok(self.audit_log(&filter).await?.pop())
    }

    async fn alert_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM alerts")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn claim_job(&self, name: &str, every: std::time::Duration) -> Result<bool> {
        let now = jiff::Timestamp::now();
        let every = jiff::SignedDuration::try_from(every).unwrap_or(jiff::SignedDuration::MAX);
        let due_if_before = now.checked_sub(every).unwrap_or(jiff::Timestamp::MIN);
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "INSERT INTO job_runs (name, last_run) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run
             WHERE job_runs.last_run <= $3",
        )
        .bind(name)
        .bind(format_utc(now))
        .bind(format_utc(due_if_before))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(claimed)
    }
}
