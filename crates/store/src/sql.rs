//! The SQL behind [`Database`], written once and compiled for each backend: sqlite.rs and
//! postgres.rs both include this file as a module, each with its own `Db` and `Backend`.
//! Both databases speak `$n` placeholders, `RETURNING` and `ON CONFLICT`; the schema
//! differences (JSONB, identity columns, trigger syntax) live in the migrations.

use super::{Backend, Db};
use crate::error::{is_foreign_key_violation, is_unique_violation, Result, StoreError};
use crate::model::{
    data_value_key, AuditAction, AuditEntry, AuditFilter, DataValueFilter, ImportCount, Numeric,
    NumericScan, NumericValue, PlanIndicator, PlanSummary, PlanTask,
};
use crate::{now_utc, Database, TABLES};
use healthplan_core::{
    Aggregation, Area, AreaCode, AreaLevel, CoreError, DataElement, DataValue, Department, Grant,
    Period, PlanDocument, Section, TaskProgress, TaskStatus, User, Value, ValueStatus, ValueType,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as JsonValue;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Row};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::ControlFlow;
use std::str::FromStr;

type Tx = sqlx::Transaction<'static, Db>;
type DbRow = <Db as sqlx::Database>::Row;

fn check_actor(actor: &str) -> Result<()> {
    if actor.trim().is_empty() {
        return Err(StoreError::Invalid(
            "the actor (who makes the change) must not be empty".into(),
        ));
    }
    Ok(())
}

/// Domain types always serialise; `Null` keeps this total without a panic path.
fn to_json<T: Serialize>(v: &T) -> JsonValue {
    serde_json::to_value(v).unwrap_or(JsonValue::Null)
}

/// The serde name of a unit-like enum variant (`"higher"`, `"in_progress"` …).
fn enum_str<T: Serialize>(v: &T) -> String {
    match to_json(v) {
        JsonValue::String(s) => s,
        other => other.to_string(),
    }
}

fn parse_enum<T: DeserializeOwned>(entity: &'static str, key: &str, s: &str) -> Result<T> {
    serde_json::from_value(JsonValue::String(s.to_string()))
        .map_err(|e| StoreError::corrupt(entity, key, format!("{s:?}: {e}")))
}

/// A JSON column decoded into a domain type; a row that does not fit is `Corrupt`, naming it.
fn json_column<T: DeserializeOwned>(
    r: &<Db as sqlx::Database>::Row,
    column: &'static str,
    id: i64,
) -> Result<T> {
    let Json(v): Json<JsonValue> = r.try_get(column)?;
    serde_json::from_value(v).map_err(|e| StoreError::corrupt(column, id.to_string(), e))
}

fn parse_code(entity: &'static str, key: &str, s: &str) -> Result<AreaCode> {
    AreaCode::parse(s).map_err(|e| StoreError::corrupt(entity, key, e))
}

fn parse_period(entity: &'static str, key: &str, s: &str) -> Result<Period> {
    s.parse::<Period>()
        .map_err(|e| StoreError::corrupt(entity, key, e))
}

async fn audit(
    tx: &mut Tx,
    actor: &str,
    entity: &str,
    key: &str,
    action: AuditAction,
    before: Option<&JsonValue>,
    after: Option<&JsonValue>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, entity, entity_key, action, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now_utc())
    .bind(actor)
    .bind(entity)
    .bind(key)
    .bind(action.as_str())
    .bind(before.map(Json))
    .bind(after.map(Json))
    .execute(&mut **tx)
    .await?;
    Ok(())
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
                 domain, baseline_value, baseline_year, targets, indicator)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The area a plan's `area` name refers to, when exactly that name is stored.
async fn area_code_for_name(tx: &mut Tx, name: &str) -> Result<Option<String>> {
    if name.trim().is_empty() {
        return Ok(None);
    }
    Ok(
        sqlx::query_scalar("SELECT code FROM areas WHERE name = $1 ORDER BY code LIMIT 1")
            .bind(name.trim())
            .fetch_optional(&mut **tx)
            .await?,
    )
}

fn decode_plan(id: i64, doc: JsonValue) -> Result<PlanDocument> {
    let doc: PlanDocument =
        serde_json::from_value(doc).map_err(|e| StoreError::corrupt("plan", id.to_string(), e))?;
    doc.validate()
        .map_err(|e| StoreError::corrupt("plan", id.to_string(), e))?;
    Ok(doc)
}

async fn fetch_plan(ex: &mut <Db as sqlx::Database>::Connection, id: i64) -> Result<PlanDocument> {
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

// ---- data values -------------------------------------------------------------------------

const DATA_VALUE_COLUMNS: &str = "element, area_code, period, value_type, num_value, numerator,
     denominator, bool_value, text_value, status, version, comment";

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
fn row_to_data_value(row: &DbRow) -> Result<DataValue> {
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
        element,
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
             denominator, bool_value, text_value, status, version, comment, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
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
             version = version + 1, comment = $8, updated_by = $9, updated_at = $10
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
    .execute(&mut **tx)
    .await
    .map_err(|e| data_value_write_error(e, v))?;
    Ok(done.rows_affected() == 1)
}

/// An audit row collected for a batched insert.
struct AuditRow {
    key: String,
    action: AuditAction,
    before: Option<JsonValue>,
    after: Option<JsonValue>,
}

// ---- task progress, users ------------------------------------------------------------------

fn task_progress_key(p: &TaskProgress) -> String {
    format!("{}/{}/{}/{}", p.plan_id, p.task_id, p.area, p.period)
}

fn row_to_task_progress(row: &DbRow) -> Result<TaskProgress> {
    let plan_id: i64 = row.try_get("plan_id")?;
    let task_id: String = row.try_get("task_key")?;
    let area: String = row.try_get("area_code")?;
    let period: String = row.try_get("period")?;
    let key = format!("{plan_id}/{task_id}/{area}/{period}");
    let status: String = row.try_get("status")?;
    Ok(TaskProgress {
        area: parse_code("task progress", &key, &area)?,
        period: parse_period("task progress", &key, &period)?,
        status: parse_enum::<TaskStatus>("task progress", &key, &status)?,
        note: row.try_get("note")?,
        plan_id,
        task_id,
    })
}

async fn fetch_user(
    ex: &mut <Db as sqlx::Database>::Connection,
    username: &str,
) -> Result<Option<User>> {
    let Some(row) = sqlx::query("SELECT username, display_name FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&mut *ex)
        .await?
    else {
        return Ok(None);
    };
    let username: String = row.try_get("username")?;
    let rows = sqlx::query(
        "SELECT role, area_code, departments FROM user_grants WHERE username = $1 ORDER BY id",
    )
    .bind(&username)
    .fetch_all(&mut *ex)
    .await?;
    let mut grants = Vec::with_capacity(rows.len());
    for r in &rows {
        let role: String = r.try_get("role")?;
        let area: String = r.try_get("area_code")?;
        let Json(departments): Json<Vec<String>> = r.try_get("departments")?;
        grants.push(Grant {
            role: parse_enum("user", &username, &role)?,
            area: parse_code("user", &username, &area)?,
            departments,
        });
    }
    Ok(Some(User {
        display_name: row.try_get("display_name")?,
        username,
        grants,
    }))
}

async fn insert_grants(tx: &mut Tx, user: &User) -> Result<()> {
    for g in &user.grants {
        sqlx::query(
            "INSERT INTO user_grants (username, role, area_code, departments) VALUES ($1, $2, $3, $4)",
        )
        .bind(&user.username)
        .bind(enum_str(&g.role))
        .bind(g.area.as_str())
        .bind(Json(&g.departments))
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::Invalid(format!(
                    "user {}: grant area {} is not a known area",
                    user.username, g.area
                ))
            } else {
                e.into()
            }
        })?;
    }
    Ok(())
}

fn user_audit_json(user: &User, has_password: bool) -> JsonValue {
    let mut v = to_json(user);
    if let JsonValue::Object(m) = &mut v {
        // The hash itself never goes into the log.
        m.insert("has_password".into(), JsonValue::Bool(has_password));
    }
    v
}

impl Database for Backend {
    async fn import_areas(&self, actor: &str, areas: &[Area]) -> Result<ImportCount> {
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
            let action = if before.is_some() {
                AuditAction::Update
            } else {
                AuditAction::Insert
            };
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
        actor: &str,
        departments: &[Department],
    ) -> Result<ImportCount> {
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
        actor: &str,
        doc: &PlanDocument,
        source_text: Option<&str>,
    ) -> Result<i64> {
        check_actor(actor)?;
        doc.validate()?;
        let mut tx = self.begin_write().await?;
        let now = now_utc();
        let area_code = area_code_for_name(&mut tx, &doc.area).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO plans (title, area, area_code, kind, document, source_text, created_at,
                 created_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)
             RETURNING id",
        )
        .bind(&doc.title)
        .bind(&doc.area)
        .bind(area_code)
        .bind(&doc.kind)
        .bind(Json(doc))
        .bind(source_text)
        .bind(&now)
        .bind(actor)
        .fetch_one(&mut *tx)
        .await?;
        insert_plan_rows(&mut tx, id, doc).await?;
        audit(
            &mut tx,
            actor,
            "plan",
            &id.to_string(),
            AuditAction::Insert,
            None,
            Some(&to_json(doc)),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_plan(&self, actor: &str, id: i64, doc: &PlanDocument) -> Result<()> {
        check_actor(actor)?;
        doc.validate()?;
        let mut tx = self.begin_write().await?;
        let before = fetch_plan(&mut tx, id).await?;
        let area_code = area_code_for_name(&mut tx, &doc.area).await?;
        sqlx::query(
            "UPDATE plans SET title = $1, area = $2, area_code = $3, kind = $4, document = $5,
                 updated_at = $6
             WHERE id = $7",
        )
        .bind(&doc.title)
        .bind(&doc.area)
        .bind(area_code)
        .bind(&doc.kind)
        .bind(Json(doc))
        .bind(now_utc())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM plan_tasks WHERE plan_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM plan_indicators WHERE plan_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_plan_rows(&mut tx, id, doc).await?;
        audit(
            &mut tx,
            actor,
            "plan",
            &id.to_string(),
            AuditAction::Update,
            Some(&to_json(&before)),
            Some(&to_json(doc)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn plan(&self, id: i64) -> Result<PlanDocument> {
        let mut conn = self.pool.acquire().await?;
        fetch_plan(&mut conn, id).await
    }

    async fn plan_source_text(&self, id: i64) -> Result<Option<String>> {
        let row: Option<Option<String>> =
            sqlx::query_scalar("SELECT source_text FROM plans WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.ok_or_else(|| StoreError::NotFound {
            entity: "plan",
            key: id.to_string(),
        })
    }

    async fn list_plans(&self) -> Result<Vec<PlanSummary>> {
        let rows = sqlx::query(
            "SELECT p.id, p.title, p.area, p.area_code, p.kind, p.created_at, p.created_by,
                 (p.source_text IS NOT NULL) AS has_source_text,
                 (SELECT COUNT(*) FROM plan_tasks t WHERE t.plan_id = p.id) AS tasks,
                 (SELECT COUNT(*) FROM plan_indicators i WHERE i.plan_id = p.id) AS indicators
             FROM plans p ORDER BY p.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let area_code: Option<String> = r.try_get("area_code")?;
                Ok(PlanSummary {
                    id,
                    title: r.try_get("title")?,
                    area: r.try_get("area")?,
                    area_code: area_code
                        .map(|c| parse_code("plan", &id.to_string(), &c))
                        .transpose()?,
                    kind: r.try_get("kind")?,
                    tasks: r.try_get("tasks")?,
                    indicators: r.try_get("indicators")?,
                    has_source_text: r.try_get("has_source_text")?,
                    created_at: r.try_get("created_at")?,
                    created_by: r.try_get("created_by")?,
                })
            })
            .collect()
    }

    async fn plan_indicators(&self, plan_id: i64) -> Result<Vec<PlanIndicator>> {
        let rows = sqlx::query(
            "SELECT id, idx, indicator FROM plan_indicators WHERE plan_id = $1 ORDER BY idx",
        )
        .bind(plan_id)
        .fetch_all(&self.pool)
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

    async fn plan_tasks(&self, plan_id: i64) -> Result<Vec<PlanTask>> {
        let rows = sqlx::query(
            "SELECT id, idx, section, task FROM plan_tasks WHERE plan_id = $1 ORDER BY idx",
        )
        .bind(plan_id)
        .fetch_all(&self.pool)
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

    async fn put_data_elements(&self, actor: &str, elements: &[DataElement]) -> Result<()> {
        check_actor(actor)?;
        let mut tx = self.begin_write().await?;
        for element in elements {
            let before = sqlx::query(
                "SELECT code, name, value_type, aggregation FROM data_elements WHERE code = $1",
            )
            .bind(&element.code)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| row_to_element(&r))
            .transpose()?;
            if before.as_ref() == Some(element) {
                continue;
            }
            sqlx::query(
                "INSERT INTO data_elements (code, name, value_type, aggregation) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name,
                     value_type = excluded.value_type, aggregation = excluded.aggregation",
            )
            .bind(&element.code)
            .bind(&element.name)
            .bind(enum_str(&element.value_type))
            .bind(enum_str(&element.aggregation))
            .execute(&mut *tx)
            .await?;
            let action = if before.is_some() {
                AuditAction::Update
            } else {
                AuditAction::Insert
            };
            let before = before.as_ref().map(to_json);
            audit(
                &mut tx,
                actor,
                "data_element",
                &element.code,
                action,
                before.as_ref(),
                Some(&to_json(element)),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn list_data_elements(&self) -> Result<Vec<DataElement>> {
        let rows = sqlx::query(
            "SELECT code, name, value_type, aggregation FROM data_elements ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_element).collect()
    }

    async fn put_data_value(
        &self,
        actor: &str,
        value: &DataValue,
        expected_version: Option<i64>,
    ) -> Result<DataValue> {
        check_actor(actor)?;
        // Re-run the constructor's checks: the fields are public.
        DataValue::new(
            &value.element,
            value.area.clone(),
            value.period,
            value.value.clone(),
        )?;
        let key = data_value_key(&value.element, &value.area, value.period);
        let conflict = |stored: Option<i64>| StoreError::VersionConflict {
            entity: "data value",
            key: key.clone(),
            sent: expected_version,
            stored,
        };
        let mut tx = self.begin_write().await?;
        let before = fetch_data_value(&mut tx, &value.element, &value.area, value.period).await?;
        let mut stored = value.clone();
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
                insert_data_value(&mut tx, actor, &stored, 1).await?;
            }
            (Some(b), Some(v)) if b.version == v => {
                if !b.status.can_become(value.status) {
                    return Err(StoreError::Workflow {
                        key,
                        from: b.status.as_str(),
                        to: value.status.as_str(),
                    });
                }
                if !update_data_value(&mut tx, actor, value, v).await? {
                    return Err(conflict(None));
                }
                stored.version = v + 1;
            }
            (b, _) => return Err(conflict(b.as_ref().map(|b| b.version))),
        }
        let action = if before.is_some() {
            AuditAction::Update
        } else {
            AuditAction::Insert
        };
        let before = before.as_ref().map(to_json);
        audit(
            &mut tx,
            actor,
            "data_value",
            &key,
            action,
            before.as_ref(),
            Some(&to_json(&stored)),
        )
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn import_data_values(&self, actor: &str, values: &[DataValue]) -> Result<ImportCount> {
        check_actor(actor)?;
        let mut keys = HashSet::new();
        for v in values {
            DataValue::new(&v.element, v.area.clone(), v.period, v.value.clone())?;
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
                        && b.comment == value.comment =>
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
                     updated_by, updated_at) ",
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
                    .push_bind(now.clone());
            });
            q.build().execute(&mut *tx).await?;
        }
        for chunk in audits.chunks(1000) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO audit_log (at, actor, entity, entity_key, action, before, after) ",
            );
            q.push_values(chunk, |mut b, a| {
                b.push_bind(now.clone())
                    .push_bind(actor.to_string())
                    .push_bind("data_value")
                    .push_bind(a.key.clone())
                    .push_bind(a.action.as_str())
                    .push_bind(a.before.clone().map(Json))
                    .push_bind(a.after.clone().map(Json));
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(count)
    }

    async fn delete_data_value(
        &self,
        actor: &str,
        element: &str,
        area: &AreaCode,
        period: Period,
        expected_version: i64,
    ) -> Result<()> {
        check_actor(actor)?;
        let key = data_value_key(element, area, period);
        let mut tx = self.begin_write().await?;
        let Some(before) = fetch_data_value(&mut tx, element, area, period).await? else {
            return Err(StoreError::NotFound {
                entity: "data value",
                key,
            });
        };
        let done = sqlx::query(
            "DELETE FROM data_values
             WHERE element = $1 AND area_code = $2 AND period = $3 AND version = $4",
        )
        .bind(element)
        .bind(area.as_str())
        .bind(period.to_string())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::VersionConflict {
                entity: "data value",
                key,
                sent: Some(expected_version),
                stored: Some(before.version),
            });
        }
        audit(
            &mut tx,
            actor,
            "data_value",
            &key,
            AuditAction::Delete,
            Some(&to_json(&before)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_data_values(&self, filter: &DataValueFilter) -> Result<Vec<DataValue>> {
        let sql = format!(
            "SELECT {DATA_VALUE_COLUMNS} FROM data_values
             WHERE ($1 IS NULL OR element = $1) AND ($2 IS NULL OR area_code = $2)
                 AND ($3 IS NULL OR period = $3)
             ORDER BY element, area_code, period"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(filter.element.as_deref())
            .bind(filter.area.as_ref().map(AreaCode::as_str))
            .bind(filter.period.map(|p| p.to_string()))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(row_to_data_value).collect()
    }

    async fn all_data_values(&self) -> Result<Vec<DataValue>> {
        self.list_data_values(&DataValueFilter::default()).await
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

    async fn put_task_progress(&self, actor: &str, progress: &TaskProgress) -> Result<()> {
        check_actor(actor)?;
        progress.period.check()?;
        let key = task_progress_key(progress);
        let mut tx = self.begin_write().await?;
        let task: Option<i64> =
            sqlx::query_scalar("SELECT id FROM plan_tasks WHERE plan_id = $1 AND task_key = $2")
                .bind(progress.plan_id)
                .bind(&progress.task_id)
                .fetch_optional(&mut *tx)
                .await?;
        if task.is_none() {
            return Err(StoreError::NotFound {
                entity: "task",
                key: format!("{} of plan {}", progress.task_id, progress.plan_id),
            });
        }
        let before = sqlx::query(
            "SELECT plan_id, task_key, area_code, period, status, note FROM task_progress
             WHERE plan_id = $1 AND task_key = $2 AND area_code = $3 AND period = $4",
        )
        .bind(progress.plan_id)
        .bind(&progress.task_id)
        .bind(progress.area.as_str())
        .bind(progress.period.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| row_to_task_progress(&r))
        .transpose()?;
        if before.as_ref() == Some(progress) {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO task_progress (plan_id, task_key, area_code, period, status, note,
                 updated_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (plan_id, task_key, area_code, period) DO UPDATE SET
                 status = excluded.status, note = excluded.note,
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(progress.plan_id)
        .bind(&progress.task_id)
        .bind(progress.area.as_str())
        .bind(progress.period.to_string())
        .bind(enum_str(&progress.status))
        .bind(&progress.note)
        .bind(actor)
        .bind(now_utc())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::Invalid(format!(
                    "task progress {key}: area {} is not a known area",
                    progress.area
                ))
            } else {
                e.into()
            }
        })?;
        let action = if before.is_some() {
            AuditAction::Update
        } else {
            AuditAction::Insert
        };
        let before = before.as_ref().map(to_json);
        audit(
            &mut tx,
            actor,
            "task_progress",
            &key,
            action,
            before.as_ref(),
            Some(&to_json(progress)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_task_progress(&self, plan_id: i64) -> Result<Vec<TaskProgress>> {
        let rows = sqlx::query(
            "SELECT plan_id, task_key, area_code, period, status, note FROM task_progress
             WHERE plan_id = $1 ORDER BY task_key, area_code, period",
        )
        .bind(plan_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_task_progress).collect()
    }

    async fn create_user(
        &self,
        actor: &str,
        user: &User,
        password_hash: Option<&str>,
    ) -> Result<()> {
        check_actor(actor)?;
        User::new(&user.username, &user.display_name, Vec::new())?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(password_hash)
        .bind(now_utc())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::AlreadyExists {
                    entity: "user",
                    key: user.username.clone(),
                }
            } else {
                e.into()
            }
        })?;
        insert_grants(&mut tx, user).await?;
        let after = user_audit_json(user, password_hash.is_some());
        audit(
            &mut tx,
            actor,
            "user",
            &user.username,
            AuditAction::Insert,
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_user(&self, actor: &str, user: &User) -> Result<()> {
        check_actor(actor)?;
        let mut tx = self.begin_write().await?;
        let Some(before) = fetch_user(&mut tx, &user.username).await? else {
            return Err(StoreError::NotFound {
                entity: "user",
                key: user.username.clone(),
            });
        };
        let has_password: Option<String> =
            sqlx::query_scalar("SELECT password_hash FROM users WHERE username = $1")
                .bind(&user.username)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query("UPDATE users SET display_name = $1 WHERE username = $2")
            .bind(&user.display_name)
            .bind(&user.username)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM user_grants WHERE username = $1")
            .bind(&user.username)
            .execute(&mut *tx)
            .await?;
        insert_grants(&mut tx, user).await?;
        let has_password = has_password.is_some();
        audit(
            &mut tx,
            actor,
            "user",
            &user.username,
            AuditAction::Update,
            Some(&user_audit_json(&before, has_password)),
            Some(&user_audit_json(user, has_password)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn user(&self, username: &str) -> Result<Option<User>> {
        let mut conn = self.pool.acquire().await?;
        fetch_user(&mut conn, username).await
    }

    async fn user_password_hash(&self, username: &str) -> Result<Option<String>> {
        let row: Option<Option<String>> =
            sqlx::query_scalar("SELECT password_hash FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.flatten())
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let mut conn = self.pool.acquire().await?;
        let names: Vec<String> = sqlx::query_scalar("SELECT username FROM users ORDER BY username")
            .fetch_all(&mut *conn)
            .await?;
        let mut users = Vec::with_capacity(names.len());
        for n in names {
            if let Some(u) = fetch_user(&mut conn, &n).await? {
                users.push(u);
            }
        }
        Ok(users)
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
        value_type: parse_enum::<ValueType>("data element", &code, &value_type)?,
        aggregation: parse_enum::<Aggregation>("data element", &code, &aggregation)?,
        code,
    })
}
