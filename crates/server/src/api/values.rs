//! Reported values: read with filters, write with optimistic versions, and move through
//! review (submit, approve, return, reopen). Every write is checked against the caller's
//! capability by the store; every read is filtered by the caller's read scope.

use super::{area_param, etag, if_match, period_param, CommonErrors, Json, Path, Query};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use healthplan_app::store::{
    AuditEntry, AuditFilter, DataValueFilter, PeriodRange, ValueKey, ValueRecord,
};
use healthplan_app::AppError;
use healthplan_core::{DataValue, ReviewDecision, Value, ValueStatus, ValueType};
use serde::Deserialize;
use serde_json::Value as JsonValue;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_values, put_values))
        .routes(routes!(get_value, put_value, delete_value))
        .routes(routes!(submit))
        .routes(routes!(approve))
        .routes(routes!(return_value))
        .routes(routes!(reopen))
        .routes(routes!(history))
}

/// Largest page of values one request returns.
const MAX_ROWS: usize = 10_000;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ValueFilter {
    /// Data element code.
    pub element: Option<String>,
    /// Exactly this area.
    pub area: Option<String>,
    /// This area and every area below it.
    pub under: Option<String>,
    /// First period of the range (e.g. `2020`, `2024Q1`, `202401`).
    pub from: Option<String>,
    /// Last period of the range.
    pub to: Option<String>,
    /// `draft`, `submitted`, `approved` or `returned`.
    pub status: Option<ValueStatus>,
}

/// Values the caller may read, with who changed and reviewed them (at most 10,000).
#[utoipa::path(get, path = "/api/v1/values", tag = "values",
    params(ValueFilter),
    responses((status = 200, body = Vec<ValueRecord>), CommonErrors))]
async fn list_values(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<ValueFilter>,
) -> Result<Json<Vec<ValueRecord>>, ApiError> {
    let scope = auth.signed_in()?.reader();
    let filter = DataValueFilter {
        element: q.element.filter(|e| !e.is_empty()),
        area: q
            .area
            .as_deref()
            .map(|a| area_param("area", a))
            .transpose()?,
        under: q
            .under
            .as_deref()
            .map(|a| area_param("under", a))
            .transpose()?,
        range: PeriodRange {
            from: q
                .from
                .as_deref()
                .map(|p| period_param("from", p))
                .transpose()?,
            to: q.to.as_deref().map(|p| period_param("to", p)).transpose()?,
        },
        status: q.status,
        ..Default::default()
    };
    let mut rows = state
        .app
        .store()
        .data_value_records(&scope, &filter)
        .await?;
    rows.truncate(MAX_ROWS);
    Ok(Json(rows))
}

fn key(element: &str, area: &str, period: &str) -> Result<ValueKey, ApiError> {
    if element.trim().is_empty() {
        return Err(ApiError::invalid(
            "element",
            "数据元代码为空",
            "empty element code",
        ));
    }
    Ok(ValueKey::new(
        element.trim(),
        area_param("area", area)?,
        period_param("period", period)?,
    ))
}

fn with_version(v: DataValue) -> Response {
    let tag = etag(v.version);
    ([tag], Json(v)).into_response()
}

/// One value, with its version as `ETag`.
#[utoipa::path(get, path = "/api/v1/values/{element}/{area}/{period}", tag = "values",
    params(("element" = String, Path), ("area" = String, Path), ("period" = String, Path)),
    responses((status = 200, body = DataValue, headers(("ETag" = String, description = "The version"))), CommonErrors))]
async fn get_value(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((element, area, period)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let scope = auth.signed_in()?.reader();
    let k = key(&element, &area, &period)?;
    state
        .app
        .store()
        .data_value(&scope, &k)
        .await?
        .map(with_version)
        .ok_or_else(|| ApiError::not_found("数据", "value"))
}

/// A value as entered. Give `value` (a number, true/false or text) or `numerator` and
/// `denominator`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ValueInput {
    #[schema(value_type = Option<Object>)]
    pub value: Option<JsonValue>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// `draft` (the default) or `submitted`.
    #[serde(default)]
    pub status: Option<ValueStatus>,
    pub comment: Option<String>,
    /// The version being replaced (or send `If-Match`); absent for a new value.
    pub version: Option<i64>,
}

/// The element's declared type decides how `value` is read.
fn content(input: &ValueInput, value_type: ValueType) -> Result<Value, ApiError> {
    match (&input.value, input.numerator, input.denominator) {
        (None, Some(n), Some(d)) => Ok(Value::Ratio {
            numerator: n,
            denominator: d,
        }),
        (None, _, _) => Err(ApiError::invalid(
            "value",
            "请填写数值，或分子和分母",
            "give a value, or a numerator and a denominator",
        )),
        (Some(v), _, _) => match (v, value_type) {
            (JsonValue::Number(n), ValueType::Number) => n
                .as_f64()
                .map(|value| Value::Number { value })
                .ok_or_else(|| ApiError::invalid("value", "不是有效数字", "not a usable number")),
            (JsonValue::Bool(b), ValueType::Boolean) => Ok(Value::Boolean { value: *b }),
            (JsonValue::String(s), ValueType::Text) => Ok(Value::Text { value: s.clone() }),
            (_, t) => Err(ApiError::invalid(
                "value",
                format!(
                    "该数据元应填写{}",
                    match t {
                        ValueType::Number => "数字",
                        ValueType::Boolean => "是/否",
                        ValueType::Text => "文字",
                    }
                ),
                format!("this element takes a {t:?} value").to_lowercase(),
            )),
        },
    }
}

/// A value as a reporter enters it: draft or submitted, with its comment.
fn entered(k: &ValueKey, body: &ValueInput, value_type: ValueType) -> Result<DataValue, ApiError> {
    let status = body.status.unwrap_or(ValueStatus::Draft);
    if !matches!(status, ValueStatus::Draft | ValueStatus::Submitted) {
        return Err(ApiError::invalid(
            "status",
            "填报只能保存为草稿或提交；审核请用审核操作",
            "entry saves a draft or submits; review has its own operations",
        ));
    }
    let mut v = DataValue::new(
        &k.element,
        k.area.clone(),
        k.period,
        content(body, value_type)?,
    )
    .map_err(|e| match e {
        healthplan_core::CoreError::Invalid { field, reason } => {
            ApiError::invalid(&field, reason.clone(), reason)
        }
        other => ApiError::invalid("value", other.to_string(), other.to_string()),
    })?;
    v.status = status;
    v.comment = body
        .comment
        .as_ref()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    Ok(v)
}

async fn value_types(
    state: &AppState,
) -> Result<std::collections::HashMap<String, ValueType>, ApiError> {
    Ok(state
        .app
        .store()
        .list_data_elements()
        .await?
        .into_iter()
        .map(|e| (e.code, e.value_type))
        .collect())
}

/// The declared type of an element; values of undeclared elements are refused.
fn declared(
    types: &std::collections::HashMap<String, ValueType>,
    element: &str,
) -> Result<ValueType, ApiError> {
    types.get(element).copied().ok_or_else(|| {
        ApiError::invalid(
            "element",
            format!("数据元 {element} 未登记"),
            format!("data element {element} is not declared"),
        )
    })
}

/// One value of a batch: its key and what is entered.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchValue {
    pub element: String,
    pub area: String,
    pub period: String,
    #[serde(flatten)]
    pub input: ValueInput,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Batch {
    pub values: Vec<BatchValue>,
}

/// Saves several values at once, all or nothing. Every row is checked against the caller's
/// areas and departments before anything is written; the first refusal names its row.
#[utoipa::path(post, path = "/api/v1/values", tag = "values",
    request_body = Batch,
    responses((status = 200, body = Vec<DataValue>), CommonErrors))]
async fn put_values(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<Batch>,
) -> Result<Json<Vec<DataValue>>, ApiError> {
    let writer = auth
        .signed_in()?
        .value_writer()
        .ok_or_else(|| ApiError::no_right("填报数据", "enter values"))?;
    if body.values.len() > 5000 {
        return Err(ApiError::invalid(
            "values",
            "一次最多 5000 条",
            "at most 5000 values at once",
        ));
    }
    let types = value_types(&state).await?;
    let at = |i: usize, e: ApiError| {
        let field = format!("values[{i}].{}", e.field.clone().unwrap_or_default());
        e.field(field)
    };
    let mut rows = Vec::with_capacity(body.values.len());
    for (i, b) in body.values.iter().enumerate() {
        let k = key(&b.element, &b.area, &b.period).map_err(|e| at(i, e))?;
        writer
            .check(&k.element, &k.area)
            .map_err(|d| at(i, d.into()))?;
        let vt = declared(&types, &k.element).map_err(|e| at(i, e))?;
        rows.push((
            entered(&k, &b.input, vt).map_err(|e| at(i, e))?,
            b.input.version,
        ));
    }
    match state.app.enter_values(&auth.caps, &rows).await {
        Ok(saved) => Ok(Json(saved)),
        Err(AppError::Refused(r)) => {
            let i = r.index;
            Err(at(i, AppError::Refused(r).into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Why a write was refused with a conflict, with the current value attached.
async fn conflict(state: &AppState, auth: &Auth, k: &ValueKey, e: AppError) -> ApiError {
    let err = ApiError::from(e);
    if err.status != StatusCode::CONFLICT {
        return err;
    }
    match state.app.store().data_value(&auth.caps.reader(), k).await {
        Ok(Some(current)) => err.with_current(serde_json::to_value(current).unwrap_or_default()),
        _ => err,
    }
}

/// Saves a value as draft or submits it. Needs the current version (`If-Match` or
/// `version`) when the value exists; a stale one gets 409 with the current value. Approved
/// values are locked (409 `locked`) until a planner reopens them.
#[utoipa::path(put, path = "/api/v1/values/{element}/{area}/{period}", tag = "values",
    params(("element" = String, Path), ("area" = String, Path), ("period" = String, Path),
        ("If-Match" = Option<String>, Header, description = "The version being replaced")),
    request_body = ValueInput,
    responses((status = 200, body = DataValue, headers(("ETag" = String))), CommonErrors))]
async fn put_value(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path((element, area, period)): Path<(String, String, String)>,
    Json(body): Json<ValueInput>,
) -> Result<Response, ApiError> {
    let writer = auth
        .signed_in()?
        .value_writer()
        .ok_or_else(|| ApiError::no_right("填报数据", "enter values"))?;
    let k = key(&element, &area, &period)?;
    // Refused before anything is read, so a reporter learns nothing of others' elements.
    writer.check(&k.element, &k.area)?;
    let version = if_match(&headers)?.or(body.version);
    let value_type = declared(&value_types(&state).await?, &k.element)?;
    let v = entered(&k, &body, value_type)?;
    enter(&state, &auth, &k, v, version).await
}

/// Enters one value through the value rules; a conflict answers with the stored value.
async fn enter(
    state: &AppState,
    auth: &Auth,
    k: &ValueKey,
    v: DataValue,
    version: Option<i64>,
) -> Result<Response, ApiError> {
    match state.app.enter_values(&auth.caps, &[(v, version)]).await {
        Ok(mut stored) if stored.len() == 1 => Ok(with_version(stored.remove(0))),
        Ok(_) => Err(ApiError::not_found("数据", "value")),
        Err(e) => Err(conflict(state, auth, k, e).await),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct VersionQuery {
    /// The version being deleted (or send `If-Match`).
    pub version: Option<i64>,
}

/// Deletes a draft or returned value (needs its version).
#[utoipa::path(delete, path = "/api/v1/values/{element}/{area}/{period}", tag = "values",
    params(("element" = String, Path), ("area" = String, Path), ("period" = String, Path),
        ("If-Match" = Option<String>, Header), VersionQuery),
    responses((status = 204, description = "Deleted"), CommonErrors))]
async fn delete_value(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path((element, area, period)): Path<(String, String, String)>,
    Query(q): Query<VersionQuery>,
) -> Result<StatusCode, ApiError> {
    let writer = auth
        .signed_in()?
        .value_writer()
        .ok_or_else(|| ApiError::no_right("删除数据", "delete values"))?;
    let k = key(&element, &area, &period)?;
    writer.check(&k.element, &k.area)?;
    let version = if_match(&headers)?.or(q.version).ok_or_else(|| {
        ApiError::invalid(
            "version",
            "删除需要提供当前版本",
            "deleting needs the current version",
        )
    })?;
    match state.app.delete_data_value(&writer, &k, version).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(e) => Err(conflict(&state, &auth, &k, e).await),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Decision {
    /// The version the decision is about.
    pub version: i64,
    /// Why (required to return or reopen).
    pub comment: Option<String>,
}

/// Submits a draft or returned value for review.
#[utoipa::path(post, path = "/api/v1/values/{element}/{area}/{period}/submit", tag = "values",
    params(("element" = String, Path), ("area" = String, Path), ("period" = String, Path)),
    request_body = Decision,
    responses((status = 200, body = DataValue), CommonErrors))]
async fn submit(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((element, area, period)): Path<(String, String, String)>,
    Json(body): Json<Decision>,
) -> Result<Response, ApiError> {
    let writer = auth
        .signed_in()?
        .value_writer()
        .ok_or_else(|| ApiError::no_right("提交数据", "submit values"))?;
    let k = key(&element, &area, &period)?;
    writer.check(&k.element, &k.area)?;
    let mut v = state
        .app
        .store()
        .data_value(&auth.caps.reader(), &k)
        .await?
        .ok_or_else(|| ApiError::not_found("数据", "value"))?;
    v.status = ValueStatus::Submitted;
    if let Some(c) = body.comment.filter(|c| !c.trim().is_empty()) {
        v.comment = Some(c);
    }
    enter(&state, &auth, &k, v, Some(body.version)).await
}

async fn review(
    state: &AppState,
    auth: &Auth,
    (element, area, period): (String, String, String),
    body: Decision,
    decision: ReviewDecision,
) -> Result<Response, ApiError> {
    let reviewer = auth
        .signed_in()?
        .reviewer()
        .ok_or_else(|| ApiError::no_right("审核数据", "review values"))?;
    let k = key(&element, &area, &period)?;
    reviewer.check_area(&k.area)?;
    match state
        .app
        .review_data_value(
            &reviewer,
            &k,
            body.version,
            decision,
            body.comment.as_deref(),
        )
        .await
    {
        Ok(v) => {
            crate::state::after_approval(state, &v);
            Ok(with_version(v))
        }
        Err(e) => Err(conflict(state, auth, &k, e).await),
    }
}

/// Approves a submitted value; it is locked from then on.
#[utoipa::path(post, path = "/api/v1/values/{element}/{area}/{period}/approve", tag = "values",
    params(("element" = String, Path), ("area" = String, Path), ("period" = String, Path)),
    request_body = Decision,
    responses((status = 200, body = DataValue), CommonErrors))]
async fn approve(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(p): Path<(String, String, String)>,
    Json(body): Json<Decision>,
) -> Result<Response, ApiError> {
    review(&state, &auth, p, body, ReviewDecision::Approve).await
}

/// Returns a submitted value to its reporter with a comment saying why.
#[utoipa::path(post, path = "/api/v1/values/{element}/{area}/{period}/return", tag = "values",
    params(("element" = String, Path), ("area" = String, Path), ("period" = String, Path)),
    request_body = Decision,
    responses((status = 200, body = DataValue), CommonErrors))]
async fn return_value(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(p): Path<(String, String, String)>,
    Json(body): Json<Decision>,
) -> Result<Response, ApiError> {
    review(&state, &auth, p, body, ReviewDecision::Return).await
}

/// Reopens an approved value (audited): it goes back to the reporter as returned.
#[utoipa::path(post, path = "/api/v1/values/{element}/{area}/{period}/reopen", tag = "values",
    params(("element" = String, Path), ("area" = String, Path), ("period" = String, Path)),
    request_body = Decision,
    responses((status = 200, body = DataValue), CommonErrors))]
async fn reopen(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(p): Path<(String, String, String)>,
    Json(body): Json<Decision>,
) -> Result<Response, ApiError> {
    review(&state, &auth, p, body, ReviewDecision::Reopen).await
}

/// Every change to a value (the audit log), oldest first.
#[utoipa::path(get, path = "/api/v1/values/{element}/{area}/{period}/history", tag = "values",
    params(("element" = String, Path), ("area" = String, Path), ("period" = String, Path)),
    responses((status = 200, body = Vec<AuditEntry>), CommonErrors))]
async fn history(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((element, area, period)): Path<(String, String, String)>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let scope = auth.signed_in()?.reader();
    let k = key(&element, &area, &period)?;
    if !scope.area(&k.area) {
        return Err(ApiError::not_found("数据", "value"));
    }
    Ok(Json(
        state
            .app
            .store()
            .audit_log(&AuditFilter {
                entity: Some("data_value".into()),
                entity_key: Some(k.to_string()),
                ..Default::default()
            })
            .await?,
    ))
}
