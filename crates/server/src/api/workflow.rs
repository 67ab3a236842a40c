//! Reporting rounds, a reporter's form, the planner's overview, task progress and evidence.

use super::{area_param, period_param, CommonErrors, Json, Multipart, Path};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use healthplan_app::rounds::{FormRow, OverviewRow};
use healthplan_app::store::{EvidenceFile, EvidenceMeta, TaskKey};
use healthplan_core::{NewRound, ReviewDecision, Round, TaskProgress, TaskStatus, ValueStatus};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_rounds, open_round))
        .routes(routes!(get_round))
        .routes(routes!(close_round))
        .routes(routes!(round_form))
        .routes(routes!(round_overview))
        .routes(routes!(list_progress))
        .routes(routes!(put_progress))
        .routes(routes!(approve_progress))
        .routes(routes!(return_progress))
        .routes(routes!(reopen_progress))
        .routes(routes!(list_evidence, upload_evidence))
        .routes(routes!(download_evidence))
}

/// Rounds of plans the caller reads, or that ask one of its areas to report; newest first.
#[utoipa::path(get, path = "/api/v1/rounds", tag = "workflow",
    responses((status = 200, body = Vec<Round>), CommonErrors))]
async fn list_rounds(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Vec<Round>>, ApiError> {
    let scope = auth.signed_in()?.reader();
    Ok(Json(state.app.store().list_rounds(&scope).await?))
}

/// Opens a reporting round: period, plan, deadline, which areas and departments report.
/// Planners for plans and areas in their subtree.
#[utoipa::path(post, path = "/api/v1/rounds", tag = "workflow",
    request_body = NewRound,
    responses((status = 201, body = Round), CommonErrors))]
async fn open_round(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<NewRound>,
) -> Result<(StatusCode, Json<Round>), ApiError> {
    let manager = auth
        .signed_in()?
        .round_manager()
        .ok_or_else(|| ApiError::no_right("发起填报轮次", "open reporting rounds"))?;
    Ok((
        StatusCode::CREATED,
        Json(state.app.store().open_round(&manager, &body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}", tag = "workflow",
    params(("id" = i64, Path)),
    responses((status = 200, body = Round), CommonErrors))]
async fn get_round(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Round>, ApiError> {
    let scope = auth.signed_in()?.reader();
    Ok(Json(state.app.store().round(&scope, id).await?))
}

/// Closes a round.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/close", tag = "workflow",
    params(("id" = i64, Path)),
    responses((status = 204, description = "Closed"), CommonErrors))]
async fn close_round(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let manager = auth
        .signed_in()?
        .round_manager()
        .ok_or_else(|| ApiError::no_right("关闭填报轮次", "close reporting rounds"))?;
    state.app.store().close_round(&manager, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Form {
    pub round: Round,
    /// The caller's cells: its areas × the indicators its departments answer for.
    pub rows: Vec<FormRow>,
}

/// The caller's form for a round (empty for those who do not report).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/form", tag = "workflow",
    params(("id" = i64, Path)),
    responses((status = 200, body = Form), CommonErrors))]
async fn round_form(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Form>, ApiError> {
    let caps = auth.signed_in()?;
    let (round, rows) = state.app.round_form(caps, id).await?;
    Ok(Json(Form { round, rows }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    pub round: Round,
    pub rows: Vec<OverviewRow>,
}

/// Who has submitted, who is late and what awaits approval, per area and lead department.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/overview", tag = "workflow",
    params(("id" = i64, Path)),
    responses((status = 200, body = Overview), CommonErrors))]
async fn round_overview(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Overview>, ApiError> {
    let caps = auth.signed_in()?;
    let (round, rows) = state
        .app
        .round_overview(caps, id, state.app.clock().today())
        .await?;
    Ok(Json(Overview { round, rows }))
}

/// Task progress reports of a plan the caller may read.
#[utoipa::path(get, path = "/api/v1/plans/{id}/progress", tag = "workflow",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<TaskProgress>), CommonErrors))]
async fn list_progress(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Vec<TaskProgress>>, ApiError> {
    let scope = auth.signed_in()?.reader();
    Ok(Json(
        state.app.store().list_task_progress(&scope, id).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProgressInput {
    pub status: TaskStatus,
    /// What was done (进展情况).
    pub note: String,
    /// `draft` (the default) or `submitted`.
    pub workflow: Option<ValueStatus>,
    /// The version being replaced; absent for a first report.
    pub version: Option<i64>,
}

fn task_key(id: i64, task: &str, area: &str, period: &str) -> Result<TaskKey, ApiError> {
    Ok(TaskKey {
        plan_id: id,
        task_id: task.to_string(),
        area: area_param("area", area)?,
        period: period_param("period", period)?,
    })
}

/// A reporter's progress report on a task for an area and period.
#[utoipa::path(put, path = "/api/v1/plans/{id}/tasks/{task}/progress/{area}/{period}", tag = "workflow",
    params(("id" = i64, Path), ("task" = String, Path), ("area" = String, Path), ("period" = String, Path)),
    request_body = ProgressInput,
    responses((status = 200, body = TaskProgress), CommonErrors))]
async fn put_progress(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, task, area, period)): Path<(i64, String, String, String)>,
    Json(body): Json<ProgressInput>,
) -> Result<Json<TaskProgress>, ApiError> {
    let writer = auth
        .signed_in()?
        .progress_writer()
        .ok_or_else(|| ApiError::no_right("填报任务进展", "report task progress"))?;
    let k = task_key(id, &task, &area, &period)?;
    let workflow = body.workflow.unwrap_or(ValueStatus::Draft);
    let p = TaskProgress {
        plan_id: id,
        task_id: k.task_id.clone(),
        area: k.area.clone(),
        period: k.period,
        status: body.status,
        note: body.note.trim().to_string(),
        workflow,
        version: body.version.unwrap_or(1),
        review_comment: None,
    };
    Ok(Json(
        state
            .app
            .store()
            .put_task_progress(&writer, &p, body.version)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewInput {
    pub version: i64,
    /// Why (required to return or reopen).
    pub comment: Option<String>,
}

async fn review_progress(
    state: &AppState,
    auth: &Auth,
    (id, task, area, period): (i64, String, String, String),
    body: ReviewInput,
    decision: ReviewDecision,
) -> Result<Json<TaskProgress>, ApiError> {
    let reviewer = auth
        .signed_in()?
        .reviewer()
        .ok_or_else(|| ApiError::no_right("审核任务进展", "review task progress"))?;
    let k = task_key(id, &task, &area, &period)?;
    Ok(Json(
        state
            .app
            .review_task_progress(
                &reviewer,
                &k,
                body.version,
                decision,
                body.comment.as_deref(),
            )
            .await?,
    ))
}

/// Approves a submitted progress report.
#[utoipa::path(post, path = "/api/v1/plans/{id}/tasks/{task}/progress/{area}/{period}/approve", tag = "workflow",
    params(("id" = i64, Path), ("task" = String, Path), ("area" = String, Path), ("period" = String, Path)),
    request_body = ReviewInput,
    responses((status = 200, body = TaskProgress), CommonErrors))]
async fn approve_progress(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(p): Path<(i64, String, String, String)>,
    Json(body): Json<ReviewInput>,
) -> Result<Json<TaskProgress>, ApiError> {
    review_progress(&state, &auth, p, body, ReviewDecision::Approve).await
}

/// Returns a progress report with a comment.
#[utoipa::path(post, path = "/api/v1/plans/{id}/tasks/{task}/progress/{area}/{period}/return", tag = "workflow",
    params(("id" = i64, Path), ("task" = String, Path), ("area" = String, Path), ("period" = String, Path)),
    request_body = ReviewInput,
    responses((status = 200, body = TaskProgress), CommonErrors))]
async fn return_progress(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(p): Path<(i64, String, String, String)>,
    Json(body): Json<ReviewInput>,
) -> Result<Json<TaskProgress>, ApiError> {
    review_progress(&state, &auth, p, body, ReviewDecision::Return).await
}

/// Reopens an approved progress report (audited).
#[utoipa::path(post, path = "/api/v1/plans/{id}/tasks/{task}/progress/{area}/{period}/reopen", tag = "workflow",
    params(("id" = i64, Path), ("task" = String, Path), ("area" = String, Path), ("period" = String, Path)),
    request_body = ReviewInput,
    responses((status = 200, body = TaskProgress), CommonErrors))]
async fn reopen_progress(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(p): Path<(i64, String, String, String)>,
    Json(body): Json<ReviewInput>,
) -> Result<Json<TaskProgress>, ApiError> {
    review_progress(&state, &auth, p, body, ReviewDecision::Reopen).await
}

/// Evidence files of a progress report.
#[utoipa::path(get, path = "/api/v1/plans/{id}/tasks/{task}/progress/{area}/{period}/evidence", tag = "workflow",
    params(("id" = i64, Path), ("task" = String, Path), ("area" = String, Path), ("period" = String, Path)),
    responses((status = 200, body = Vec<EvidenceMeta>), CommonErrors))]
async fn list_evidence(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, task, area, period)): Path<(i64, String, String, String)>,
) -> Result<Json<Vec<EvidenceMeta>>, ApiError> {
    let scope = auth.signed_in()?.reader();
    let k = task_key(id, &task, &area, &period)?;
    Ok(Json(state.app.store().list_evidence(&scope, &k).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Uploaded {
    pub id: i64,
}

/// Attaches an evidence file (multipart field `file`; PDF, image, Word, Excel or text, at
/// most 10 MB).
#[utoipa::path(post, path = "/api/v1/plans/{id}/tasks/{task}/progress/{area}/{period}/evidence", tag = "workflow",
    params(("id" = i64, Path), ("task" = String, Path), ("area" = String, Path), ("period" = String, Path)),
    request_body(content_type = "multipart/form-data", content = Object, description = "Field `file`"),
    responses((status = 201, body = Uploaded), CommonErrors))]
async fn upload_evidence(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path((id, task, area, period)): Path<(i64, String, String, String)>,
    Multipart(mut form): Multipart,
) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    let writer = auth
        .signed_in()?
        .progress_writer()
        .ok_or_else(|| ApiError::no_right("上传佐证材料", "upload evidence"))?;
    let k = task_key(id, &task, &area, &period)?;
    let (name, bytes) = crate::pages::upload::file_field(&mut form, "file").await?;
    let content_type =
        crate::pages::upload::evidence_type(&name, &bytes, state.config.max_evidence_bytes)?;
    let file = EvidenceFile {
        file_name: name,
        content_type: content_type.to_string(),
        bytes,
    };
    let id = state.app.store().add_evidence(&writer, &k, &file).await?;
    Ok((StatusCode::CREATED, Json(Uploaded { id })))
}

/// Downloads an evidence file.
#[utoipa::path(get, path = "/api/v1/evidence/{id}", tag = "workflow",
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), CommonErrors))]
async fn download_evidence(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let scope = auth.signed_in()?.reader();
    let (meta, bytes) = state.app.store().evidence(&scope, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, meta.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                crate::pages::upload::attachment(&meta.file_name),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}
