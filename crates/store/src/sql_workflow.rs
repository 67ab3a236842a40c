//! The SQL behind [`Workflow`]: reporting rounds, task progress reports and their evidence.
//! Compiled into each backend beside sql.rs.

use super::sql::{
    audit, check_actor, check_plan_readable, enum_str, fetch_plan_head, parse_code, parse_enum,
    parse_period, review_comment, to_json, DbRow, Tx,
};
use super::{Backend, Db};
use crate::error::{is_foreign_key_violation, Result, StoreError};
use crate::model::{AuditAction, EvidenceFile, EvidenceMeta, TaskKey};
use crate::{now_utc, Workflow};
use healthplan_access::{ProgressWriter, ReadScope, Reviewer, RoundManager, UserAdmin};
use healthplan_core::{
    AreaCode, Date, NewRound, ReviewDecision, Round, TaskProgress, TaskStatus, ValueStatus,
};
use sha2::{Digest, Sha256};
use sqlx::Row;

const PROGRESS_COLUMNS: &str =
    "plan_id, task_key, area_code, period, status, note, workflow, version, review_comment";

fn row_to_task_progress(row: &DbRow) -> Result<TaskProgress> {
    let plan_id: i64 = row.try_get("plan_id")?;
    let task_id: String = row.try_get("task_key")?;
    let area: String = row.try_get("area_code")?;
    let period: String = row.try_get("period")?;
    let key = format!("{plan_id}/{task_id}/{area}/{period}");
    let status: String = row.try_get("status")?;
    let workflow: String = row.try_get("workflow")?;
    Ok(TaskProgress {
        area: parse_code("task progress", &key, &area)?,
        period: parse_period("task progress", &key, &period)?,
        status: parse_enum::<TaskStatus>("task progress", &key, &status)?,
        workflow: ValueStatus::parse(&workflow)
            .map_err(|e| StoreError::corrupt("task progress", &key, e))?,
        note: row.try_get("note")?,
        version: row.try_get("version")?,
        review_comment: row.try_get("review_comment")?,
        plan_id,
        task_id,
    })
}

fn task_key(p: &TaskProgress) -> TaskKey {
    TaskKey {
        plan_id: p.plan_id,
        task_id: p.task_id.clone(),
        area: p.area.clone(),
        period: p.period,
    }
}

async fn fetch_progress(tx: &mut Tx, key: &TaskKey) -> Result<Option<TaskProgress>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PROGRESS_COLUMNS} FROM task_progress
         WHERE plan_id = $1 AND task_key = $2 AND area_code = $3 AND period = $4"
    )))
    .bind(key.plan_id)
    .bind(&key.task_id)
    .bind(key.area.as_str())
    .bind(key.period.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(row_to_task_progress).transpose()
}

async fn four_eyes_required(tx: &mut Tx) -> Result<bool> {
    let v: Option<String> =
        sqlx::query_scalar("SELECT value FROM instance_settings WHERE key = 'four_eyes'")
            .fetch_optional(&mut **tx)
            .await?;
    Ok(v.as_deref() != Some("off"))
}

/// Four eyes on an approval (see [`Reviewer::check_not_submitter`]).
pub(super) async fn check_four_eyes(
    tx: &mut Tx,
    by: &Reviewer,
    decision: ReviewDecision,
    submitter: &str,
    key: &str,
) -> Result<()> {
    if decision == ReviewDecision::Approve {
        by.check_not_submitter(submitter, key, four_eyes_required(tx).await?)?;
    }
    Ok(())
}

/// The task exists, the report's area is in its plan's tree and the caller's areas (else
/// not found, as for reads, so a refusal reveals nothing), and the caller's departments
/// answer for it.
async fn check_task(tx: &mut Tx, by: &ProgressWriter, key: &TaskKey) -> Result<()> {
    let row: Option<Option<String>> = sqlx::query_scalar(
        "SELECT p.area_code FROM plan_tasks t JOIN plans p ON p.id = t.plan_id
         WHERE t.plan_id = $1 AND t.task_key = $2",
    )
    .bind(key.plan_id)
    .bind(&key.task_id)
    .fetch_optional(&mut **tx)
    .await?;
    let visible = match row {
        Some(plan_area) => {
            let plan_area = plan_area.map(|a| AreaCode::parse(&a)).transpose()?;
            by.within_plan(plan_area.as_ref(), &key.area)
        }
        None => false,
    };
    if !visible {
        return Err(StoreError::NotFound {
            entity: "task",
            key: format!("{} of plan {}", key.task_id, key.plan_id),
        });
    }
    Ok(by.check(key.plan_id, &key.task_id, &key.area)?)
}

fn area_error(key: &TaskKey) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| {
        if is_foreign_key_violation(&e) {
            StoreError::Invalid(format!(
                "task report {key}: area {} is not a known area",
                key.area
            ))
        } else {
            e.into()
        }
    }
}

async fn write_progress(tx: &mut Tx, actor: &str, p: &TaskProgress) -> Result<()> {
    sqlx::query(
        "INSERT INTO task_progress (plan_id, task_key, area_code, period, status, note,
             updated_by, updated_at, workflow, version, review_comment)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (plan_id, task_key, area_code, period) DO UPDATE SET
             status = excluded.status, note = excluded.note,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at,
             workflow = excluded.workflow, version = excluded.version,
             review_comment = excluded.review_comment",
    )
    .bind(p.plan_id)
    .bind(&p.task_id)
    .bind(p.area.as_str())
    .bind(p.period.to_string())
    .bind(enum_str(&p.status))
    .bind(&p.note)
    .bind(actor)
    .bind(now_utc())
    .bind(p.workflow.as_str())
    .bind(p.version)
    .bind(&p.review_comment)
    .execute(&mut **tx)
    .await
    .map_err(area_error(&task_key(p)))?;
    Ok(())
}

async fn fetch_round(ex: &mut <Db as sqlx::Database>::Connection, id: i64) -> Result<Round> {
    let row = sqlx::query(
        "SELECT id, plan_id, title, period, deadline, open, created_by, created_at
         FROM rounds WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *ex)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "round",
        key: id.to_string(),
    })?;
    let key = id.to_string();
    let period: String = row.try_get("period")?;
    let deadline: String = row.try_get("deadline")?;
    let areas: Vec<String> = sqlx::query_scalar(
        "SELECT area_code FROM round_areas WHERE round_id = $1 ORDER BY area_code",
    )
    .bind(id)
    .fetch_all(&mut *ex)
    .await?;
    let departments: Vec<String> = sqlx::query_scalar(
        "SELECT department FROM round_departments WHERE round_id = $1 ORDER BY department",
    )
    .bind(id)
    .fetch_all(&mut *ex)
    .await?;
    Ok(Round {
        id,
        plan_id: row.try_get("plan_id")?,
        title: row.try_get("title")?,
        period: parse_period("round", &key, &period)?,
        deadline: Date::parse(&deadline).map_err(|e| StoreError::corrupt("round", &key, e))?,
        areas: areas
            .iter()
            .map(|a| parse_code("round", &key, a))
            .collect::<Result<_>>()?,
        departments,
        open: row.try_get("open")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Whether a scope sees a round: it reads the plan, or is asked to report in it.
async fn round_readable(
    ex: &mut <Db as sqlx::Database>::Connection,
    scope: &ReadScope,
    round: &Round,
) -> Result<bool> {
    if scope.is_public() {
        return Ok(false);
    }
    if round.areas.iter().any(|a| scope.area(a)) {
        return Ok(true);
    }
    Ok(check_plan_readable(ex, scope, round.plan_id).await.is_ok())
}

fn evidence_meta(r: &DbRow) -> Result<EvidenceMeta> {
    let id: i64 = r.try_get("id")?;
    let key = id.to_string();
    let area: String = r.try_get("area_code")?;
    let period: String = r.try_get("period")?;
    Ok(EvidenceMeta {
        id,
        plan_id: r.try_get("plan_id")?,
        task_id: r.try_get("task_key")?,
        area: parse_code("evidence", &key, &area)?,
        period: parse_period("evidence", &key, &period)?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

const EVIDENCE_COLUMNS: &str = "id, plan_id, task_key, area_code, period, file_name, content_type,
     size, sha256, uploaded_by, uploaded_at";

impl Workflow for Backend {
    async fn open_round(&self, by: &RoundManager, round: &NewRound) -> Result<Round> {
        let actor = by.actor();
        check_actor(actor)?;
        round.validate()?;
        let mut tx = self.begin_write().await?;
        let head = fetch_plan_head(&mut tx, round.plan_id).await?;
        by.check_optional_area(head.area_code.as_ref())?;
        for a in &round.areas {
            by.check_area(a)?;
        }
        let now = now_utc();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rounds (plan_id, title, period, deadline, open, created_by, created_at)
             VALUES ($1, $2, $3, $4, TRUE, $5, $6) RETURNING id",
        )
        .bind(round.plan_id)
        .bind(round.title.trim())
        .bind(round.period.to_string())
        .bind(round.deadline.to_string())
        .bind(actor)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let mut areas: Vec<&AreaCode> = round.areas.iter().collect();
        areas.sort();
        areas.dedup();
        for a in areas {
            sqlx::query("INSERT INTO round_areas (round_id, area_code) VALUES ($1, $2)")
                .bind(id)
                .bind(a.as_str())
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    if is_foreign_key_violation(&e) {
                        StoreError::Invalid(format!("round: area {a} is not a known area"))
                    } else {
                        e.into()
                    }
                })?;
        }
        let mut departments: Vec<&str> = round.departments.iter().map(|d| d.trim()).collect();
        departments.sort();
        departments.dedup();
        for d in departments {
            sqlx::query("INSERT INTO round_departments (round_id, department) VALUES ($1, $2)")
                .bind(id)
                .bind(d)
                .execute(&mut *tx)
                .await?;
        }
        let stored = fetch_round(&mut tx, id).await?;
        audit(
            &mut tx,
            actor,
            "round",
            &id.to_string(),
            AuditAction::Insert,
            None,
            Some(&to_json(&stored)),
        )
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn close_round(&self, by: &RoundManager, id: i64) -> Result<()> {
        let actor = by.actor();
        let mut tx = self.begin_write().await?;
        let round = fetch_round(&mut tx, id).await?;
        let head = fetch_plan_head(&mut tx, round.plan_id).await?;
        by.check_optional_area(head.area_code.as_ref())?;
        sqlx::query("UPDATE rounds SET open = FALSE WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            actor,
            "round",
            &id.to_string(),
            AuditAction::Update,
            Some(&serde_json::json!({"open": round.open})),
            Some(&serde_json::json!({"open": false})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_rounds(&self, scope: &ReadScope) -> Result<Vec<Round>> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM rounds ORDER BY id DESC")
            .fetch_all(&mut *conn)
            .await?;
        let mut out = Vec::new();
        for id in ids {
            let r = fetch_round(&mut conn, id).await?;
            if round_readable(&mut conn, scope, &r).await? {
                out.push(r);
            }
        }
        Ok(out)
    }

    async fn round(&self, scope: &ReadScope, id: i64) -> Result<Round> {
        let mut conn = self.pool.acquire().await?;
        let r = fetch_round(&mut conn, id).await?;
        if !round_readable(&mut conn, scope, &r).await? {
            return Err(StoreError::NotFound {
                entity: "round",
                key: id.to_string(),
            });
        }
        Ok(r)
    }

    async fn put_task_progress(
        &self,
        by: &ProgressWriter,
        progress: &TaskProgress,
        expected_version: Option<i64>,
    ) -> Result<TaskProgress> {
        let actor = by.actor();
        check_actor(actor)?;
        progress.period.check()?;
        healthplan_core::validate::check_note("note", &progress.note)?;
        let key = task_key(progress);
        let mut tx = self.begin_write().await?;
        check_task(&mut tx, by, &key).await?;
        let before = fetch_progress(&mut tx, &key).await?;
        let from = before.as_ref().map_or(ValueStatus::Draft, |b| b.workflow);
        if before.as_ref().map(|b| b.version) != expected_version {
            return Err(StoreError::VersionConflict {
                entity: "task report",
                key: key.to_string(),
                sent: expected_version,
                stored: before.as_ref().map(|b| b.version),
            });
        }
        if !from.can_become(progress.workflow) {
            return Err(StoreError::Workflow {
                key: key.to_string(),
                from: from.as_str(),
                to: progress.workflow.as_str(),
            });
        }
        let mut stored = progress.clone();
        stored.version = before.as_ref().map_or(1, |b| b.version + 1);
        stored.review_comment = before.as_ref().and_then(|b| b.review_comment.clone());
        write_progress(&mut tx, actor, &stored).await?;
        let action = AuditAction::upsert(before.as_ref());
        let before = before.as_ref().map(to_json);
        audit(
            &mut tx,
            actor,
            "task_progress",
            &key.to_string(),
            action,
            before.as_ref(),
            Some(&to_json(&stored)),
        )
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn review_task_progress(
        &self,
        by: &Reviewer,
        key: &TaskKey,
        expected_version: i64,
        decision: ReviewDecision,
        comment: Option<&str>,
    ) -> Result<TaskProgress> {
        let actor = by.actor();
        by.check_area(&key.area)?;
        let comment = review_comment(decision, comment)?;
        let mut tx = self.begin_write().await?;
        let Some(before) = fetch_progress(&mut tx, key).await? else {
            return Err(StoreError::NotFound {
                entity: "task report",
                key: key.to_string(),
            });
        };
        if before.version != expected_version {
            return Err(StoreError::VersionConflict {
                entity: "task report",
                key: key.to_string(),
                sent: Some(expected_version),
                stored: Some(before.version),
            });
        }
        let Some(next) = before.workflow.review(decision) else {
            return Err(StoreError::Workflow {
                key: key.to_string(),
                from: before.workflow.as_str(),
                to: decision.as_str(),
            });
        };
        let submitter: String = sqlx::query_scalar(
            "SELECT updated_by FROM task_progress
             WHERE plan_id = $1 AND task_key = $2 AND area_code = $3 AND period = $4",
        )
        .bind(key.plan_id)
        .bind(&key.task_id)
        .bind(key.area.as_str())
        .bind(key.period.to_string())
        .fetch_one(&mut *tx)
        .await?;
        check_four_eyes(&mut tx, by, decision, &submitter, &key.to_string()).await?;
        let mut after = before.clone();
        after.workflow = next;
        after.review_comment = comment;
        after.version += 1;
        write_progress(&mut tx, actor, &after).await?;
        audit(
            &mut tx,
            actor,
            "task_progress",
            &key.to_string(),
            AuditAction::Update,
            Some(&to_json(&before)),
            Some(&to_json(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn list_task_progress(
        &self,
        scope: &ReadScope,
        plan_id: i64,
    ) -> Result<Vec<TaskProgress>> {
        let mut conn = self.pool.acquire().await?;
        check_plan_readable(&mut conn, scope, plan_id).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PROGRESS_COLUMNS} FROM task_progress
             WHERE plan_id = $1 ORDER BY task_key, area_code, period"
        )))
        .bind(plan_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let p = row_to_task_progress(r)?;
            if scope.area(&p.area) {
                out.push(p);
            }
        }
        Ok(out)
    }

    async fn add_evidence(
        &self,
        by: &ProgressWriter,
        key: &TaskKey,
        file: &EvidenceFile,
    ) -> Result<i64> {
        let actor = by.actor();
        check_actor(actor)?;
        let mut tx = self.begin_write().await?;
        check_task(&mut tx, by, key).await?;
        let sha = Sha256::digest(&file.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        let size = i64::try_from(file.bytes.len())
            .map_err(|_| StoreError::Invalid("the file is too large".into()))?;
        let now = now_utc();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO evidence (plan_id, task_key, area_code, period, file_name, content_type,
                 size, sha256, data, uploaded_by, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(key.plan_id)
        .bind(&key.task_id)
        .bind(key.area.as_str())
        .bind(key.period.to_string())
        .bind(&file.file_name)
        .bind(&file.content_type)
        .bind(size)
        .bind(&sha)
        .bind(&file.bytes)
        .bind(actor)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(area_error(key))?;
        audit(
            &mut tx,
            actor,
            "evidence",
            &id.to_string(),
            AuditAction::Insert,
            None,
            Some(&serde_json::json!({
                "task": key.to_string(), "file_name": file.file_name,
                "content_type": file.content_type, "size": size, "sha256": sha,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn list_evidence(&self, scope: &ReadScope, key: &TaskKey) -> Result<Vec<EvidenceMeta>> {
        if !scope.area(&key.area) {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVIDENCE_COLUMNS} FROM evidence
             WHERE plan_id = $1 AND task_key = $2 AND area_code = $3 AND period = $4 ORDER BY id"
        )))
        .bind(key.plan_id)
        .bind(&key.task_id)
        .bind(key.area.as_str())
        .bind(key.period.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(evidence_meta).collect()
    }

    async fn evidence(&self, scope: &ReadScope, id: i64) -> Result<(EvidenceMeta, Vec<u8>)> {
        let not_found = || StoreError::NotFound {
            entity: "evidence",
            key: id.to_string(),
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVIDENCE_COLUMNS}, data FROM evidence WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(not_found)?;
        let meta = evidence_meta(&row)?;
        if !scope.area(&meta.area) {
            return Err(not_found());
        }
        Ok((meta, row.try_get("data")?))
    }

    async fn four_eyes(&self) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let on = four_eyes_required(&mut tx).await?;
        tx.commit().await?;
        Ok(on)
    }

    async fn set_four_eyes(&self, by: &UserAdmin, required: bool) -> Result<()> {
        let actor = by.actor();
        check_actor(actor)?;
        let mut tx = self.begin_write().await?;
        let before = four_eyes_required(&mut tx).await?;
        let value = if required { "on" } else { "off" };
        sqlx::query(
            "INSERT INTO instance_settings (key, value) VALUES ('four_eyes', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(value)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "setting",
            "four_eyes",
            AuditAction::Update,
            Some(&serde_json::json!({ "required": before })),
            Some(&serde_json::json!({ "required": required })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
