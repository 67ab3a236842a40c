//! The SQL behind [`Database`], written once and compiled for each backend: sqlite.rs and
//! postgres.rs both include this file as a module, each with its own `Db` and `Backend`.
//! Both databases speak `$n` placeholders, `RETURNING` and `ON CONFLICT`; the schema
//! differences (JSONB, identity columns, trigger syntax) live in the migrations.

use super::{Backend, Db};
use crate::error::{is_foreign_key_violation, is_unique_violation, Result, StoreError};
use crate::model::{
    data_value_key, AuditAction, AuditCheck, AuditEntry, AuditFilter, DataValueFilter, ImportCount,
    Numeric, NumericScan, NumericValue, PlanIndicator, PlanSummary, PlanTask, Publication,
    ResponsibilityRows, ValueKey, ValueRecord,
};
use crate::{now_utc, Database, TABLES};
use healthplan_access::{BulkWriter, PlanEditor, ReadScope, RegistryAdmin, Reviewer, ValueWriter};
use healthplan_core::{
    element_match_key, Aggregation, Area, AreaCode, AreaLevel, CoreError, DataElement, DataValue,
    Department, Period, PlanDocument, PlanStatus, ReviewDecision, Section, Task, Value,
    ValueStatus, ValueType,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as JsonValue;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Row};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::ControlFlow;
use std::str::FromStr;

pub(super) type Tx = sqlx::Transaction<'static, Db>;
pub(super) type DbRow = <Db as sqlx::Database>::Row;

pub(super) fn check_actor(actor: &str) -> Result<()> {
    if actor.trim().is_empty() {
        return Err(StoreError::Invalid(
            "the actor (who makes the change) must not be empty".into(),
        ));
    }
    Ok(())
}

/// Domain types always serialise; `Null` keeps this total without a panic path.
pub(super) fn to_json<T: Serialize>(v: &T) -> JsonValue {
    serde_json::to_value(v).unwrap_or(JsonValue::Null)
}

/// The serde name of a unit-like enum variant (`"higher"`, `"in_progress"` …).
pub(super) fn enum_str<T: Serialize>(v: &T) -> String {
    match to_json(v) {
        JsonValue::String(s) => s,
        other => other.to_string(),
    }
}

pub(super) fn parse_enum<T: DeserializeOwned>(
    entity: &'static str,
    key: &str,
    s: &str,
) -> Result<T> {
    serde_json::from_value(JsonValue::String(s.to_string()))
        .map_err(|e| StoreError::corrupt(entity, key, format!("{s:?}: {e}")))
}

/// A JSON column decoded into a domain type; a row that does not fit is `Corrupt`, naming it.
pub(super) fn json_column<T: DeserializeOwned>(
    r: &<Db as sqlx::Database>::Row,
    column: &'static str,
    id: i64,
) -> Result<T> {
    let Json(v): Json<JsonValue> = r.try_get(column)?;
    serde_json::from_value(v).map_err(|e| StoreError::corrupt(column, id.to_string(), e))
}

pub(super) fn parse_code(entity: &'static str, key: &str, s: &str) -> Result<AreaCode> {
    AreaCode::parse(s).map_err(|e| StoreError::corrupt(entity, key, e))
}

pub(super) fn parse_period(entity: &'static str, key: &str, s: &str) -> Result<Period> {
    s.parse::<Period>()
        .map_err(|e| StoreError::corrupt(entity, key, e))
}

pub(super) async fn audit(
    tx: &mut Tx,
    actor: &str,
    entity: &str,
    key: &str,
    action: AuditAction,
    before: Option<&JsonValue>,
    after: Option<&JsonValue>,
) -> Result<()> {
    let at = now_utc();
    let prev = last_audit_hash(tx).await?;
    let hash = crate::audit_hash(
        &prev,
        [&at, actor, entity, key, action.as_str()],
        before,
        after,
    );
    sqlx::query(
        "INSERT INTO audit_log (at, actor, entity, entity_key, action, before, after, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&at)
    .bind(actor)
    .bind(entity)
    .bind(key)
    .bind(action.as_str())
    .bind(before.map(Json))
    .bind(after.map(Json))
    .bind(hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The hash of the newest audit row ("" before the first); writers hold the write lock.
async fn last_audit_hash(tx: &mut Tx) -> Result<String> {
    let h: Option<Option<String>> =
        sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    Ok(h.flatten().unwrap_or_default())
}

// ---- areas -------------------------------------------------------------------------------

fn row_to_area(row: &DbRow) -> Result<Area> {
    let code: String = row.try_get("code")?;
    let level: String = row.try_get("level")?;
    let parent: Option<String> = row.try_get("parent_code")?;
    Ok(Area {
        code: parse_code("area", &code, &code)?,
        name: row.try_get("name")?,
        level: AreaLevel::from_str(&level).map_err(|e| StoreError::corrupt("area", &code, e))?,
        parent: parent.map(|p| parse_code("area", &code, &p)).transpose()?,
    })
}

async fn fetch_area(tx: &mut Tx, code: &AreaCode) -> Result<Option<Area>> {
    let row = sqlx::query("SELECT code, name, level, parent_code FROM areas WHERE code = $1")
        .bind(code.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(row_to_area).transpose()
}

// ---- plans -------------------------------------------------------------------------------

/// Task id → `label title` of the innermost section listing it.
fn task_sections(sections: &[Section], out: &mut HashMap<String, String>) {
    for s in sections {
        for t in &s.tasks {
            out.insert(
                t.clone(),
                format!("{} {}", s.label, s.title).trim().to_string(),
            );
        }
        task_sections(&s.children, out);
    }
}

async fn insert_plan_rows(tx: &mut Tx, plan_id: i64, doc: &PlanDocument) -> Result<()> {
    let mut sections = HashMap::new();
    task_sections(&doc.sections, &mut sections);
    for (i, t) in doc.tasks.iter().enumerate() {
        sqlx::query(
            "INSERT INTO plan_tasks (plan_id, idx, task_key, section, text, lead_unit, task)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(plan_id)
        .bind(i as i64)
        .bind(&t.id)
        .bind(sections.get(&t.id))
        .bind(&t.text)
        .bind(t.responsible.as_ref().and_then(|r| r.lead.as_ref()))
        .bind(Json(t))
        .execute(&mut **tx)
        .await?;
    }
    for (i, ind) in doc.indicators.iter().enumerate() {
        sqlx::query(
            "INSERT INTO plan_indicators (plan_id, idx, code, name, unit, direction, property,
                 domain, baseline_value, baseline_year, targets, indicator, element_code, lead)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(plan_id)
        .bind(i as i64)
        .bind(&ind.code)
        .bind(&ind.name)
        .bind(&ind.unit)
        .bind(enum_str(&ind.direction))
        .bind(ind.property.as_ref().map(enum_str))
        .bind(&ind.domain)
        .bind(ind.baseline.as_ref().and_then(|b| b.value))
        .bind(ind.baseline.as_ref().and_then(|b| b.year).map(i64::from))
        .bind(Json(&ind.targets))
        .bind(Json(ind))
        .bind(&ind.element)
        .bind(ind.lead_department())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The area a plan's `area` name refers to, when exactly that name is stored.
async fn area_code_for_name(tx: &mut Tx, name: &str) -> Result<Option<AreaCode>> {
    if name.trim().is_empty() {
        return Ok(None);
    }
    let code: Option<String> =
        sqlx::query_scalar("SELECT code FROM areas WHERE name = $1 ORDER BY code LIMIT 1")
            .bind(name.trim())
            .fetch_optional(&mut **tx)
            .await?;
    code.map(|c| parse_code("area", &c, &c)).transpose()
}

fn decode_plan(id: i64, doc: JsonValue) -> Result<PlanDocument> {
    let doc: PlanDocument =
        serde_json::from_value(doc).map_err(|e| StoreError::corrupt("plan", id.to_string(), e))?;
    doc.validate()
        .map_err(|e| StoreError::corrupt("plan", id.to_string(), e))?;
    Ok(doc)
}

pub(super) async fn fetch_plan(
    ex: &mut <Db as sqlx::Database>::Connection,
    id: i64,
) -> Result<PlanDocument> {
    let doc: Option<Json<JsonValue>> =
        sqlx::query_scalar("SELECT document FROM plans WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *ex)
            .await?;
    match doc {
        Some(Json(doc)) => decode_plan(id, doc),
        None => Err(StoreError::NotFound {
            entity: "plan",
            key: id.to_string(),
        }),
    }
}

pub(super) fn plan_not_found(id: i64) -> StoreError {
    StoreError::NotFound {
        entity: "plan",
        key: id.to_string(),
    }
}

/// What access decisions about a plan need.
pub(super) struct PlanHead {
    pub(super) area_code: Option<AreaCode>,
    pub(super) status: PlanStatus,
}

pub(super) async fn fetch_plan_head(
    ex: &mut <Db as sqlx::Database>::Connection,
    id: i64,
) -> Result<PlanHead> {
    let row = sqlx::query("SELECT area_code, status FROM plans WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *ex)
        .await?
        .ok_or_else(|| plan_not_found(id))?;
    let area: Option<String> = row.try_get("area_code")?;
    let status: String = row.try_get("status")?;
    Ok(PlanHead {
        area_code: area
            .map(|a| parse_code("plan", &id.to_string(), &a))
            .transpose()?,
        status: PlanStatus::parse(&status)
            .map_err(|e| StoreError::corrupt("plan", id.to_string(), e))?,
    })
}

/// `NotFound` (not "forbidden": the plan's existence is not disclosed) unless the scope reads
/// the plan's own rows; the public reads only publications.
pub(super) async fn check_plan_readable(
    ex: &mut <Db as sqlx::Database>::Connection,
    scope: &ReadScope,
    id: i64,
) -> Result<PlanHead> {
    let head = fetch_plan_head(ex, id).await?;
    if scope.is_public() || !scope.plan(head.area_code.as_ref(), head.status) {
        return Err(plan_not_found(id));
    }
    Ok(head)
}

/// Rewrites a plan's document and its task and indicator rows.
async fn write_plan_document(
    tx: &mut Tx,
    id: i64,
    doc: &PlanDocument,
    area_code: Option<&AreaCode>,
) -> Result<()> {
    sqlx::query(
        "UPDATE plans SET title = $1, area = $2, area_code = $3, kind = $4, document = $5,
             updated_at = $6
         WHERE id = $7",
    )
    .bind(&doc.title)
    .bind(&doc.area)
    .bind(area_code.map(AreaCode::as_str))
    .bind(&doc.kind)
    .bind(Json(doc))
    .bind(now_utc())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM plan_tasks WHERE plan_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM plan_indicators WHERE plan_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    insert_plan_rows(tx, id, doc).await
}

async fn write_plan_status(
    tx: &mut Tx,
    actor: &str,
    id: i64,
    from: PlanStatus,
    to: PlanStatus,
) -> Result<()> {
    sqlx::query("UPDATE plans SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(to.as_str())
        .bind(now_utc())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    audit(
        tx,
        actor,
        "plan_status",
        &id.to_string(),
        AuditAction::Update,
        Some(&JsonValue::from(from.as_str())),
        Some(&JsonValue::from(to.as_str())),
    )
    .await
}

/// Links every indicator of `doc` to a data element: the one it names (created from the
/// indicator when missing), else the one under the indicator's code, else the one with the
/// same normalised name and unit, else a new element under the indicator's code or `DE0001`,
/// `DE0002` ….
async fn link_elements(tx: &mut Tx, actor: &str, doc: &mut PlanDocument) -> Result<()> {
    for ind in &mut doc.indicators {
        let key = element_match_key(&ind.name, ind.unit.as_deref());
        if let Some(code) = &ind.element {
            let exists: Option<String> =
                sqlx::query_scalar("SELECT code FROM data_elements WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&mut **tx)
                    .await?;
            if exists.is_some() {
                continue;
            }
        } else {
            // The indicator's own code names its element when one is declared under it.
            let found: Option<String> = sqlx::query_scalar(
                "SELECT code FROM data_elements WHERE code = $1 OR match_key = $2
                 ORDER BY CASE WHEN code = $1 THEN 0 ELSE 1 END, code LIMIT 1",
            )
            .bind(ind.code.as_deref().unwrap_or(""))
            .bind(&key)
            .fetch_optional(&mut **tx)
            .await?;
            if let Some(code) = found {
                ind.element = Some(code);
                continue;
            }
        }
        let code = match (&ind.element, &ind.code) {
            (Some(c), _) => c.clone(),
            (None, Some(c))
                if DataElement::new(c, &ind.name, ValueType::Number, Aggregation::None).is_ok() =>
            {
                c.clone()
            }
            _ => next_element_code(tx).await?,
        };
        let el = DataElement::new(&code, &ind.name, ValueType::Number, Aggregation::None)?
            .with_unit(ind.unit.as_deref());
        insert_element(tx, actor, &el, None).await?;
        ind.element = Some(code);
    }
    Ok(())
}

async fn next_element_code(tx: &mut Tx) -> Result<String> {
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT code FROM data_elements WHERE code LIKE 'DE%'")
            .fetch_all(&mut **tx)
            .await?;
    let max = codes
        .iter()
        .filter_map(|c| c.strip_prefix("DE")?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    Ok(format!("DE{:04}", max + 1))
}

/// Inserts or redefines one element, audited against what was stored before.
async fn insert_element(
    tx: &mut Tx,
    actor: &str,
    element: &DataElement,
    before: Option<&DataElement>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO data_elements (code, name, value_type, aggregation, unit, match_key)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name,
             value_type = excluded.value_type, aggregation = excluded.aggregation,
             unit = excluded.unit, match_key = excluded.match_key",
    )
    .bind(&element.code)
    .bind(&element.name)
    .bind(enum_str(&element.value_type))
    .bind(enum_str(&element.aggregation))
    .bind(&element.unit)
    .bind(element_match_key(&element.name, element.unit.as_deref()))
    .execute(&mut **tx)
    .await?;
    let action = AuditAction::upsert(before.as_ref());
    let before = before.map(to_json);
    audit(
        tx,
        actor,
        "data_element",
        &element.code,
        action,
        before.as_ref(),
        Some(&to_json(element)),
    )
    .await
}

// ---- data values -------------------------------------------------------------------------

pub(super) const DATA_VALUE_COLUMNS: &str =
    "element, area_code, period, value_type, num_value, numerator,
     denominator, bool_value, text_value, status, version, comment, review_comment, synthetic";
/// [`DATA_VALUE_COLUMNS`] and who changed and reviewed the value.
const VALUE_RECORD_COLUMNS: &str = "element, area_code, period, value_type, num_value, numerator,
     denominator, bool_value, text_value, status, version, comment, review_comment, synthetic,
     updated_by, updated_at, reviewed_by, reviewed_at";

struct ValueColumns {
    kind: &'static str,
    num: Option<f64>,
    numerator: Option<f64>,
    denominator: Option<f64>,
    boolean: Option<bool>,
    text: Option<String>,
}

fn value_columns(v: &Value) -> ValueColumns {
    let mut c = ValueColumns {
        kind: "number",
        num: None,
        numerator: None,
        denominator: None,
        boolean: None,
        text: None,
    };
    match v {
        Value::Number { value } => c.num = Some(*value),
        Value::Ratio {
            numerator,
            denominator,
        } => {
            c.kind = "ratio";
            c.numerator = Some(*numerator);
            c.denominator = Some(*denominator);
        }
        Value::Boolean { value } => {
            c.kind = "boolean";
            c.boolean = Some(*value);
        }
        Value::Text { value } => {
            c.kind = "text";
            c.text = Some(value.clone());
        }
    }
    c
}

/// Decodes a row selected with [`DATA_VALUE_COLUMNS`] (by position: this runs once per
/// value when the analytics engine starts, and the error key is only built on failure).
pub(super) fn row_to_data_value(row: &DbRow) -> Result<DataValue> {
    let element: String = row.try_get(0)?;
    let area: &str = row.try_get(1)?;
    let period: &str = row.try_get(2)?;
    let corrupt = |reason: String| {
        StoreError::corrupt("data value", format!("{element}/{area}/{period}"), reason)
    };
    let number = |i: usize, col: &str| -> Result<f64> {
        row.try_get::<Option<f64>, _>(i)?
            .ok_or_else(|| corrupt(format!("{col} is empty")))
    };
    let kind: &str = row.try_get(3)?;
    let value = match kind {
        "number" => Value::Number {
            value: number(4, "num_value")?,
        },
        "ratio" => Value::Ratio {
            numerator: number(5, "numerator")?,
            denominator: number(6, "denominator")?,
        },
        "boolean" => Value::Boolean {
            value: row
                .try_get::<Option<bool>, _>(7)?
                .ok_or_else(|| corrupt("bool_value is empty".into()))?,
        },
        "text" => Value::Text {
            value: row
                .try_get::<Option<String>, _>(8)?
                .ok_or_else(|| corrupt("text_value is empty".into()))?,
        },
        other => return Err(corrupt(format!("unknown value type {other:?}"))),
    };
    let status: &str = row.try_get(9)?;
    Ok(DataValue {
        area: AreaCode::parse(area).map_err(|e| corrupt(e.to_string()))?,
        period: period
            .parse()
            .map_err(|e: CoreError| corrupt(e.to_string()))?,
        value,
        status: ValueStatus::parse(status).map_err(|e| corrupt(e.to_string()))?,
        version: row.try_get(10)?,
        comment: row.try_get(11)?,
        review_comment: row.try_get(12)?,
        synthetic: row.try_get(13)?,
        element,
    })
}

fn row_to_value_record(row: &DbRow) -> Result<ValueRecord> {
    Ok(ValueRecord {
        value: row_to_data_value(row)?,
        updated_by: row.try_get(14)?,
        updated_at: row.try_get(15)?,
        reviewed_by: row.try_get(16)?,
        reviewed_at: row.try_get(17)?,
    })
}

/// Rows per page of [`Database::for_each_numeric_value`]: bounds memory while keeping the
/// per-query overhead negligible.
const NUMERIC_PAGE: i64 = 20_000;

/// Parses each distinct element, area code and period string once; a bulk read sees the
/// same few thousand strings millions of times.
#[derive(Default)]
struct NumericDecoder {
    element: String,
    areas: HashMap<Box<str>, AreaCode>,
    periods: HashMap<Box<str>, Period>,
}

impl NumericDecoder {
    /// Decodes a row of `id, element, area_code, period, value_type, num_value, numerator,
    /// denominator, bool_value` and hands it to `f`.
    fn decode(
        &mut self,
        row: &DbRow,
        f: &mut (dyn FnMut(NumericValue<'_>) -> ControlFlow<()> + Send),
    ) -> Result<ControlFlow<()>> {
        let element: &str = row.try_get(1)?;
        let area: &str = row.try_get(2)?;
        let period: &str = row.try_get(3)?;
        let corrupt = |reason: String| {
            StoreError::corrupt("data value", format!("{element}/{area}/{period}"), reason)
        };
        let number = |i: usize, col: &str| -> Result<f64> {
            row.try_get::<Option<f64>, _>(i)?
                .ok_or_else(|| corrupt(format!("{col} is empty")))
        };
        let kind: &str = row.try_get(4)?;
        let value = match kind {
            "number" => Numeric::Number(number(5, "num_value")?),
            "ratio" => Numeric::Ratio {
                numerator: number(6, "numerator")?,
                denominator: number(7, "denominator")?,
            },
            "boolean" => Numeric::Boolean(
                row.try_get::<Option<bool>, _>(8)?
                    .ok_or_else(|| corrupt("bool_value is empty".into()))?,
            ),
            other => return Err(corrupt(format!("unknown value type {other:?}"))),
        };
        if self.element != element {
            element.clone_into(&mut self.element);
        }
        if !self.areas.contains_key(area) {
            let code = AreaCode::parse(area).map_err(|e| corrupt(e.to_string()))?;
            self.areas.insert(area.into(), code);
        }
        let period = match self.periods.get(period) {
            Some(p) => *p,
            None => {
                let p: Period = period
                    .parse()
                    .map_err(|e: CoreError| corrupt(e.to_string()))?;
                self.periods.insert(period.into(), p);
                p
            }
        };
        let Some(area) = self.areas.get(area) else {
            return Err(corrupt("area code cache lost an entry".into()));
        };
        Ok(f(NumericValue {
            element: &self.element,
            area,
            period,
            value,
        }))
    }
}

async fn fetch_data_value(
    tx: &mut Tx,
    element: &str,
    area: &AreaCode,
    period: Period,
) -> Result<Option<DataValue>> {
    let sql = format!(
        "SELECT {DATA_VALUE_COLUMNS} FROM data_values
         WHERE element = $1 AND area_code = $2 AND period = $3"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(element)
        .bind(area.as_str())
        .bind(period.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(row_to_data_value).transpose()
}

/// Maps a failed data-value write to a message naming the value.
fn data_value_write_error(e: sqlx::Error, v: &DataValue) -> StoreError {
    let key = data_value_key(&v.element, &v.area, v.period);
    if is_foreign_key_violation(&e) {
        StoreError::Invalid(format!(
            "data value {key}: area {} is not a known area",
            v.area
        ))
    } else if is_unique_violation(&e) {
        StoreError::VersionConflict {
            entity: "data value",
            key,
            sent: None,
            stored: None,
        }
    } else {
        e.into()
    }
}

async fn insert_data_value(tx: &mut Tx, actor: &str, v: &DataValue, version: i64) -> Result<()> {
    let c = value_columns(&v.value);
    sqlx::query(
        "INSERT INTO data_values (element, area_code, period, value_type, num_value, numerator,
             denominator, bool_value, text_value, status, version, comment, updated_by, updated_at,
             review_comment, synthetic)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&v.element)
    .bind(v.area.as_str())
    .bind(v.period.to_string())
    .bind(c.kind)
    .bind(c.num)
    .bind(c.numerator)
    .bind(c.denominator)
    .bind(c.boolean)
    .bind(c.text)
    .bind(v.status.as_str())
    .bind(version)
    .bind(&v.comment)
    .bind(actor)
    .bind(now_utc())
    .bind(&v.review_comment)
    .bind(v.synthetic)
    .execute(&mut **tx)
    .await
    .map_err(|e| data_value_write_error(e, v))?;
    Ok(())
}

/// Overwrites the value if the stored version is still `expected`; false when it moved on.
async fn update_data_value(tx: &mut Tx, actor: &str, v: &DataValue, expected: i64) -> Result<bool> {
    let c = value_columns(&v.value);
    let done = sqlx::query(
        "UPDATE data_values SET value_type = $1, num_value = $2, numerator = $3,
             denominator = $4, bool_value = $5, text_value = $6, status = $7,
             version = version + 1, comment = $8, updated_by = $9, updated_at = $10,
             review_comment = $15, synthetic = $16
         WHERE element = $11 AND area_code = $12 AND period = $13 AND version = $14",
    )
    .bind(c.kind)
    .bind(c.num)
    .bind(c.numerator)
    .bind(c.denominator)
    .bind(c.boolean)
    .bind(c.text)
    .bind(v.status.as_str())
    .bind(&v.comment)
    .bind(actor)
    .bind(now_utc())
    .bind(&v.element)
    .bind(v.area.as_str())
    .bind(v.period.to_string())
    .bind(expected)
    .bind(&v.review_comment)
    .bind(v.synthetic)
    .execute(&mut **tx)
    .await
    .map_err(|e| data_value_write_error(e, v))?;
    Ok(done.rows_affected() == 1)
}

/// One reporter's save inside a transaction (see [`Database::put_data_value`]).
async fn put_value(
    tx: &mut Tx,
    by: &ValueWriter,
    value: &DataValue,
    expected_version: Option<i64>,
) -> Result<DataValue> {
    let actor = by.actor();
    check_actor(actor)?;
    by.check(&value.element, &value.area)?;
    // Re-run the constructor's checks: the fields are public.
    DataValue::new(
        &value.element,
        value.area.clone(),
        value.period,
        value.value.clone(),
    )?;
    value.check_notes()?;
    let key = data_value_key(&value.element, &value.area, value.period);
    let conflict = |stored: Option<i64>| StoreError::VersionConflict {
        entity: "data value",
        key: key.clone(),
        sent: expected_version,
        stored,
    };
    let before = fetch_data_value(tx, &value.element, &value.area, value.period).await?;
    let mut stored = value.clone();
    // Entered values are never demonstration data; the last review note stays visible
    // until the value is approved.
    stored.synthetic = false;
    stored.review_comment = before.as_ref().and_then(|b| b.review_comment.clone());
    match (&before, expected_version) {
        (None, None) => {
            if !ValueStatus::Draft.can_become(value.status) {
                return Err(StoreError::Workflow {
                    key,
                    from: "new",
                    to: value.status.as_str(),
                });
            }
            stored.version = 1;
            insert_data_value(tx, actor, &stored, 1).await?;
        }
        (Some(b), Some(v)) if b.version == v => {
            if !b.status.can_become(value.status) {
                return Err(StoreError::Workflow {
                    key,
                    from: b.status.as_str(),
                    to: value.status.as_str(),
                });
            }
            if !update_data_value(tx, actor, &stored, v).await? {
                return Err(conflict(None));
            }
            stored.version = v + 1;
        }
        (b, _) => return Err(conflict(b.as_ref().map(|b| b.version))),
    }
    let action = AuditAction::upsert(before.as_ref());
    let before = before.as_ref().map(to_json);
    audit(
        tx,
        actor,
        "data_value",
        &key,
        action,
        before.as_ref(),
        Some(&to_json(&stored)),
    )
    .await?;
    Ok(stored)
}

/// The comment a review decision stores: required to return or reopen.
pub(super) fn review_comment(
    decision: ReviewDecision,
    comment: Option<&str>,
) -> Result<Option<String>> {
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if let Some(c) = comment {
        healthplan_core::validate::check_note("comment", c)?;
    }
    if decision.needs_comment() && comment.is_none() {
        return Err(StoreError::Invalid(format!(
            "a comment is required to {} / 退回或重新开放需填写意见",
            decision.as_str()
        )));
    }
    Ok(comment.map(String::from))
}

/// Rows matching the filter's columns; area subtrees and period ranges are checked by
/// [`readable`] after the read.
async fn select_values(
    pool: &sqlx::Pool<Db>,
    columns: &str,
    filter: &DataValueFilter,
) -> Result<Vec<DbRow>> {
    let mut q =
        sqlx::QueryBuilder::<Db>::new(format!("SELECT {columns} FROM data_values WHERE 1 = 1"));
    if let Some(e) = &filter.element {
        q.push(" AND element = ").push_bind(e.clone());
    }
    if !filter.elements.is_empty() {
        q.push(" AND element IN (");
        let mut sep = q.separated(", ");
        for e in &filter.elements {
            sep.push_bind(e.clone());
        }
        sep.push_unseparated(")");
    }
    if let Some(a) = &filter.area {
        q.push(" AND area_code = ")
            .push_bind(a.as_str().to_string());
    }
    if let Some(p) = filter.period {
        q.push(" AND period = ").push_bind(p.to_string());
    }
    if let Some(s) = filter.status {
        q.push(" AND status = ").push_bind(s.as_str());
    }
    q.push(" ORDER BY element, area_code, period");
    Ok(q.build().fetch_all(pool).await?)
}

fn readable(scope: &ReadScope, filter: &DataValueFilter, v: &DataValue) -> bool {
    scope.area(&v.area)
        && filter.range.contains(v.period)
        && filter
            .under
            .as_ref()
            .is_none_or(|u| scope.area_index().is_within(&v.area, u))
}

/// An audit row collected for a batched insert.
struct AuditRow {
    key: String,
    action: AuditAction,
    before: Option<JsonValue>,
    after: Option<JsonValue>,
}

impl Database for Backend {
    async fn import_areas(&self, by: &RegistryAdmin, areas: &[Area]) -> Result<ImportCount> {
        let actor = by.actor();
        check_actor(actor)?;
        let mut tx = self.begin_write().await?;
        let mut count = ImportCount::default();
        for a in areas {
            let before = fetch_area(&mut tx, &a.code).await?;
            let parent_error = |e: sqlx::Error| -> StoreError {
                if is_foreign_key_violation(&e) || matches!(e, sqlx::Error::RowNotFound) {
                    StoreError::Invalid(format!(
                        "area {} {}: parent {} is not a known area",
                        a.code,
                        a.name,
                        a.parent.as_ref().map(AreaCode::as_str).unwrap_or("")
                    ))
                } else {
                    e.into()
                }
            };
            if let Some(parent) = &a.parent {
                // The level rule is checked here too: `Area`'s fields are public.
                match fetch_area(&mut tx, parent).await? {
                    None => return Err(parent_error(sqlx::Error::RowNotFound)),
                    Some(p) if p.level >= a.level || p.code == a.code => {
                        return Err(StoreError::Invalid(format!(
                            "area {} {} ({}) cannot sit under {} {} ({})",
                            a.code, a.name, a.level, p.code, p.name, p.level
                        )))
                    }
                    Some(_) => {}
                }
            }
            match &before {
                Some(b) if b == a => {
                    count.unchanged += 1;
                    continue;
                }
                Some(b) => {
                    if b.level != a.level {
                        // Children must stay below their parent.
                        let levels: Vec<String> =
                            sqlx::query_scalar("SELECT level FROM areas WHERE parent_code = $1")
                                .bind(a.code.as_str())
                                .fetch_all(&mut *tx)
                                .await?;
                        if levels
                            .iter()
                            .any(|l| AreaLevel::from_str(l).map_or(true, |l| l <= a.level))
                        {
                            return Err(StoreError::Invalid(format!(
                                "area {} {}: cannot become {} while it has children at that level or above",
                                a.code, a.name, a.level
                            )));
                        }
                    }
                    sqlx::query(
                        "UPDATE areas SET name = $1, level = $2, parent_code = $3 WHERE code = $4",
                    )
                    .bind(&a.name)
                    .bind(a.level.as_str())
                    .bind(a.parent.as_ref().map(AreaCode::as_str))
                    .bind(a.code.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(parent_error)?;
                    count.updated += 1;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO areas (code, name, level, parent_code) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(a.code.as_str())
                    .bind(&a.name)
                    .bind(a.level.as_str())
                    .bind(a.parent.as_ref().map(AreaCode::as_str))
                    .execute(&mut *tx)
                    .await
                    .map_err(parent_error)?;
                    count.inserted += 1;
                }
            }
            let action = AuditAction::upsert(before.as_ref());
            let before = before.as_ref().map(to_json);
            audit(
                &mut tx,
                actor,
                "area",
                a.code.as_str(),
                action,
                before.as_ref(),
                Some(&to_json(a)),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(count)
    }

    async fn list_areas(&self) -> Result<Vec<Area>> {
        let rows = sqlx::query("SELECT code, name, level, parent_code FROM areas ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(row_to_area).collect()
    }

    async fn import_departments(
        &self,
        by: &RegistryAdmin,
        departments: &[Department],
    ) -> Result<ImportCount> {
        let actor = by.actor();
        check_actor(actor)?;
        let mut tx = self.begin_write().await?;
        let mut count = ImportCount::default();
        for d in departments {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT id FROM departments WHERE area_code = $1 AND name = $2")
                    .bind(d.area.as_str())
                    .bind(&d.name)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_some() {
                count.unchanged += 1;
                continue;
            }
            sqlx::query("INSERT INTO departments (area_code, name) VALUES ($1, $2)")
                .bind(d.area.as_str())
                .bind(&d.name)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    if is_foreign_key_violation(&e) {
                        StoreError::Invalid(format!(
                            "department {}: area {} is not a known area",
                            d.name, d.area
                        ))
                    } else {
                        e.into()
                    }
                })?;
            let key = format!("{}/{}", d.area, d.name);
            audit(
                &mut tx,
                actor,
                "department",
                &key,
                AuditAction::Insert,
                None,
                Some(&to_json(d)),
            )
            .await?;
            count.inserted += 1;
        }
        tx.commit().await?;
        Ok(count)
    }

    async fn list_departments(&self) -> Result<Vec<Department>> {
        let rows = sqlx::query("SELECT area_code, name FROM departments ORDER BY area_code, name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let name: String = r.try_get("name")?;
                let area: String = r.try_get("area_code")?;
                Ok(Department {
                    area: parse_code("department", &name, &area)?,
                    name,
                })
            })
            .collect()
    }

    async fn save_plan(
        &self,
        by: &PlanEditor,
        doc: &PlanDocument,
        source_text: Option<&str>,
    ) -> Result<i64> {
        let actor = by.actor();
        check_actor(actor)?;
        doc.validate()?;
        let mut tx = self.begin_write().await?;
        let now = now_utc();
        let area_code = area_code_for_name(&mut tx, &doc.area).await?;
        by.check_optional_area(area_code.as_ref())?;
        let mut doc = doc.clone();
        link_elements(&mut tx, actor, &mut doc).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO plans (title, area, area_code, kind, document, source_text, created_at,
                 created_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)
             RETURNING id",
        )
        .bind(&doc.title)
        .bind(&doc.area)
        .bind(area_code.as_ref().map(AreaCode::as_str))
        .bind(&doc.kind)
        .bind(Json(&doc))
        .bind(source_text)
        .bind(&now)
        .bind(actor)
        .fetch_one(&mut *tx)
        .await?;
        insert_plan_rows(&mut tx, id, &doc).await?;
        audit(
            &mut tx,
            actor,
            "plan",
            &id.to_string(),
            AuditAction::Insert,
            None,
            Some(&to_json(&doc)),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_plan(&self, by: &PlanEditor, id: i64, doc: &PlanDocument) -> Result<()> {
        let actor = by.actor();
        check_actor(actor)?;
        doc.validate()?;
        let mut tx = self.begin_write().await?;
        let head = fetch_plan_head(&mut tx, id).await?;
        by.check_optional_area(head.area_code.as_ref())?;
        let before = fetch_plan(&mut tx, id).await?;
        let area_code = area_code_for_name(&mut tx, &doc.area).await?;
        by.check_optional_area(area_code.as_ref())?;
        let mut doc = doc.clone();
        link_elements(&mut tx, actor, &mut doc).await?;
        write_plan_document(&mut tx, id, &doc, area_code.as_ref()).await?;
        audit(
            &mut tx,
            actor,
            "plan",
            &id.to_string(),
            AuditAction::Update,
            Some(&to_json(&before)),
            Some(&to_json(&doc)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_plan_status(&self, by: &PlanEditor, id: i64, status: PlanStatus) -> Result<()> {
        let actor = by.actor();
        let mut tx = self.begin_write().await?;
        let head = fetch_plan_head(&mut tx, id).await?;
        by.check_optional_area(head.area_code.as_ref())?;
        if status == PlanStatus::Published || !head.status.can_become(status) {
            return Err(StoreError::Workflow {
                key: format!("plan {id}"),
                from: head.status.as_str(),
                to: status.as_str(),
            });
        }
        write_plan_status(&mut tx, actor, id, head.status, status).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn publish_plan(
        &self,
        by: &PlanEditor,
        id: i64,
        as_of: i32,
        snapshot: &JsonValue,
    ) -> Result<()> {
        let actor = by.actor();
        let mut tx = self.begin_write().await?;
        let head = fetch_plan_head(&mut tx, id).await?;
        by.check_optional_area(head.area_code.as_ref())?;
        // Re-publishing refreshes what the public sees.
        if head.status == PlanStatus::Draft {
            return Err(StoreError::Workflow {
                key: format!("plan {id}"),
                from: head.status.as_str(),
                to: PlanStatus::Published.as_str(),
            });
        }
        sqlx::query(
            "INSERT INTO publications (plan_id, as_of, published_at, published_by, snapshot)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(i64::from(as_of))
        .bind(now_utc())
        .bind(actor)
        .bind(Json(snapshot))
        .execute(&mut *tx)
        .await?;
        write_plan_status(&mut tx, actor, id, head.status, PlanStatus::Published).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn publication(&self, id: i64) -> Result<Option<Publication>> {
        let row = sqlx::query(
            "SELECT p.plan_id, p.as_of, p.published_at, p.published_by, p.snapshot
             FROM publications p JOIN plans ON plans.id = p.plan_id
             WHERE p.plan_id = $1 AND plans.status = 'published'
             ORDER BY p.id DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let as_of: i64 = r.try_get("as_of")?;
            let Json(snapshot): Json<JsonValue> = r.try_get("snapshot")?;
            Ok(Publication {
                plan_id: r.try_get("plan_id")?,
                as_of: i32::try_from(as_of)
                    .map_err(|e| StoreError::corrupt("publication", id.to_string(), e))?,
                published_at: r.try_get("published_at")?,
                published_by: r.try_get("published_by")?,
                snapshot,
            })
        })
        .transpose()
    }

    async fn plan(&self, scope: &ReadScope, id: i64) -> Result<PlanDocument> {
        let mut conn = self.pool.acquire().await?;
        check_plan_readable(&mut conn, scope, id).await?;
        fetch_plan(&mut conn, id).await
    }

    async fn plan_summary(&self, scope: &ReadScope, id: i64) -> Result<PlanSummary> {
        self.list_plans(scope)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| plan_not_found(id))
    }

    async fn plan_source_text(&self, scope: &ReadScope, id: i64) -> Result<Option<String>> {
        let mut conn = self.pool.acquire().await?;
        check_plan_readable(&mut conn, scope, id).await?;
        let row: Option<Option<String>> =
            sqlx::query_scalar("SELECT source_text FROM plans WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        row.ok_or_else(|| plan_not_found(id))
    }

    async fn list_plans(&self, scope: &ReadScope) -> Result<Vec<PlanSummary>> {
        let rows = sqlx::query(
            "SELECT p.id, p.title, p.area, p.area_code, p.kind, p.status, p.created_at,
                 p.created_by, p.updated_at,
                 (p.source_text IS NOT NULL) AS has_source_text,
                 (SELECT COUNT(*) FROM plan_tasks t WHERE t.plan_id = p.id) AS tasks,
                 (SELECT COUNT(*) FROM plan_indicators i WHERE i.plan_id = p.id) AS indicators
             FROM plans p ORDER BY p.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let area_code: Option<String> = r.try_get("area_code")?;
            let area_code = area_code
                .map(|c| parse_code("plan", &id.to_string(), &c))
                .transpose()?;
            let status: String = r.try_get("status")?;
            let status = PlanStatus::parse(&status)
                .map_err(|e| StoreError::corrupt("plan", id.to_string(), e))?;
            if !scope.plan(area_code.as_ref(), status) {
                continue;
            }
            out.push(PlanSummary {
                id,
                title: r.try_get("title")?,
                area: r.try_get("area")?,
                area_code,
                kind: r.try_get("kind")?,
                tasks: r.try_get("tasks")?,
                indicators: r.try_get("indicators")?,
                has_source_text: r.try_get("has_source_text")?,
                status,
                created_at: r.try_get("created_at")?,
                created_by: r.try_get("created_by")?,
                updated_at: r.try_get("updated_at")?,
            });
        }
        Ok(out)
    }

    async fn plan_indicators(&self, scope: &ReadScope, plan_id: i64) -> Result<Vec<PlanIndicator>> {
        let mut conn = self.pool.acquire().await?;
        check_plan_readable(&mut conn, scope, plan_id).await?;
        let rows = sqlx::query(
            "SELECT id, idx, indicator FROM plan_indicators WHERE plan_id = $1 ORDER BY idx",
        )
        .bind(plan_id)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let idx: i64 = r.try_get("idx")?;
                Ok(PlanIndicator {
                    id,
                    plan_id,
                    index: idx as usize,
                    indicator: json_column(r, "indicator", id)?,
                })
            })
            .collect()
    }

    async fn plan_tasks(&self, scope: &ReadScope, plan_id: i64) -> Result<Vec<PlanTask>> {
        let mut conn = self.pool.acquire().await?;
        check_plan_readable(&mut conn, scope, plan_id).await?;
        let rows = sqlx::query(
            "SELECT id, idx, section, task FROM plan_tasks WHERE plan_id = $1 ORDER BY idx",
        )
        .bind(plan_id)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let idx: i64 = r.try_get("idx")?;
                Ok(PlanTask {
                    id,
                    plan_id,
                    index: idx as usize,
                    section: r.try_get("section")?,
                    task: json_column(r, "task", id)?,
                })
            })
            .collect()
    }

    async fn link_indicator(
        &self,
        by: &PlanEditor,
        plan_id: i64,
        index: usize,
        element: &str,
    ) -> Result<()> {
        let actor = by.actor();
        let mut tx = self.begin_write().await?;
        let head = fetch_plan_head(&mut tx, plan_id).await?;
        by.check_optional_area(head.area_code.as_ref())?;
        let exists: Option<String> =
            sqlx::query_scalar("SELECT code FROM data_elements WHERE code = $1")
                .bind(element)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound {
                entity: "data element",
                key: element.to_string(),
            });
        }
        let mut doc = fetch_plan(&mut tx, plan_id).await?;
        let Some(ind) = doc.indicators.get_mut(index) else {
            return Err(StoreError::NotFound {
                entity: "indicator",
                key: format!("{index} of plan {plan_id}"),
            });
        };
        let before = ind.element.clone();
        if before.as_deref() == Some(element) {
            return Ok(());
        }
        ind.element = Some(element.to_string());
        write_plan_document(&mut tx, plan_id, &doc, head.area_code.as_ref()).await?;
        audit(
            &mut tx,
            actor,
            "indicator_link",
            &format!("{plan_id}/{index}"),
            AuditAction::Update,
            Some(&JsonValue::from(before)),
            Some(&JsonValue::from(element)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn plans_linking(&self, element: &str) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT plan_id FROM plan_indicators WHERE element_code = $1 ORDER BY plan_id",
        )
        .bind(element)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn responsibilities(&self) -> Result<ResponsibilityRows> {
        let elements = sqlx::query(
            "SELECT DISTINCT element_code, lead FROM plan_indicators
             WHERE element_code IS NOT NULL AND lead IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("element_code")?, r.try_get("lead")?)))
        .collect::<Result<Vec<_>>>()?;
        let rows = sqlx::query("SELECT id, plan_id, task_key, task FROM plan_tasks")
            .fetch_all(&self.pool)
            .await?;
        let mut tasks = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let task: Task = json_column(r, "task", id)?;
            let units = task.responsible.map(|r| r.units).unwrap_or_default();
            tasks.push((r.try_get("plan_id")?, r.try_get("task_key")?, units));
        }
        Ok(ResponsibilityRows { elements, tasks })
    }

    async fn put_data_elements(&self, by: &RegistryAdmin, elements: &[DataElement]) -> Result<()> {
        let actor = by.actor();
        check_actor(actor)?;
        let mut tx = self.begin_write().await?;
        for element in elements {
            let before = sqlx::query(
                "SELECT code, name, value_type, aggregation, unit FROM data_elements WHERE code = $1",
            )
            .bind(&element.code)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| row_to_element(&r))
            .transpose()?;
            if before.as_ref() == Some(element) {
                continue;
            }
            insert_element(&mut tx, actor, element, before.as_ref()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn list_data_elements(&self) -> Result<Vec<DataElement>> {
        let rows = sqlx::query(
            "SELECT code, name, value_type, aggregation, unit FROM data_elements ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_element).collect()
    }

    async fn put_data_value(
        &self,
        by: &ValueWriter,
        value: &DataValue,
        expected_version: Option<i64>,
    ) -> Result<DataValue> {
        let mut tx = self.begin_write().await?;
        let stored = put_value(&mut tx, by, value, expected_version).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn put_data_values(
        &self,
        by: &ValueWriter,
        values: &[(DataValue, Option<i64>)],
    ) -> Result<Vec<DataValue>> {
        // Every row is checked before anything is written.
        for (v, _) in values {
            by.check(&v.element, &v.area)?;
        }
        let mut tx = self.begin_write().await?;
        let mut out = Vec::with_capacity(values.len());
        for (v, expected) in values {
            out.push(put_value(&mut tx, by, v, *expected).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn review_data_value(
        &self,
        by: &Reviewer,
        key: &ValueKey,
        expected_version: i64,
        decision: ReviewDecision,
        comment: Option<&str>,
    ) -> Result<DataValue> {
        let actor = by.actor();
        by.check_area(&key.area)?;
        let comment = review_comment(decision, comment)?;
        let k = key.to_string();
        let mut tx = self.begin_write().await?;
        let Some(before) = fetch_data_value(&mut tx, &key.element, &key.area, key.period).await?
        else {
            return Err(StoreError::NotFound {
                entity: "data value",
                key: k,
            });
        };
        if before.version != expected_version {
            return Err(StoreError::VersionConflict {
                entity: "data value",
                key: k,
                sent: Some(expected_version),
                stored: Some(before.version),
            });
        }
        let Some(next) = before.status.review(decision) else {
            return Err(StoreError::Workflow {
                key: k,
                from: before.status.as_str(),
                to: decision.as_str(),
            });
        };
        let submitter: String = sqlx::query_scalar(
            "SELECT updated_by FROM data_values WHERE element = $1 AND area_code = $2 AND period = $3",
        )
        .bind(&key.element)
        .bind(key.area.as_str())
        .bind(key.period.to_string())
        .fetch_one(&mut *tx)
        .await?;
        super::sql_workflow::check_four_eyes(&mut tx, by, decision, &submitter, &k).await?;
        let now = now_utc();
        let done = sqlx::query(
            "UPDATE data_values SET status = $1, review_comment = $2, reviewed_by = $3,
                 reviewed_at = $4, version = version + 1
             WHERE element = $5 AND area_code = $6 AND period = $7 AND version = $8",
        )
        .bind(next.as_str())
        .bind(&comment)
        .bind(actor)
        .bind(&now)
        .bind(&key.element)
        .bind(key.area.as_str())
        .bind(key.period.to_string())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::VersionConflict {
                entity: "data value",
                key: k,
                sent: Some(expected_version),
                stored: None,
            });
        }
        let mut after = before.clone();
        after.status = next;
        after.review_comment = comment;
        after.version += 1;
        audit(
            &mut tx,
            actor,
            "data_value",
            &k,
            AuditAction::Update,
            Some(&to_json(&before)),
            Some(&to_json(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn import_data_values(
        &self,
        by: &BulkWriter,
        values: &[DataValue],
    ) -> Result<ImportCount> {
        let actor = by.actor();
        check_actor(actor)?;
        let mut keys = HashSet::new();
        for v in values {
            DataValue::new(&v.element, v.area.clone(), v.period, v.value.clone())?;
            v.check_notes()?;
            let key = data_value_key(&v.element, &v.area, v.period);
            if !keys.insert(key.clone()) {
                return Err(StoreError::Invalid(format!(
                    "data value {key} appears twice in one import"
                )));
            }
        }
        let mut tx = self.begin_write().await?;
        // Checked up front so a refusal names the value (a batched insert could not).
        let known: HashSet<String> = sqlx::query_scalar("SELECT code FROM areas")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
        if let Some(v) = values.iter().find(|v| !known.contains(v.area.as_str())) {
            return Err(StoreError::Invalid(format!(
                "data value {}: area {} is not a known area",
                data_value_key(&v.element, &v.area, v.period),
                v.area
            )));
        }
        // One read per element instead of one per value.
        let elements: BTreeSet<&str> = values.iter().map(|v| v.element.as_str()).collect();
        let mut existing: HashMap<String, DataValue> = HashMap::new();
        let sql = format!("SELECT {DATA_VALUE_COLUMNS} FROM data_values WHERE element = $1");
        for e in elements {
            let rows = sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(e)
                .fetch_all(&mut *tx)
                .await?;
            for r in &rows {
                let v = row_to_data_value(r)?;
                existing.insert(data_value_key(&v.element, &v.area, v.period), v);
            }
        }

        let mut count = ImportCount::default();
        let mut inserts = Vec::new();
        let mut audits = Vec::new();
        for value in values {
            let key = data_value_key(&value.element, &value.area, value.period);
            let mut stored = value.clone();
            match existing.get(&key) {
                Some(b)
                    if b.value == value.value
                        && b.status == value.status
                        && b.comment == value.comment
                        && b.synthetic == value.synthetic =>
                {
                    count.unchanged += 1;
                }
                Some(b) => {
                    if !update_data_value(&mut tx, actor, value, b.version).await? {
                        return Err(StoreError::VersionConflict {
                            entity: "data value",
                            key,
                            sent: Some(b.version),
                            stored: None,
                        });
                    }
                    stored.version = b.version + 1;
                    audits.push(AuditRow {
                        key,
                        action: AuditAction::Update,
                        before: Some(to_json(b)),
                        after: Some(to_json(&stored)),
                    });
                    count.updated += 1;
                }
                None => {
                    stored.version = 1;
                    audits.push(AuditRow {
                        key,
                        action: AuditAction::Insert,
                        before: None,
                        after: Some(to_json(&stored)),
                    });
                    inserts.push(stored);
                    count.inserted += 1;
                }
            }
        }
        let now = now_utc();
        for chunk in inserts.chunks(500) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO data_values (element, area_code, period, value_type, num_value,
                     numerator, denominator, bool_value, text_value, status, version, comment,
                     updated_by, updated_at, review_comment, synthetic) ",
            );
            q.push_values(chunk, |mut b, v| {
                let c = value_columns(&v.value);
                b.push_bind(v.element.clone())
                    .push_bind(v.area.as_str().to_string())
                    .push_bind(v.period.to_string())
                    .push_bind(c.kind)
                    .push_bind(c.num)
                    .push_bind(c.numerator)
                    .push_bind(c.denominator)
                    .push_bind(c.boolean)
                    .push_bind(c.text)
                    .push_bind(v.status.as_str())
                    .push_bind(v.version)
                    .push_bind(v.comment.clone())
                    .push_bind(actor.to_string())
                    .push_bind(now.clone())
                    .push_bind(v.review_comment.clone())
                    .push_bind(v.synthetic);
            });
            q.build().execute(&mut *tx).await?;
        }
        // A multi-row insert assigns ids in row order, so the chain runs down the list.
        let mut prev = last_audit_hash(&mut tx).await?;
        let hashes: Vec<String> = audits
            .iter()
            .map(|a| {
                let fields = [now.as_str(), actor, "data_value", &a.key, a.action.as_str()];
                prev = crate::audit_hash(&prev, fields, a.before.as_ref(), a.after.as_ref());
                prev.clone()
            })
            .collect();
        for (chunk, hashes) in audits.chunks(1000).zip(hashes.chunks(1000)) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO audit_log (at, actor, entity, entity_key, action, before, after, hash) ",
            );
            q.push_values(chunk.iter().zip(hashes), |mut b, (a, h)| {
                b.push_bind(now.clone())
                    .push_bind(actor.to_string())
                    .push_bind("data_value")
                    .push_bind(a.key.clone())
                    .push_bind(a.action.as_str())
                    .push_bind(a.before.clone().map(Json))
                    .push_bind(a.after.clone().map(Json))
                    .push_bind(h.clone());
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(count)
    }

    async fn delete_data_value(
        &self,
        by: &ValueWriter,
        key: &ValueKey,
        expected_version: i64,
    ) -> Result<DataValue> {
        let actor = by.actor();
        check_actor(actor)?;
        by.check(&key.element, &key.area)?;
        let k = key.to_string();
        let mut tx = self.begin_write().await?;
        let Some(before) = fetch_data_value(&mut tx, &key.element, &key.area, key.period).await?
        else {
            return Err(StoreError::NotFound {
                entity: "data value",
                key: k,
            });
        };
        if !matches!(before.status, ValueStatus::Draft | ValueStatus::Returned) {
            return Err(StoreError::Workflow {
                key: k,
                from: before.status.as_str(),
                to: "deleted",
            });
        }
        let done = sqlx::query(
            "DELETE FROM data_values
             WHERE element = $1 AND area_code = $2 AND period = $3 AND version = $4",
        )
        .bind(&key.element)
        .bind(key.area.as_str())
        .bind(key.period.to_string())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::VersionConflict {
                entity: "data value",
                key: k,
                sent: Some(expected_version),
                stored: Some(before.version),
            });
        }
        audit(
            &mut tx,
            actor,
            "data_value",
            &k,
            AuditAction::Delete,
            Some(&to_json(&before)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(before)
    }

    async fn data_value(&self, scope: &ReadScope, key: &ValueKey) -> Result<Option<DataValue>> {
        if !scope.area(&key.area) {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {DATA_VALUE_COLUMNS} FROM data_values
             WHERE element = $1 AND area_code = $2 AND period = $3"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(&key.element)
            .bind(key.area.as_str())
            .bind(key.period.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(row_to_data_value).transpose()
    }

    async fn list_data_values(
        &self,
        scope: &ReadScope,
        filter: &DataValueFilter,
    ) -> Result<Vec<DataValue>> {
        let rows = select_values(&self.pool, DATA_VALUE_COLUMNS, filter).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let v = row_to_data_value(r)?;
            if readable(scope, filter, &v) {
                out.push(v);
            }
        }
        Ok(out)
    }

    async fn data_value_records(
        &self,
        scope: &ReadScope,
        filter: &DataValueFilter,
    ) -> Result<Vec<ValueRecord>> {
        let rows = select_values(&self.pool, VALUE_RECORD_COLUMNS, filter).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let v = row_to_value_record(r)?;
            if readable(scope, filter, &v.value) {
                out.push(v);
            }
        }
        Ok(out)
    }

    async fn for_each_numeric_value(
        &self,
        f: &mut (dyn FnMut(NumericValue<'_>) -> ControlFlow<()> + Send),
    ) -> Result<NumericScan> {
        // One read transaction so the pages form one snapshot (SQLite in WAL mode gives
        // that to any transaction; PostgreSQL needs REPEATABLE READ).
        let begin = if <Db as sqlx::Database>::NAME == "PostgreSQL" {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        } else {
            "BEGIN"
        };
        let mut tx = self.pool.begin_with(begin).await?;
        let text: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM data_values WHERE value_type = 'text'")
                .fetch_one(&mut *tx)
                .await?;
        let mut scan = NumericScan {
            numeric: 0,
            text: usize::try_from(text).unwrap_or_default(),
        };
        let mut decoder = NumericDecoder::default();
        // Keyset pages by id: each page is an index range, however far into the table.
        let mut after = i64::MIN;
        loop {
            let rows = sqlx::query(
                "SELECT id, element, area_code, period, value_type, num_value, numerator,
                     denominator, bool_value
                 FROM data_values WHERE id > $1 AND value_type <> 'text'
                 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(NUMERIC_PAGE)
            .fetch_all(&mut *tx)
            .await?;
            for row in &rows {
                scan.numeric += 1;
                if decoder.decode(row, f)?.is_break() {
                    tx.commit().await?;
                    return Ok(scan);
                }
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == NUMERIC_PAGE => after = last.try_get(0)?,
                _ => break,
            }
        }
        tx.commit().await?;
        Ok(scan)
    }

    async fn verify_audit(&self) -> Result<AuditCheck> {
        let mut check = AuditCheck::default();
        let mut prev: Option<String> = None;
        let mut after_id = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT id, at, actor, entity, entity_key, action, before, after, hash
                 FROM audit_log WHERE id > $1 ORDER BY id LIMIT 10000",
            )
            .bind(after_id)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = rows.last() else {
                return Ok(check);
            };
            after_id = last.try_get("id")?;
            for r in &rows {
                let id: i64 = r.try_get("id")?;
                check.rows += 1;
                let hash: Option<String> = r.try_get("hash")?;
                let (hash, link) = match (hash, &prev) {
                    // Rows from before the chain began.
                    (None, None) => {
                        check.unchained += 1;
                        continue;
                    }
                    (None, Some(_)) => {
                        check.first_broken = Some(id);
                        return Ok(check);
                    }
                    (Some(h), p) => (h, p.clone().unwrap_or_default()),
                };
                let text = |c: &str| -> Result<String> { Ok(r.try_get(c)?) };
                let before: Option<Json<JsonValue>> = r.try_get("before")?;
                let after: Option<Json<JsonValue>> = r.try_get("after")?;
                let fields = [
                    text("at")?,
                    text("actor")?,
                    text("entity")?,
                    text("entity_key")?,
                    text("action")?,
                ];
                let expected = crate::audit_hash(
                    &link,
                    fields.each_ref().map(String::as_str),
                    before.as_ref().map(|j| &j.0),
                    after.as_ref().map(|j| &j.0),
                );
                if expected != hash {
                    check.first_broken = Some(id);
                    return Ok(check);
                }
                prev = Some(hash);
            }
        }
    }

    async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, entity, entity_key, action, before, after FROM audit_log
             WHERE ($1 IS NULL OR entity = $1) AND ($2 IS NULL OR entity_key = $2)
                 AND ($3 IS NULL OR actor = $3) AND id > $4
             ORDER BY id LIMIT $5",
        )
        .bind(filter.entity.as_deref())
        .bind(filter.entity_key.as_deref())
        .bind(filter.actor.as_deref())
        .bind(filter.after_id.unwrap_or(0))
        .bind(filter.limit.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let action: String = r.try_get("action")?;
                let before: Option<Json<JsonValue>> = r.try_get("before")?;
                let after: Option<Json<JsonValue>> = r.try_get("after")?;
                Ok(AuditEntry {
                    id,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    entity: r.try_get("entity")?,
                    entity_key: r.try_get("entity_key")?,
                    action: AuditAction::parse(&action).ok_or_else(|| {
                        StoreError::corrupt(
                            "audit entry",
                            id.to_string(),
                            format!("action {action:?}"),
                        )
                    })?,
                    before: before.map(|j| j.0),
                    after: after.map(|j| j.0),
                })
            })
            .collect()
    }

    async fn row_counts(&self) -> Result<Vec<(String, i64)>> {
        let mut out = Vec::with_capacity(TABLES.len());
        for t in TABLES {
            // Table names come from a constant list, never from input.
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}")))
                .fetch_one(&self.pool)
                .await?;
            out.push((t.to_string(), n));
        }
        Ok(out)
    }
}

fn row_to_element(row: &DbRow) -> Result<DataElement> {
    let code: String = row.try_get("code")?;
    let value_type: String = row.try_get("value_type")?;
    let aggregation: String = row.try_get("aggregation")?;
    Ok(DataElement {
        name: row.try_get("name")?,
        unit: row.try_get("unit")?,
        value_type: parse_enum::<ValueType>("data element", &code, &value_type)?,
        aggregation: parse_enum::<Aggregation>("data element", &code, &aggregation)?,
        code,
    })
}
