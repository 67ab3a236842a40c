//! The SQL behind [`Alerts`]: findings become alerts when a subject's state changes into an
//! alarming one; people acknowledge, comment and close them. Compiled into each backend.

use super::sql::{audit, check_actor, parse_code, DbRow};
use super::{Backend, Db};
use crate::error::{Result, StoreError};
use crate::model::{AlertFilter, AuditAction, ValueKey};
use crate::{now_utc, Alerts};
use healthplan_access::{AlertHandler, ReadScope, RegistryAdmin};
use healthplan_core::{
    Alert, AlertAction, AlertComment, AlertKind, AlertLevel, AlertStatus, Finding, SeriesStep,
    WatchedSeries,
};
use serde_json::json;
use sqlx::Row;

const ALERT_COLUMNS: &str = "id, kind, state, severity, plan_id, indicator, round_id, area_code,
     element, period, department, title_zh, title_en, message_zh, message_en, link, status,
     created_at, updated_at";

/// The system records state changes and raises alerts; people only handle them.
const SYSTEM: &str = "system";

fn row_to_alert(r: &DbRow) -> Result<Alert> {
    let id: i64 = r.try_get("id")?;
    let key = id.to_string();
    let corrupt = |e: healthplan_core::CoreError| StoreError::corrupt("alert", &key, e);
    let kind: String = r.try_get("kind")?;
    let level: String = r.try_get("severity")?;
    let status: String = r.try_get("status")?;
    let area: String = r.try_get("area_code")?;
    Ok(Alert {
        id,
        kind: AlertKind::parse(&kind).map_err(corrupt)?,
        state: r.try_get("state")?,
        level: AlertLevel::parse(&level).map_err(corrupt)?,
        plan_id: r.try_get("plan_id")?,
        indicator: r.try_get("indicator")?,
        round_id: r.try_get("round_id")?,
        area: parse_code("alert", &key, &area)?,
        element: r.try_get("element")?,
        period: r.try_get("period")?,
        department: r.try_get("department")?,
        title_zh: r.try_get("title_zh")?,
        title_en: r.try_get("title_en")?,
        message_zh: r.try_get("message_zh")?,
        message_en: r.try_get("message_en")?,
        link: r.try_get("link")?,
        status: AlertStatus::parse(&status).map_err(corrupt)?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

async fn fetch_alert(ex: &mut <Db as sqlx::Database>::Connection, id: i64) -> Result<Alert> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *ex)
    .await?
    .ok_or_else(|| not_found(id))?;
    row_to_alert(&row)
}

fn row_to_watched(r: &DbRow) -> Result<WatchedSeries> {
    let element: String = r.try_get("element")?;
    let step: String = r.try_get("step")?;
    let corrupt =
        |e: healthplan_core::CoreError| StoreError::corrupt("watched series", &element, e);
    let department: Option<String> = r.try_get("department")?;
    WatchedSeries::new(
        &element,
        SeriesStep::parse(&step).map_err(corrupt)?,
        department.as_deref(),
    )
    .map_err(corrupt)
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound {
        entity: "alert",
        key: id.to_string(),
    }
}

impl Backend {
    /// Records findings and, for an approval's check, the count in the value's audit log.
    async fn record(&self, cause: Option<&ValueKey>, findings: &[Finding]) -> Result<Vec<Alert>> {
        let mut tx = self.begin_write().await?;
        let now = now_utc();
        let mut raised = Vec::new();
        for f in findings {
            let last: Option<String> =
                sqlx::query_scalar("SELECT state FROM alert_state WHERE subject = $1")
                    .bind(&f.subject)
                    .fetch_optional(&mut *tx)
                    .await?;
            if last.as_deref() == Some(f.state.as_str()) {
                continue;
            }
            sqlx::query(
                "INSERT INTO alert_state (subject, state, at) VALUES ($1, $2, $3)
                 ON CONFLICT (subject) DO UPDATE SET state = excluded.state, at = excluded.at",
            )
            .bind(&f.subject)
            .bind(&f.state)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            if !f.alarming {
                continue;
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO alerts (kind, subject, state, plan_id, indicator, round_id, area_code,
                     element, period, department, severity, title_zh, title_en, message_zh,
                     message_en, link, status, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                     'open', $17, $17)
                 RETURNING id",
            )
            .bind(f.kind.as_str())
            .bind(&f.subject)
            .bind(&f.state)
            .bind(f.plan_id)
            .bind(f.indicator.map(|i| i as i64))
            .bind(f.round_id)
            .bind(f.area.as_str())
            .bind(&f.element)
            .bind(&f.period)
            .bind(&f.department)
            .bind(f.level.as_str())
            .bind(&f.title_zh)
            .bind(&f.title_en)
            .bind(&f.message_zh)
            .bind(&f.message_en)
            .bind(&f.link)
            .bind(&now)
            .fetch_one(&mut *tx)
            .await?;
            audit(
                &mut tx,
                SYSTEM,
                "alert",
                &id.to_string(),
                AuditAction::Insert,
                last.map(|l| json!({"state": l})).as_ref(),
                Some(&json!({"subject": f.subject, "state": f.state, "title": f.title_zh})),
            )
            .await?;
            raised.push(fetch_alert(&mut tx, id).await?);
        }
        if let Some(k) = cause {
            let ids: Vec<i64> = raised.iter().map(|a: &Alert| a.id).collect();
            audit(
                &mut tx,
                SYSTEM,
                "data_value",
                &k.to_string(),
                AuditAction::Update,
                None,
                Some(&json!({"alerts_raised": raised.len(), "alert_ids": ids})),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(raised)
    }
}

impl Alerts for Backend {
    async fn record_findings(&self, findings: &[Finding]) -> Result<Vec<Alert>> {
        self.record(None, findings).await
    }

    async fn record_approval_findings(
        &self,
        value: &ValueKey,
        findings: &[Finding],
    ) -> Result<Vec<Alert>> {
        self.record(Some(value), findings).await
    }

    async fn list_alerts(&self, scope: &ReadScope, filter: &AlertFilter) -> Result<Vec<Alert>> {
        let mut q = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE 1 = 1"
        ));
        if let Some(s) = filter.status {
            q.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(k) = filter.kind {
            q.push(" AND kind = ").push_bind(k.as_str());
        }
        if let Some(p) = filter.plan_id {
            q.push(" AND plan_id = ").push_bind(p);
        }
        q.push(" ORDER BY id DESC");
        let rows = q.build().fetch_all(&self.pool).await?;
        let mut out = Vec::new();
        for r in &rows {
            let a = row_to_alert(r)?;
            if scope.area(&a.area) {
                out.push(a);
            }
            if filter.limit.is_some_and(|l| out.len() as i64 >= l) {
                break;
            }
        }
        Ok(out)
    }

    async fn alert(&self, scope: &ReadScope, id: i64) -> Result<(Alert, Vec<AlertComment>)> {
        let mut conn = self.pool.acquire().await?;
        let a = fetch_alert(&mut conn, id).await?;
        if !scope.area(&a.area) {
            return Err(not_found(id));
        }
        let rows = sqlx::query(
            "SELECT author, at, text FROM alert_comments WHERE alert_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let comments = rows
            .iter()
            .map(|r| {
                Ok(AlertComment {
                    author: r.try_get("author")?,
                    at: r.try_get("at")?,
                    text: r.try_get("text")?,
                })
            })
            .collect::<Result<_>>()?;
        Ok((a, comments))
    }

    async fn handle_alert(
        &self,
        by: &AlertHandler,
        id: i64,
        action: Option<AlertAction>,
        comment: Option<&str>,
    ) -> Result<Alert> {
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if action.is_none() && comment.is_none() {
            return Err(StoreError::Invalid(
                "nothing to record / 没有要记录的内容".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let before = fetch_alert(&mut tx, id).await?;
        by.check(&before.area, before.department.as_deref())?;
        let now = now_utc();
        let mut after = before.clone();
        if let Some(action) = action {
            let Some(next) = action.apply(before.status) else {
                return Err(StoreError::Workflow {
                    key: format!("alert {id}"),
                    from: before.status.as_str(),
                    to: action.as_str(),
                });
            };
            sqlx::query("UPDATE alerts SET status = $1, updated_at = $2 WHERE id = $3")
                .bind(next.as_str())
                .bind(&now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            after.status = next;
            after.updated_at = now.clone();
        }
        if let Some(text) = comment {
            sqlx::query(
                "INSERT INTO alert_comments (alert_id, author, at, text) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(by.actor())
            .bind(&now)
            .bind(text)
            .execute(&mut *tx)
            .await?;
        }
        audit(
            &mut tx,
            by.actor(),
            "alert",
            &id.to_string(),
            AuditAction::Update,
            Some(&json!({"status": before.status})),
            Some(&json!({"status": after.status, "comment": comment})),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
    async fn alert_states(
        &self,
        prefix: &str,
    ) -> Result<std::collections::HashMap<String, String>> {
        let rows = sqlx::query(
            "SELECT subject, state FROM alert_state WHERE substr(subject, 1, length($1)) = $1",
        )
        .bind(prefix)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("subject")?, r.try_get("state")?)))
            .collect()
    }

    async fn list_watched(&self) -> Result<Vec<WatchedSeries>> {
        let rows =
            sqlx::query("SELECT element, step, department FROM watched_series ORDER BY element")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(row_to_watched).collect()
    }

    async fn put_watched(&self, by: &RegistryAdmin, series: &WatchedSeries) -> Result<()> {
        check_actor(by.actor())?;
        let mut tx = self.begin_write().await?;
        let declared: Option<String> =
            sqlx::query_scalar("SELECT code FROM data_elements WHERE code = $1")
                .bind(&series.element)
                .fetch_optional(&mut *tx)
                .await?;
        if declared.is_none() {
            return Err(StoreError::NotFound {
                entity: "data element",
                key: series.element.clone(),
            });
        }
        let before =
            sqlx::query("SELECT element, step, department FROM watched_series WHERE element = $1")
                .bind(&series.element)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| row_to_watched(&r))
                .transpose()?;
        if before.as_ref() == Some(series) {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO watched_series (element, step, department, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (element) DO UPDATE SET step = excluded.step,
                 department = excluded.department, updated_at = excluded.updated_at,
                 updated_by = excluded.updated_by",
        )
        .bind(&series.element)
        .bind(series.step.as_str())
        .bind(&series.department)
        .bind(now_utc())
        .bind(by.actor())
        .execute(&mut *tx)
        .await?;
        let action = AuditAction::upsert(before.as_ref());
        audit(
            &mut tx,
            by.actor(),
            "watched_series",
            &series.element,
            action,
            before.map(|b| json!(b)).as_ref(),
            Some(&json!(series)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_watched(&self, by: &RegistryAdmin, element: &str) -> Result<()> {
        check_actor(by.actor())?;
        let mut tx = self.begin_write().await?;
        let before =
            sqlx::query("SELECT element, step, department FROM watched_series WHERE element = $1")
                .bind(element)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| row_to_watched(&r))
                .transpose()?
                .ok_or_else(|| StoreError::NotFound {
                    entity: "watched series",
                    key: element.to_string(),
                })?;
        sqlx::query("DELETE FROM watched_series WHERE element = $1")
            .bind(element)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            by.actor(),
            "watched_series",
            element,
            AuditAction::Delete,
            Some(&json!(before)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn surveillance_settings(&self) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT toml FROM surveillance_settings WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn put_surveillance_settings(&self, by: &RegistryAdmin, toml: &str) -> Result<()> {
        check_actor(by.actor())?;
        let mut tx = self.begin_write().await?;
        let before: Option<String> =
            sqlx::query_scalar("SELECT toml FROM surveillance_settings WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO surveillance_settings (id, toml, updated_at, updated_by)
             VALUES (1, $1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET toml = excluded.toml,
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(toml)
        .bind(now_utc())
        .bind(by.actor())
        .execute(&mut *tx)
        .await?;
        let action = AuditAction::upsert(before.as_ref());
        audit(
            &mut tx,
            by.actor(),
            "surveillance_settings",
            "1",
            action,
            before.map(|b| json!({ "toml": b })).as_ref(),
            Some(&json!({ "toml": toml })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
