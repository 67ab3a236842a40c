//! Plans: list, read, load, import a document, edit items and element links, the life
//! cycle, evaluation, assessment, alignment, and what the public sees.

use super::{etag, if_match, CommonErrors, Json, Multipart, Path, Query, Text};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use healthplan_app::plans::{PlanChange, PlanEdit, PlanImport};
use healthplan_app::store::{PlanIndicator, PlanSummary, Publication};
use healthplan_core::{PlanDocument, PlanStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value as JsonValue;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_plans, load_plan))
        .routes(routes!(import_document))
        .routes(routes!(get_plan, replace_plan))
        .routes(routes!(export_plan))
        .routes(routes!(list_indicators, add_indicator))
        .routes(routes!(put_indicator, delete_indicator))
        .routes(routes!(link_element))
        .routes(routes!(set_applies_to))
        .routes(routes!(decide_proposal))
        .routes(routes!(put_task, delete_task))
        .routes(routes!(set_status))
        .routes(routes!(publish))
        .routes(routes!(evaluation))
        .routes(routes!(assessment))
        .routes(routes!(alignment))
        .routes(routes!(public_plans))
        .routes(routes!(public_plan))
}

fn editor(auth: &Auth) -> Result<healthplan_access::PlanEditor, ApiError> {
    auth.signed_in()?
        .plan_editor()
        .ok_or_else(|| ApiError::no_right("编辑规划", "edit plans"))
}

/// Plans the caller may read, with status and area.
#[utoipa::path(get, path = "/api/v1/plans", tag = "plans",
    responses((status = 200, body = Vec<PlanSummary>), CommonErrors))]
async fn list_plans(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Vec<PlanSummary>>, ApiError> {
    let caps = auth.signed_in()?;
    Ok(Json(state.app.store().list_plans(&caps.reader()).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

fn parse_document(text: &str) -> Result<PlanDocument, ApiError> {
    PlanDocument::from_json(text).map_err(|e| {
        ApiError::invalid(
            "document",
            format!("规划 JSON 无效：{e}"),
            format!("invalid plan JSON: {e}"),
        )
    })
}

/// Stores a plan given as interchange JSON (`docs/plan-json.md`). Its indicators are linked
/// to data elements by name and unit. Planners of the plan's area; administrators.
#[utoipa::path(post, path = "/api/v1/plans", tag = "plans",
    request_body(content = Object, description = "A plan in the interchange JSON"),
    responses((status = 201, body = Created), CommonErrors))]
async fn load_plan(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Text(body): Text,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let editor = editor(&auth)?;
    let doc = parse_document(&body)?;
    let id = state.app.save_plan(&editor, &doc, None).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub id: i64,
    pub title: String,
    pub area: String,
    pub sections: usize,
    pub tasks: usize,
    pub indicators: usize,
    pub target_statements: usize,
    /// Indicators proposed from the prose targets, waiting for a decision.
    pub proposals: usize,
    /// What the importer noticed and worked around, for the reviewer.
    pub warnings: Vec<String>,
}

/// Reads an uploaded plan document (multipart field `file`: .txt in UTF-8 or GB18030, .docx,
/// and with LibreOffice and poppler installed .doc, .wps and .pdf) and stores it as a draft
/// for review, with its source text. Planners; administrators.
#[utoipa::path(post, path = "/api/v1/plans/import", tag = "plans",
    request_body(content_type = "multipart/form-data", content = Object,
        description = "Field `file`: the plan document"),
    responses((status = 201, body = ImportResult), CommonErrors))]
async fn import_document(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Multipart(mut form): Multipart,
) -> Result<(StatusCode, Json<ImportResult>), ApiError> {
    let caps = auth.signed_in()?;
    // Taken before the upload is read, so waiting imports hold no memory.
    let _slot = state.imports.try_acquire().map_err(|_| {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "正在导入其他规划文件，请稍后重试",
            "other plan documents are being imported; try again shortly",
        );
        e.retry_after = Some(5);
        e
    })?;
    let (name, bytes) = crate::pages::upload::file_field(&mut form, "file").await?;
    let PlanImport { id, imported } = state.app.import_plan(caps, &name, bytes).await?;
    let doc = &imported.plan;
    Ok((
        StatusCode::CREATED,
        Json(ImportResult {
            id,
            title: doc.title.clone(),
            area: doc.area.clone(),
            sections: doc.sections.len(),
            tasks: doc.tasks.len(),
            indicators: doc.indicators.len(),
            target_statements: doc.target_statements.len(),
            proposals: doc.proposals.len(),
            warnings: imported.warnings.iter().map(|w| w.to_string()).collect(),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDetail {
    pub summary: PlanSummary,
    /// The plan in the interchange JSON.
    #[schema(value_type = Object)]
    pub document: PlanDocument,
}

/// A plan: its summary and document.
#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "plans",
    params(("id" = i64, Path)),
    responses((status = 200, body = PlanDetail), CommonErrors))]
async fn get_plan(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let scope = auth.signed_in()?.reader();
    let store = state.app.store();
    let summary = store.plan_summary(&scope, id).await?;
    let tag = etag(summary.version);
    let document = store.plan(&scope, id).await?;
    Ok(([tag], Json(PlanDetail { summary, document })).into_response())
}

/// Replaces a plan's document (a reviewer's corrections); audited with before and after.
#[utoipa::path(put, path = "/api/v1/plans/{id}", tag = "plans",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The plan version the edit was made on (`ETag` of the plan); a stale one is refused with 409")),
    request_body(content = Object, description = "The corrected plan in the interchange JSON"),
    responses((status = 204, description = "Stored"), CommonErrors))]
async fn replace_plan(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Text(body): Text,
) -> Result<Response, ApiError> {
    let doc = parse_document(&body)?;
    let (_, tag) = edit(
        &state,
        &auth,
        &headers,
        id,
        PlanChange::Replace(Box::new(doc)),
    )
    .await?;
    Ok((StatusCode::NO_CONTENT, tag).into_response())
}

/// The plan as interchange JSON, to save or load elsewhere.
#[utoipa::path(get, path = "/api/v1/plans/{id}/export", tag = "plans",
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/json", body = Object), CommonErrors))]
async fn export_plan(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let scope = auth.signed_in()?.reader();
    let doc = state.app.store().plan(&scope, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"plan-{id}.json\""),
            ),
        ],
        doc.to_json_pretty(),
    )
        .into_response())
}

/// The plan's indicators with their row ids and element links.
#[utoipa::path(get, path = "/api/v1/plans/{id}/indicators", tag = "plans",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<PlanIndicator>), CommonErrors))]
async fn list_indicators(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Vec<PlanIndicator>>, ApiError> {
    let scope = auth.signed_in()?.reader();
    Ok(Json(state.app.store().plan_indicators(&scope, id).await?))
}

/// Applies one change through `app::edit_plan` with the version the client names (`If-Match`,
/// optional: without it the change applies to the latest document); answers with the new
/// version as `ETag`.
async fn edit(
    state: &AppState,
    auth: &Auth,
    headers: &HeaderMap,
    id: i64,
    change: PlanChange,
) -> Result<(PlanEdit, [(header::HeaderName, HeaderValue); 1]), ApiError> {
    let caps = auth.signed_in()?;
    let edit = state
        .app
        .edit_plan(caps, id, if_match(headers)?, change)
        .await?;
    let tag = etag(edit.version);
    Ok((edit, [tag]))
}

fn indicator_from(v: JsonValue) -> Result<healthplan_core::Indicator, ApiError> {
    let ind: healthplan_core::Indicator = serde_json::from_value(v).map_err(|e| {
        ApiError::invalid(
            "indicator",
            format!("指标无效：{e}"),
            format!("invalid indicator: {e}"),
        )
    })?;
    ind.validate("indicator")
        .map_err(|e| ApiError::invalid("indicator", e.to_string(), e.to_string()))?;
    Ok(ind)
}

/// Adds an indicator the importer missed.
#[utoipa::path(post, path = "/api/v1/plans/{id}/indicators", tag = "plans",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "The plan version the edit was made on (`ETag` of the plan); a stale one is refused with 409")),
    request_body(content = Object, description = "An indicator as in the interchange JSON"),
    responses((status = 201, body = Created, description = "`id` is the new indicator's index"), CommonErrors))]
async fn add_indicator(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<JsonValue>,
) -> Result<Response, ApiError> {
    let ind = indicator_from(body)?;
    let (done, tag) = edit(
        &state,
        &auth,
        &headers,
        id,
        PlanChange::AddIndicator(Box::new(ind)),
    )
    .await?;
    let id = done.indicator.unwrap_or_default() as i64;
    Ok((StatusCode::CREATED, tag, Json(Created { id })).into_response())
}

/// Corrects one indicator (name, unit, baseline, targets, lead, …).
#[utoipa::path(put, path = "/api/v1/plans/{id}/indicators/{index}", tag = "plans",
    params(("id" = i64, Path), ("index" = usize, Path, description = "Position in the plan's indicators"), ("If-Match" = Option<String>, Header, description = "The plan version the edit was made on (`ETag` of the plan); a stale one is refused with 409")),
    request_body(content = Object, description = "The indicator as in the interchange JSON"),
    responses((status = 204, description = "Stored"), CommonErrors))]
async fn put_indicator(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path((id, index)): Path<(i64, usize)>,
    Json(body): Json<JsonValue>,
) -> Result<Response, ApiError> {
    let ind = indicator_from(body)?;
    let change = PlanChange::ReplaceIndicator(index, Box::new(ind));
    let (_, tag) = edit(&state, &auth, &headers, id, change).await?;
    Ok((StatusCode::NO_CONTENT, tag).into_response())
}

/// Removes an indicator the importer invented; prose targets naming it lose the link.
#[utoipa::path(delete, path = "/api/v1/plans/{id}/indicators/{index}", tag = "plans",
    params(("id" = i64, Path), ("index" = usize, Path), ("If-Match" = Option<String>, Header, description = "The plan version the edit was made on (`ETag` of the plan); a stale one is refused with 409")),
    responses((status = 204, description = "Removed"), CommonErrors))]
async fn delete_indicator(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path((id, index)): Path<(i64, usize)>,
) -> Result<Response, ApiError> {
    let change = PlanChange::RemoveIndicator(index);
    let (_, tag) = edit(&state, &auth, &headers, id, change).await?;
    Ok((StatusCode::NO_CONTENT, tag).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Link {
    /// The data element code the indicator is measured by.
    pub element: String,
}

/// Links an indicator to another data element (shared across plans and levels).
#[utoipa::path(put, path = "/api/v1/plans/{id}/indicators/{index}/element", tag = "plans",
    params(("id" = i64, Path), ("index" = usize, Path)),
    request_body = Link,
    responses((status = 204, description = "Linked"), CommonErrors))]
async fn link_element(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, index)): Path<(i64, usize)>,
    Json(body): Json<Link>,
) -> Result<StatusCode, ApiError> {
    let editor = editor(&auth)?;
    state
        .app
        .link_indicator(&editor, id, index, body.element.trim())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AppliesToBody {
    /// `plan_area` (only the plan's own area), `all_levels` (every sub-area too), or null
    /// for the default by unit and wording.
    pub applies_to: Option<healthplan_core::AppliesTo>,
}

/// Sets where an indicator is judged (its own area only, or every level); audited.
#[utoipa::path(put, path = "/api/v1/plans/{id}/indicators/{index}/applies_to", tag = "plans",
    params(("id" = i64, Path), ("index" = usize, Path), ("If-Match" = Option<String>, Header, description = "The plan version the edit was made on (`ETag` of the plan); a stale one is refused with 409")),
    request_body = AppliesToBody,
    responses((status = 204, description = "Stored"), CommonErrors))]
async fn set_applies_to(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path((id, index)): Path<(i64, usize)>,
    Json(body): Json<AppliesToBody>,
) -> Result<Response, ApiError> {
    let change = PlanChange::SetAppliesTo(index, body.applies_to);
    let (_, tag) = edit(&state, &auth, &headers, id, change).await?;
    Ok((StatusCode::NO_CONTENT, tag).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalChoice {
    Accept,
    Edit,
    Merge,
    Reject,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProposalBody {
    pub choice: ProposalChoice,
    /// `edit`: the indicator as the planner wants it (interchange JSON).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub indicator: Option<JsonValue>,
    /// `merge`: the index of the plan's indicator that takes the targets.
    #[serde(default)]
    pub into: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalDecided {
    /// The indicator that now monitors the proposal's statements; null when rejected.
    pub indicator: Option<usize>,
}

/// Decides an indicator the importer proposed from the prose (`document.proposals[index]`):
/// accept it, accept an edited version, merge its targets into an indicator, or reject it.
/// Once per proposal; audited with the plan.
#[utoipa::path(post, path = "/api/v1/plans/{id}/proposals/{index}", tag = "plans",
    params(("id" = i64, Path), ("index" = usize, Path, description = "Position in the plan's proposals"), ("If-Match" = Option<String>, Header, description = "The plan version the edit was made on (`ETag` of the plan); a stale one is refused with 409")),
    request_body = ProposalBody,
    responses((status = 200, body = ProposalDecided), CommonErrors))]
async fn decide_proposal(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path((id, index)): Path<(i64, usize)>,
    Json(body): Json<ProposalBody>,
) -> Result<Response, ApiError> {
    use healthplan_app::proposals::Choice;
    let missing = |field: &str| {
        ApiError::invalid(
            field,
            format!("缺少 {field}"),
            format!("{field} is required for this choice"),
        )
    };
    let choice = match body.choice {
        ProposalChoice::Accept => Choice::Accept,
        ProposalChoice::Reject => Choice::Reject,
        ProposalChoice::Merge => Choice::Merge(body.into.ok_or_else(|| missing("into"))?),
        ProposalChoice::Edit => Choice::Edit(Box::new(indicator_from(
            body.indicator.ok_or_else(|| missing("indicator"))?,
        )?)),
    };
    let change = PlanChange::Decide(index, choice);
    let (done, tag) = edit(&state, &auth, &headers, id, change).await?;
    Ok((
        tag,
        Json(ProposalDecided {
            indicator: done.indicator,
        }),
    )
        .into_response())
}

/// Corrects one task (text, responsible units) or adds it when the id is new.
#[utoipa::path(put, path = "/api/v1/plans/{id}/tasks/{task}", tag = "plans",
    params(("id" = i64, Path), ("task" = String, Path, description = "Task id, e.g. t12"), ("If-Match" = Option<String>, Header, description = "The plan version the edit was made on (`ETag` of the plan); a stale one is refused with 409")),
    request_body(content = Object, description = "The task as in the interchange JSON"),
    responses((status = 204, description = "Stored"), CommonErrors))]
async fn put_task(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path((id, task)): Path<(i64, String)>,
    Json(body): Json<JsonValue>,
) -> Result<Response, ApiError> {
    let mut t: healthplan_core::Task = serde_json::from_value(body).map_err(|e| {
        ApiError::invalid(
            "task",
            format!("任务无效：{e}"),
            format!("invalid task: {e}"),
        )
    })?;
    t.id = task;
    let (_, tag) = edit(
        &state,
        &auth,
        &headers,
        id,
        PlanChange::PutTask(Box::new(t)),
    )
    .await?;
    Ok((StatusCode::NO_CONTENT, tag).into_response())
}

/// Removes a task the importer invented (and its place in the section tree).
#[utoipa::path(delete, path = "/api/v1/plans/{id}/tasks/{task}", tag = "plans",
    params(("id" = i64, Path), ("task" = String, Path), ("If-Match" = Option<String>, Header, description = "The plan version the edit was made on (`ETag` of the plan); a stale one is refused with 409")),
    responses((status = 204, description = "Removed"), CommonErrors))]
async fn delete_task(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Path((id, task)): Path<(i64, String)>,
) -> Result<Response, ApiError> {
    let (_, tag) = edit(&state, &auth, &headers, id, PlanChange::RemoveTask(task)).await?;
    Ok((StatusCode::NO_CONTENT, tag).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusChange {
    /// `confirmed` once the extraction is checked, or back to `draft`.
    pub status: PlanStatus,
}

/// Confirms a checked plan (or returns it to draft, or withdraws a publication).
#[utoipa::path(post, path = "/api/v1/plans/{id}/status", tag = "plans",
    params(("id" = i64, Path)),
    request_body = StatusChange,
    responses((status = 204, description = "Changed"), CommonErrors))]
async fn set_status(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(body): Json<StatusChange>,
) -> Result<StatusCode, ApiError> {
    let editor = editor(&auth)?;
    state
        .app
        .store()
        .set_plan_status(&editor, id, body.status)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema, IntoParams)]
pub struct AsOf {
    /// Evaluate with the data up to this year.
    pub as_of: i32,
}

/// Publishes a confirmed plan: the public pages show the plan and its evaluation as of the
/// given year, as they are now.
#[utoipa::path(post, path = "/api/v1/plans/{id}/publish", tag = "plans",
    params(("id" = i64, Path)),
    request_body = AsOf,
    responses((status = 204, description = "Published"), CommonErrors))]
async fn publish(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(body): Json<AsOf>,
) -> Result<StatusCode, ApiError> {
    let editor = editor(&auth)?;
    let run = state
        .app
        .evaluate_plan(&auth.caps.reader(), id, body.as_of, &state.config.settings)
        .await?;
    let snapshot = serde_json::json!({
        "title": run.plan.title,
        "area": run.plan.area,
        "as_of": body.as_of,
        "synthetic": run.synthetic,
        "document": run.plan,
        "evaluation": run.evaluation,
    });
    state
        .app
        .store()
        .publish_plan(&editor, id, body.as_of, &snapshot)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An evaluation and what it rests on.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationOut {
    pub plan_id: i64,
    pub as_of: i32,
    /// Demonstration data (演示数据) went into it.
    pub synthetic: bool,
    /// Approved values used.
    pub values_used: usize,
    /// Per indicator × area results, roll-ups and task completion
    /// (`docs/evaluation-output.md`).
    pub evaluation: JsonValue,
}

/// Evaluates a plan on the approved stored values the caller may read.
#[utoipa::path(get, path = "/api/v1/plans/{id}/evaluation", tag = "evaluation",
    params(("id" = i64, Path), AsOf),
    responses((status = 200, body = EvaluationOut), CommonErrors))]
async fn evaluation(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<AsOf>,
) -> Result<Json<EvaluationOut>, ApiError> {
    let scope = auth.signed_in()?.reader();
    let run = state
        .app
        .evaluate_plan(&scope, id, q.as_of, &state.config.settings)
        .await?;
    Ok(Json(EvaluationOut {
        plan_id: id,
        as_of: q.as_of,
        synthetic: run.synthetic,
        values_used: run.values_used,
        evaluation: serde_json::to_value(&run.evaluation).unwrap_or_default(),
    }))
}

/// Scores areas and lead departments (考核), with every line of the working.
#[utoipa::path(get, path = "/api/v1/plans/{id}/assessment", tag = "evaluation",
    params(("id" = i64, Path), AsOf),
    responses((status = 200, body = EvaluationOut, description = "`evaluation` holds the assessment"), CommonErrors))]
async fn assessment(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<AsOf>,
) -> Result<Json<EvaluationOut>, ApiError> {
    let scope = auth.signed_in()?.reader();
    let run = state
        .app
        .evaluate_plan(&scope, id, q.as_of, &state.config.settings)
        .await?;
    Ok(Json(EvaluationOut {
        plan_id: id,
        as_of: q.as_of,
        synthetic: run.synthetic,
        values_used: run.values_used,
        evaluation: serde_json::to_value(run.assess()).unwrap_or_default(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AlignQuery {
    /// The lower level's plan.
    pub child: i64,
    /// The upper level's plan; without it the child's own reference columns are used.
    pub parent: Option<i64>,
}

/// A child plan's targets against its parent's, target by target.
#[utoipa::path(get, path = "/api/v1/alignment", tag = "evaluation",
    params(AlignQuery),
    responses((status = 200, body = Object), CommonErrors))]
async fn alignment(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<AlignQuery>,
) -> Result<Json<JsonValue>, ApiError> {
    let scope = auth.signed_in()?.reader();
    let report = state
        .app
        .align_plans(&scope, q.child, q.parent, &state.config.settings)
        .await?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}

/// Published plans, without signing in.
#[utoipa::path(get, path = "/api/v1/public/plans", tag = "public", security(()),
    responses((status = 200, body = Vec<PlanSummary>), CommonErrors))]
async fn public_plans(
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<PlanSummary>>, ApiError> {
    let public = state.app.public_caps().reader();
    Ok(Json(state.app.store().list_plans(&public).await?))
}

/// What was published of a plan: the plan and its evaluation when it was published.
#[utoipa::path(get, path = "/api/v1/public/plans/{id}", tag = "public", security(()),
    params(("id" = i64, Path)),
    responses((status = 200, body = Publication), CommonErrors))]
async fn public_plan(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<Json<Publication>, ApiError> {
    state
        .app
        .store()
        .publication(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("已公开的规划", "published plan"))
}
