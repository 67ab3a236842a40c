//! Files out and in: the annual report (DOCX, HTML, PDF), the XLSX exports, and a
//! reporter's spreadsheet template for a round and its re-import.

use super::{CommonErrors, Json, Multipart, Path, Query};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use healthplan_app::rounds::TemplateImport;
use healthplan_report::Export;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(report))
        .routes(routes!(export))
        .routes(routes!(template, upload_template))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Docx,
    Html,
    Pdf,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportQuery {
    /// The year the report is about (data up to it).
    pub year: i32,
    /// `docx` (GB/T 9704), `html` (one printable file) or `pdf` (through LibreOffice).
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

fn download(bytes: Vec<u8>, content_type: &str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                crate::pages::upload::attachment(name),
            ),
        ],
        bytes,
    )
        .into_response()
}

fn render_error(e: healthplan_report::ReportError) -> ApiError {
    let m = e.to_string();
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "report", m.clone(), m)
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
    if !healthplan_core::Period::plausible_year(q.year) {
        return Err(ApiError::invalid(
            "year",
            "年份不合理",
            "not a plausible year",
        ));
    }
    let input = state
        .app
        .report_input(&scope, id, q.year, &state.config.settings)
        .await?;
    let format = q.format.unwrap_or(ReportFormat::Docx);
    let name = format!("{}-{}年度监测评估报告", input.plan().title, q.year);
    // Rendering is CPU work and PDF runs LibreOffice for seconds: off the async workers.
    let out = healthplan_app::blocking(move || match format {
        ReportFormat::Docx => healthplan_report::to_docx(&input).map(|b| {
            (
                b,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "docx",
            )
        }),
        ReportFormat::Html => Ok((
            healthplan_report::to_html(&input).into_bytes(),
            "text/html; charset=utf-8",
            "html",
        )),
        ReportFormat::Pdf => {
            healthplan_report::to_pdf(&input).map(|b| (b, "application/pdf", "pdf"))
        }
    })
    .await?
    .map_err(render_error)?;
    let (bytes, ct, ext) = out;
    Ok(download(bytes, ct, &format!("{name}.{ext}")))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportWhat {
    /// Every value with its status and who approved it.
    Values,
    /// Evaluation results with their explanations.
    Evaluation,
    /// The assessment (考核) with its working.
    Assessment,
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
    if !healthplan_core::Period::plausible_year(q.year) {
        return Err(ApiError::invalid(
            "year",
            "年份不合理",
            "not a plausible year",
        ));
    }
    let input = state
        .app
        .report_input(&scope, id, q.year, &state.config.settings)
        .await?;
    let (what, label) = match q.what {
        ExportWhat::Values => (Export::Values, "数据"),
        ExportWhat::Evaluation => (Export::Evaluation, "评估结果"),
        ExportWhat::Assessment => (Export::Assessment, "考核"),
    };
    let name = format!("{}-{}年{label}.xlsx", input.plan().title, q.year);
    let bytes = healthplan_app::blocking(move || healthplan_report::to_xlsx(&input, what))
        .await?
        .map_err(render_error)?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &name,
    ))
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
    let spec = state.app.round_template(caps, id).await?;
    if spec.rows.is_empty() {
        return Err(ApiError::not_found(
            "本轮需要您填报的项目",
            "anything for you to report in this round",
        ));
    }
    let name = format!("{}-{}-填报模板.xlsx", spec.plan_title, spec.period);
    let bytes = healthplan_exchange::template::write_template(&spec)
        .map_err(|e| ApiError::bad_request(e.to_string(), e.to_string()))?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &name,
    ))
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
