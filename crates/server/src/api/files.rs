//! Files out and in: the annual report (DOCX, HTML, PDF), the XLSX exports, and a
//! reporter's spreadsheet template for a round and its re-import.

use super::{CommonErrors, Json, Multipart, Path, Query};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use healthplan_app::report::{Download, ExportWhat, ReportFormat};
use healthplan_app::rounds::TemplateImport;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(report))
        .routes(routes!(export))
        .routes(routes!(template, upload_template))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportQuery {
    /// The year the report is about (data up to it).
    pub year: i32,
    /// `docx` (GB/T 9704), `html` (one printable file) or `pdf` (through LibreOffice).
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

fn download(file: Download) -> Response {
    (
        [
            (header::CONTENT_TYPE, file.content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                crate::pages::upload::attachment(&file.name),
            ),
        ],
        file.bytes,
    )
        .into_response()
}

/// The annual monitoring and evaluation report (年度监测评估报告) of a plan, on the approved
/// values the caller may read.
#[utoipa::path(get, path = "/api/v1/plans/{id}/report", tag = "evaluation",
    params(("id" = i64, Path), ReportQuery),
    responses((status = 200, description = "The report file",
        content((Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                (String = "text/html"), (Vec<u8> = "application/pdf"))), CommonErrors))]
async fn report(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let scope = auth.signed_in()?.reader();
    let format = q.format.unwrap_or(ReportFormat::Docx);
    let file = state
        .app
        .report(&scope, id, q.year, format, &state.config.settings)
        .await?;
    Ok(download(file))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    pub year: i32,
    #[param(inline)]
    pub what: ExportWhat,
}

/// An XLSX export of a plan's values, evaluation or assessment.
#[utoipa::path(get, path = "/api/v1/plans/{id}/xlsx", tag = "evaluation",
    params(("id" = i64, Path), ExportQuery),
    responses((status = 200, description = "An .xlsx file",
        content((Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), CommonErrors))]
async fn export(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let scope = auth.signed_in()?.reader();
    let file = state
        .app
        .export(&scope, id, q.year, q.what, &state.config.settings)
        .await?;
    Ok(download(file))
}

/// The caller's form for a round as an Excel template: its areas × its indicators, labels
/// locked, value cells with their allowed ranges, last period's value beside each.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/template", tag = "workflow",
    params(("id" = i64, Path)),
    responses((status = 200, description = "An .xlsx template",
        content((Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), CommonErrors))]
async fn template(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let caps = auth.signed_in()?;
    caps.value_writer()
        .ok_or_else(|| ApiError::no_right("填报数据", "enter values"))?;
    state
        .app
        .round_template_file(caps, id)
        .await?
        .map(download)
        .ok_or_else(|| {
            ApiError::not_found(
                "本轮需要您填报的项目",
                "anything for you to report in this round",
            )
        })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// Submit the values for review instead of saving drafts.
    #[serde(default)]
    pub submit: bool,
}

/// Re-imports a filled template (multipart field `file`) through the same checks and
/// workflow as the form: all or nothing, every refusal naming its cell
/// (`填报表!D7: 超出取值范围 0–100`); a cell whose value changed since the download is refused
/// (`stale`), never overwritten.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/template", tag = "workflow",
    params(("id" = i64, Path), UploadQuery),
    request_body(content_type = "multipart/form-data", content = Object, description = "Field `file`: the filled .xlsx"),
    responses((status = 200, body = TemplateImport), CommonErrors))]
async fn upload_template(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<UploadQuery>,
    Multipart(mut form): Multipart,
) -> Result<Json<TemplateImport>, ApiError> {
    let caps = auth.signed_in()?;
    let (name, bytes) = crate::pages::upload::file_field(&mut form, "file").await?;
    Ok(Json(
        state
            .app
            .import_round_template(caps, id, &name, &bytes, q.submit)
            .await?,
    ))
}
