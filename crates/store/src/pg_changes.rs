//! The SQL of the change feed (see `changes.rs`), PostgreSQL only.

use super::sql::{row_to_data_value, DATA_VALUE_COLUMNS};
use super::PgDb;
use crate::changes::ChangeFeed;
use crate::error::{Result, StoreError};
use crate::model::ValueKey;
use healthplan_core::{AreaCode, CoreError};
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashSet;
use std::time::Duration;

impl PgDb {
    pub(crate) async fn change_head(&self) -> Result<i64> {
        Ok(
            // Pruned changes count as seen: a table emptied by pruning still has a head.
            sqlx::query_scalar(
                "SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM value_changes),
                                 (SELECT pruned_through FROM value_change_floor))::BIGINT",
            )
            .fetch_one(&self.pool)
            .await?,
        )
    }

    pub(crate) async fn changes_since(&self, after: i64, limit: i64) -> Result<ChangeFeed> {
        // One snapshot for the floor and the rows, so a prune in between cannot hide rows.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let floor: i64 = sqlx::query_scalar("SELECT pruned_through FROM value_change_floor")
            .fetch_one(&mut *tx)
            .await?;
        if after < floor {
            tx.commit().await?;
            return Ok(ChangeFeed::Pruned);
        }
        // The value's state now, not at the change: applying it is idempotent and a later
        // change of the same value only repeats it.
        let sql = format!(
            "SELECT dv.*, c.id, c.element AS c_element, c.area_code AS c_area,
                    c.period AS c_period
             FROM (SELECT id, element, area_code, period FROM value_changes
                   WHERE id > $1 ORDER BY id LIMIT $2) c
             LEFT JOIN LATERAL (SELECT {DATA_VALUE_COLUMNS} FROM data_values d
                   WHERE d.element = c.element AND d.area_code = c.area_code
                     AND d.period = c.period) dv ON TRUE
             ORDER BY c.id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut last = after;
        let mut reloads = Vec::new();
        let mut seen = HashSet::new();
        let mut values = Vec::new();
        for row in &rows {
            // The value's columns come first (`row_to_data_value` reads by position), the
            // change's after them.
            last = row.try_get(14)?;
            let element: String = row.try_get(15)?;
            let area: String = row.try_get(16)?;
            let period: String = row.try_get(17)?;
            if element.is_empty() {
                // The marker `announce_reload` writes.
                reloads.push(last);
                continue;
            }
            if !seen.insert((element.clone(), area.clone(), period.clone())) {
                continue;
            }
            let corrupt = |reason: String| {
                StoreError::corrupt("value change", format!("{element}/{area}/{period}"), reason)
            };
            let key = ValueKey {
                area: AreaCode::parse(&area).map_err(|e| corrupt(e.to_string()))?,
                period: period
                    .parse()
                    .map_err(|e: CoreError| corrupt(e.to_string()))?,
                element: element.clone(),
            };
            let present: Option<String> = row.try_get(0)?;
            let value = match present {
                Some(_) => Some(row_to_data_value(row)?),
                None => None,
            };
            values.push((key, value));
        }
        Ok(ChangeFeed::Changes {
            last,
            values,
            reloads,
        })
    }

    pub(crate) async fn announce_reload(&self) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO value_changes (element, area_code, period) VALUES ('', '', '')
             RETURNING id",
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("SELECT pg_notify('healthplan_values', '')")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(crate) async fn prune_changes(&self, keep: Duration) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let (n, through): (i64, Option<i64>) = sqlx::query_as(
            "WITH gone AS (DELETE FROM value_changes
                           WHERE at < now() - make_interval(secs => $1) RETURNING id)
             SELECT COUNT(*), MAX(id) FROM gone",
        )
        .bind(keep.as_secs_f64())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(through) = through {
            sqlx::query(
                "UPDATE value_change_floor SET pruned_through = GREATEST(pruned_through, $1)",
            )
            .bind(through)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(n as u64)
    }
}
