//! The SQL behind [`Mappings`]: the DHIS2 code mapping table planners edit. Every change is
//! audited per row; a table that would map a code twice is refused whole, naming the row.

use super::sql::{audit, check_actor, DbRow, Tx};
use super::Backend;
use crate::error::{Result, StoreError};
use crate::model::{AuditAction, MappingCount, MappingKind, MappingRow};
use crate::{now_utc, Mappings};
use healthplan_access::MappingEditor;
use serde_json::json;
use sqlx::Row;
use std::collections::HashMap;

const ENTITY: &str = "exchange_mapping";

fn row_of(r: &DbRow) -> Result<MappingRow> {
    let kind: String = r.try_get("kind")?;
    let local_code: String = r.try_get("local_code")?;
    let dhis2_code: String = r.try_get("dhis2_code")?;
    let kind = MappingKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
        entity: "mapping row",
        key: local_code.clone(),
        reason: format!("unknown kind {kind:?}"),
    })?;
    Ok(MappingRow {
        kind,
        local_code,
        dhis2_code,
    })
}

/// Trimmed rows, or the first row that is empty or maps a code a second time, by its
/// 1-based number.
pub(super) fn checked(rows: &[MappingRow]) -> Result<Vec<MappingRow>> {
    let mut by_local: HashMap<(MappingKind, &str), usize> = HashMap::new();
    let mut by_dhis2: HashMap<(MappingKind, &str), usize> = HashMap::new();
    let out: Vec<MappingRow> = rows
        .iter()
        .map(|r| MappingRow::new(r.kind, &r.local_code, &r.dhis2_code))
        .collect();
    for (i, r) in out.iter().enumerate() {
        let n = i + 1;
        if r.local_code.is_empty() || r.dhis2_code.is_empty() {
            return Err(StoreError::Invalid(format!(
                "第 {n} 行：代码不能为空 / row {n}: empty code"
            )));
        }
        if let Some(first) = by_local.insert((r.kind, &r.local_code), n) {
            return Err(StoreError::Invalid(format!(
                "第 {n} 行：本地代码 {} 与第 {first} 行重复 / row {n}: local {} code {} is already mapped in row {first}",
                r.local_code,
                r.kind.as_str(),
                r.local_code
            )));
        }
        if let Some(first) = by_dhis2.insert((r.kind, &r.dhis2_code), n) {
            return Err(StoreError::Invalid(format!(
                "第 {n} 行：DHIS2 代码 {} 与第 {first} 行重复 / row {n}: DHIS2 {} code {} is already mapped in row {first}",
                r.dhis2_code,
                r.kind.as_str(),
                r.dhis2_code
            )));
        }
    }
    Ok(out)
}

async fn all_rows(ex: &mut Tx) -> Result<Vec<MappingRow>> {
    let rows = sqlx::query("SELECT kind, local_code, dhis2_code FROM exchange_mapping")
        .fetch_all(&mut **ex)
        .await?;
    rows.iter().map(row_of).collect()
}

async fn insert(tx: &mut Tx, actor: &str, r: &MappingRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO exchange_mapping (kind, local_code, dhis2_code, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(r.kind.as_str())
    .bind(&r.local_code)
    .bind(&r.dhis2_code)
    .bind(now_utc())
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn delete(tx: &mut Tx, r: &MappingRow) -> Result<()> {
    sqlx::query("DELETE FROM exchange_mapping WHERE kind = $1 AND local_code = $2")
        .bind(r.kind.as_str())
        .bind(&r.local_code)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Mappings for Backend {
    async fn list_mapping(&self) -> Result<Vec<MappingRow>> {
        let rows = sqlx::query(
            "SELECT kind, local_code, dhis2_code FROM exchange_mapping ORDER BY kind, local_code",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<MappingRow> = rows.iter().map(row_of).collect::<Result<_>>()?;
        // The kind's text order is not the enum's; sort once here for both backends.
        out.sort_by(|a, b| (a.kind, &a.local_code).cmp(&(b.kind, &b.local_code)));
        Ok(out)
    }

    async fn replace_mapping(
        &self,
        by: &MappingEditor,
        rows: &[MappingRow],
    ) -> Result<MappingCount> {
        check_actor(by.actor())?;
        let rows = checked(rows)?;
        let mut tx = self.begin_write().await?;
        let before: HashMap<(MappingKind, String), MappingRow> = all_rows(&mut tx)
            .await?
            .into_iter()
            .map(|r| ((r.kind, r.local_code.clone()), r))
            .collect();
        let wanted: HashMap<(MappingKind, String), &MappingRow> = rows
            .iter()
            .map(|r| ((r.kind, r.local_code.clone()), r))
            .collect();
        let mut n = MappingCount::default();
        // Removed and changed rows go first, so a DHIS2 code can move between local codes.
        for (k, old) in &before {
            match wanted.get(k) {
                Some(new) if *new == old => n.unchanged += 1,
                Some(_) => delete(&mut tx, old).await?,
                None => {
                    delete(&mut tx, old).await?;
                    audit(
                        &mut tx,
                        by.actor(),
                        ENTITY,
                        &old.key(),
                        AuditAction::Delete,
                        Some(&json!(old)),
                        None,
                    )
                    .await?;
                    n.deleted += 1;
                }
            }
        }
        for r in &rows {
            let old = before.get(&(r.kind, r.local_code.clone()));
            if old == Some(r) {
                continue;
            }
            insert(&mut tx, by.actor(), r).await?;
            let action = if old.is_some() {
                n.updated += 1;
                AuditAction::Update
            } else {
                n.inserted += 1;
                AuditAction::Insert
            };
            audit(
                &mut tx,
                by.actor(),
                ENTITY,
                &r.key(),
                action,
                old.map(|o| json!(o)).as_ref(),
                Some(&json!(r)),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn put_mapping_row(&self, by: &MappingEditor, row: &MappingRow) -> Result<()> {
        check_actor(by.actor())?;
        let row = checked(std::slice::from_ref(row))?.remove(0);
        let mut tx = self.begin_write().await?;
        let taken: Option<String> = sqlx::query_scalar(
            "SELECT local_code FROM exchange_mapping
             WHERE kind = $1 AND dhis2_code = $2 AND local_code <> $3",
        )
        .bind(row.kind.as_str())
        .bind(&row.dhis2_code)
        .bind(&row.local_code)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(other) = taken {
            return Err(StoreError::Invalid(format!(
                "DHIS2 代码 {} 已映射到 {other} / DHIS2 {} code {} is already mapped to {other}",
                row.dhis2_code,
                row.kind.as_str(),
                row.dhis2_code
            )));
        }
        let before = sqlx::query(
            "SELECT kind, local_code, dhis2_code FROM exchange_mapping
             WHERE kind = $1 AND local_code = $2",
        )
        .bind(row.kind.as_str())
        .bind(&row.local_code)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| row_of(&r))
        .transpose()?;
        if before.as_ref() == Some(&row) {
            return Ok(());
        }
        if let Some(b) = &before {
            delete(&mut tx, b).await?;
        }
        insert(&mut tx, by.actor(), &row).await?;
        let action = AuditAction::upsert(before.as_ref());
        audit(
            &mut tx,
            by.actor(),
            ENTITY,
            &row.key(),
            action,
            before.map(|b| json!(b)).as_ref(),
            Some(&json!(row)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_mapping_row(
        &self,
        by: &MappingEditor,
        kind: MappingKind,
        local_code: &str,
    ) -> Result<()> {
        check_actor(by.actor())?;
        let mut tx = self.begin_write().await?;
        let before = sqlx::query(
            "SELECT kind, local_code, dhis2_code FROM exchange_mapping
             WHERE kind = $1 AND local_code = $2",
        )
        .bind(kind.as_str())
        .bind(local_code.trim())
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| row_of(&r))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound {
            entity: "mapping row",
            key: format!("{}:{}", kind.as_str(), local_code.trim()),
        })?;
        delete(&mut tx, &before).await?;
        audit(
            &mut tx,
            by.actor(),
            ENTITY,
            &before.key(),
            AuditAction::Delete,
            Some(&json!(before)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
