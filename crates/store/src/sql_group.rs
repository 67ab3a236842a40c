//! Reporters' saves in groups (compiled per backend like sql.rs): the saves of several
//! callers that arrive together share one transaction, so one commit (one fsync) covers
//! them. Each caller's values are all or nothing inside a savepoint; a caller refused by its
//! own checks fails alone. Inside a caller's values nothing goes row by row: stored versions
//! are read with one query per few hundred keys, new values are multi-row inserts, and the
//! audit rows of the whole group are one multi-row insert chained in order.

use super::sql::{
    audit_row_insert, check_actor, insert_data_values, json_column, last_audit_hash, parse_code,
    row_to_data_value, to_json, update_data_value, AuditRow, Tx, DATA_VALUE_COLUMNS,
};
use super::Backend;
use crate::error::{Result, StoreError};
use crate::model::{data_value_key, AuditAction, PlanIndicator, ValueKey};
use crate::ValueGroup;
use healthplan_access::{ReadScope, ValueWriter};
use healthplan_core::{DataValue, PlanStatus, ValueStatus};
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// Keys per `SELECT … WHERE (…) OR (…)`: 3 parameters each, far below either backend's limit.
const KEYS_PER_QUERY: usize = 300;

/// The stored values at these keys (those that exist), in no particular order.
pub(super) async fn fetch_by_keys(
    ex: &mut <super::Db as sqlx::Database>::Connection,
    keys: &[(&str, &str, String)],
) -> Result<Vec<DataValue>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let mut q = sqlx::QueryBuilder::<super::Db>::new(format!(
            "SELECT {DATA_VALUE_COLUMNS} FROM data_values WHERE "
        ));
        for (i, (e, a, p)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(element = ")
                .push_bind(e.to_string())
                .push(" AND area_code = ")
                .push_bind(a.to_string())
                .push(" AND period = ")
                .push_bind(p.clone())
                .push(")");
        }
        for r in q.build().fetch_all(&mut *ex).await? {
            out.push(row_to_data_value(&r)?);
        }
    }
    Ok(out)
}

impl Backend {
    /// Stored values at these keys that the scope may read (see [`crate::Database`]).
    pub(super) async fn values_at_keys(
        &self,
        scope: &ReadScope,
        keys: &[ValueKey],
    ) -> Result<Vec<DataValue>> {
        let wanted: Vec<(&str, &str, String)> = keys
            .iter()
            .filter(|k| scope.area(&k.area))
            .map(|k| (k.element.as_str(), k.area.as_str(), k.period.to_string()))
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.acquire().await?;
        fetch_by_keys(&mut conn, &wanted).await
    }

    /// Indicators measured by these elements in the plans the scope reads, by plan and
    /// position (see [`crate::Database`]).
    pub(super) async fn linked_indicators(
        &self,
        scope: &ReadScope,
        elements: &[String],
    ) -> Result<Vec<PlanIndicator>> {
        if elements.is_empty() || scope.is_public() {
            return Ok(Vec::new());
        }
        let mut q = sqlx::QueryBuilder::<super::Db>::new(
            "SELECT i.id, i.plan_id, i.idx, i.indicator, p.area_code, p.status
             FROM plan_indicators i JOIN plans p ON p.id = i.plan_id
             WHERE i.element_code IN (",
        );
        let mut sep = q.separated(", ");
        for e in elements {
            sep.push_bind(e.clone());
        }
        sep.push_unseparated(") ORDER BY i.plan_id, i.idx");
        let mut out = Vec::new();
        for r in q.build().fetch_all(&self.pool).await? {
            let id: i64 = r.try_get("id")?;
            let plan_id: i64 = r.try_get("plan_id")?;
            let area: Option<String> = r.try_get("area_code")?;
            let area = area
                .map(|c| parse_code("plan", &plan_id.to_string(), &c))
                .transpose()?;
            let status: String = r.try_get("status")?;
            let status = PlanStatus::parse(&status)
                .map_err(|e| StoreError::corrupt("plan", plan_id.to_string(), e))?;
            if !scope.plan(area.as_ref(), status) {
                continue;
            }
            let idx: i64 = r.try_get("idx")?;
            out.push(PlanIndicator {
                id,
                plan_id,
                index: idx as usize,
                indicator: json_column(&r, "indicator", id)?,
            });
        }
        Ok(out)
    }

    /// Several callers' saves in one transaction (see [`crate::Database`]). When the
    /// transaction itself fails, nothing is stored and every caller hears why.
    pub(super) async fn put_value_groups(
        &self,
        groups: &[ValueGroup<'_>],
    ) -> Vec<Result<Vec<DataValue>>> {
        match self.try_value_groups(groups).await {
            Ok(out) => out,
            Err(e) => {
                let text = e.to_string();
                let mut first = Some(e);
                groups
                    .iter()
                    .map(|_| {
                        Err(first.take().unwrap_or_else(|| {
                            StoreError::Db(sqlx::Error::Protocol(format!(
                                "the group commit failed: {text}"
                            )))
                        }))
                    })
                    .collect()
            }
        }
    }

    async fn try_value_groups(
        &self,
        groups: &[ValueGroup<'_>],
    ) -> Result<Vec<Result<Vec<DataValue>>>> {
        // What needs no database is refused before the transaction.
        let mut out: Vec<Option<Result<Vec<DataValue>>>> = groups
            .iter()
            .map(|(by, values)| precheck(by, values).err().map(Err))
            .collect();
        if out.iter().all(Option::is_some) {
            return Ok(out.into_iter().flatten().collect());
        }
        let many = groups.len() > 1;
        let mut tx = self.begin_write().await?;
        let mut audits: Vec<(String, AuditRow)> = Vec::new();
        for (i, (by, values)) in groups.iter().enumerate() {
            if out[i].is_some() {
                continue;
            }
            if many {
                sqlx::query("SAVEPOINT value_group")
                    .execute(&mut *tx)
                    .await?;
            }
            let result = put_group(&mut tx, by, values).await;
            let result = match result {
                Ok((stored, rows)) => {
                    let actor = by.actor().to_string();
                    audits.extend(rows.into_iter().map(|r| (actor.clone(), r)));
                    Ok(stored)
                }
                Err(e) if many => {
                    // The caller's rows go; the group's other callers stay.
                    sqlx::query("ROLLBACK TO SAVEPOINT value_group")
                        .execute(&mut *tx)
                        .await?;
                    Err(e)
                }
                Err(e) => return Ok(vec![Err(e)]),
            };
            if many {
                sqlx::query("RELEASE SAVEPOINT value_group")
                    .execute(&mut *tx)
                    .await?;
            }
            out[i] = Some(result);
        }
        if !audits.is_empty() {
            let prev = last_audit_hash(&mut tx).await?;
            audit_row_insert(&mut tx, prev, &audits).await?;
        }
        tx.commit().await?;
        Ok(out.into_iter().flatten().collect())
    }
}

/// The checks that need no database: the actor, the capability, the constructor's rules
/// (the fields are public) and the notes.
fn precheck(by: &ValueWriter, values: &[(DataValue, Option<i64>)]) -> Result<()> {
    check_actor(by.actor())?;
    for (v, _) in values {
        by.check(&v.element, &v.area)?;
    }
    for (v, _) in values {
        DataValue::new(&v.element, v.area.clone(), v.period, v.value.clone())?;
        v.check_notes()?;
    }
    Ok(())
}

/// One caller's saves (see `Database::put_data_value` for the rules of each); the stored
/// values and their audit rows. Nothing is written until every value has passed.
async fn put_group(
    tx: &mut Tx,
    by: &ValueWriter,
    values: &[(DataValue, Option<i64>)],
) -> Result<(Vec<DataValue>, Vec<AuditRow>)> {
    let actor = by.actor();
    let keys: Vec<(&str, &str, String)> = values
        .iter()
        .map(|(v, _)| (v.element.as_str(), v.area.as_str(), v.period.to_string()))
        .collect();
    let mut seen = HashSet::with_capacity(keys.len());
    if !keys.iter().all(|k| seen.insert(k)) {
        // The same cell twice: each save must see the one before it, so one at a time.
        return put_one_by_one(tx, by, values).await;
    }
    let existing: HashMap<String, DataValue> = fetch_by_keys(tx, &keys)
        .await?
        .into_iter()
        .map(|v| (data_value_key(&v.element, &v.area, v.period), v))
        .collect();
    let mut stored_all = Vec::with_capacity(values.len());
    let mut audits = Vec::with_capacity(values.len());
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    for (value, expected) in values {
        let key = data_value_key(&value.element, &value.area, value.period);
        let before = existing.get(&key);
        let mut stored = value.clone();
        // Entered values are never demonstration data; the last review note stays visible
        // until the value is approved.
        stored.synthetic = false;
        stored.review_comment = before.and_then(|b| b.review_comment.clone());
        let conflict = |stored: Option<i64>| StoreError::VersionConflict {
            entity: "data value",
            key: key.clone(),
            sent: *expected,
            stored,
        };
        match (before, *expected) {
            (None, None) => {
                if !ValueStatus::Draft.can_become(value.status) {
                    return Err(StoreError::Workflow {
                        key,
                        from: "new",
                        to: value.status.as_str(),
                    });
                }
                stored.version = 1;
                inserts.push(stored.clone());
            }
            (Some(b), Some(v)) if b.version == v => {
                if !b.status.can_become(value.status) {
                    return Err(StoreError::Workflow {
                        key,
                        from: b.status.as_str(),
                        to: value.status.as_str(),
                    });
                }
                updates.push((stored.clone(), v));
                stored.version = v + 1;
            }
            (b, _) => return Err(conflict(b.map(|b| b.version))),
        }
        audits.push(AuditRow {
            key,
            action: AuditAction::upsert(before),
            before: before.map(to_json),
            after: Some(to_json(&stored)),
        });
        stored_all.push(stored);
    }
    insert_data_values(tx, actor, &inserts).await?;
    for (v, expected) in &updates {
        if !update_data_value(tx, actor, v, *expected).await? {
            return Err(StoreError::VersionConflict {
                entity: "data value",
                key: data_value_key(&v.element, &v.area, v.period),
                sent: Some(*expected),
                stored: None,
            });
        }
    }
    Ok((stored_all, audits))
}

/// The same saves one after another, for a caller that sends one cell twice.
async fn put_one_by_one(
    tx: &mut Tx,
    by: &ValueWriter,
    values: &[(DataValue, Option<i64>)],
) -> Result<(Vec<DataValue>, Vec<AuditRow>)> {
    let mut stored_all = Vec::with_capacity(values.len());
    let mut audits = Vec::with_capacity(values.len());
    for pair in values {
        let (mut stored, mut rows) =
            Box::pin(put_group(tx, by, std::slice::from_ref(pair))).await?;
        stored_all.append(&mut stored);
        audits.append(&mut rows);
    }
    Ok((stored_all, audits))
}
