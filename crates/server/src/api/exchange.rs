//! DHIS2 exchange: the code mapping table planners edit, and values out and in as DHIS2
//! `dataValueSets` JSON or ADX (CSV and the XLSX table too). Exports hold what the caller
//! reads; imports write what the caller may write, all or nothing unless bad rows are skipped.

use super::{area_param, period_param, CommonErrors, Json, Query};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use healthplan_app::exchange::{self as ex, FileIn};
use healthplan_app::formats::RowError;
use healthplan_app::store::{DataValueFilter, MappingCount, MappingRow, PeriodRange};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(get_mapping, put_mapping))
        .routes(routes!(export_values, import_values))
}

/// The stored mapping table: local codes and the DHIS2 codes they are exchanged as.
#[utoipa::path(get, path = "/api/v1/exchange/mapping", tag = "exchange",
    responses((status = 200, body = Vec<MappingRow>), CommonErrors))]
async fn get_mapping(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Vec<MappingRow>>, ApiError> {
    auth.signed_in()?;
    Ok(Json(state.app.store().list_mapping().await?))
}

/// The mapping table the caller may edit (planners, admins), or 403.
pub(crate) fn mapping_editor(auth: &Auth) -> Result<healthplan_access::MappingEditor, ApiError> {
    auth.signed_in()?
        .mapping_editor()
        .ok_or_else(|| ApiError::no_right("编辑 DHIS2 代码映射表", "edit the DHIS2 mapping table"))
}

/// Replaces the whole table, all or nothing. A row that is empty or maps a code a second
/// time (per kind, either side) is refused, naming the row (`row 3: …`). Planners and admins.
#[utoipa::path(put, path = "/api/v1/exchange/mapping", tag = "exchange",
    request_body = Vec<MappingRow>,
    responses((status = 200, body = MappingCount), CommonErrors))]
async fn put_mapping(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(rows): Json<Vec<MappingRow>>,
) -> Result<Json<MappingCount>, ApiError> {
    let by = mapping_editor(&auth)?;
    Ok(Json(
        state
            .app
            .store()
            .replace_mapping(&by, &rows)
            .await
            .map_err(|e| ApiError::from(e).field("rows"))?,
    ))
}

/// A data file format.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
pub enum FileFormat {
    #[serde(rename = "dhis2-json")]
    Dhis2Json,
    #[serde(rename = "adx")]
    Adx,
    #[serde(rename = "csv")]
    Csv,
    #[serde(rename = "xlsx")]
    Xlsx,
}

impl From<FileFormat> for ex::Format {
    fn from(f: FileFormat) -> ex::Format {
        match f {
            FileFormat::Dhis2Json => ex::Format::Dhis2Json,
            FileFormat::Adx => ex::Format::Adx,
            FileFormat::Csv => ex::Format::Csv,
            FileFormat::Xlsx => ex::Format::Xlsx,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `dhis2-json` (dataValueSets), `adx`, `csv` or `xlsx`.
    #[param(inline)]
    pub format: FileFormat,
    /// Only the elements of this plan's indicators, in its area and below.
    pub plan: Option<i64>,
    /// Only this data element.
    pub element: Option<String>,
    /// This area and every area below it.
    pub area: Option<String>,
    /// First period (e.g. `2020`, `2024Q1`).
    pub from: Option<String>,
    /// Last period.
    pub to: Option<String>,
    /// DHIS2 data set code written on the document.
    pub data_set: Option<String>,
}

/// The values the caller may read, as a file; codes through the stored mapping table. A code
/// the table does not map (once its kind has rows) refuses the export, naming it.
#[utoipa::path(get, path = "/api/v1/exchange/values", tag = "exchange",
    params(ExportQuery),
    responses((status = 200, description = "The file",
        content((serde_json::Value = "application/json"), (String = "application/adx+xml"),
                (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        CommonErrors))]
async fn export_values(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let caps = auth.signed_in()?;
    let scope = caps.reader();
    let mut filter = DataValueFilter {
        element: q.element.filter(|e| !e.trim().is_empty()),
        under: q
            .area
            .as_deref()
            .map(|a| area_param("area", a))
            .transpose()?,
        range: PeriodRange {
            from: q
                .from
                .as_deref()
                .map(|p| period_param("from", p))
                .transpose()?,
            to: q.to.as_deref().map(|p| period_param("to", p)).transpose()?,
        },
        ..Default::default()
    };
    let mut name = "healthplan".to_string();
    if let Some(id) = q.plan {
        let store = state.app.store();
        let summary = store.plan_summary(&scope, id).await?;
        filter.elements = store
            .plan_indicators(&scope, id)
            .await?
            .into_iter()
            .filter_map(|pi| pi.indicator.element)
            .collect();
        if filter.elements.is_empty() {
            return Err(ApiError::invalid(
                "plan",
                "该规划的指标均未关联数据元",
                "no indicator of this plan is linked to a data element",
            ));
        }
        if filter.under.is_none() {
            filter.under = summary.area_code;
        }
        name = summary.title;
    }
    let format = ex::Format::from(q.format);
    let (bytes, _) = state
        .app
        .export_file(caps, &filter, format, None, q.data_set.as_deref())
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                crate::pages::upload::attachment(&format!("{name}.{}", format.extension())),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// `dhis2-json`, `adx`, `csv` or `xlsx`.
    #[param(inline)]
    pub format: FileFormat,
    /// Write the good rows and list the bad ones instead of refusing the file.
    #[serde(default)]
    pub skip_bad_rows: bool,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValuesImported {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows left out (with `skip_bad_rows`), each with where it sits and why.
    #[schema(value_type = Vec<Object>)]
    pub skipped: Vec<RowError>,
    /// Warnings confirmed by a comment, and notes (e.g. values deleted in DHIS2).
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<RowError>,
}

/// Imports a file (the request body) through the stored mapping table and the value rules.
/// An administrator loads the values as given; a reporter enters them as drafts, and a row
/// outside its areas and departments is a row error (`not_allowed`). Any bad row refuses the
/// whole file (422 `rejected`, `rows.errors` lists each with its place, `rows.unmapped` the
/// codes no mapping names) unless `skip_bad_rows`.
#[utoipa::path(post, path = "/api/v1/exchange/values", tag = "exchange",
    params(ImportQuery),
    request_body(content = Vec<u8>, description = "The file", content_type = "application/octet-stream"),
    responses((status = 200, body = ValuesImported), CommonErrors))]
async fn import_values(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<ValuesImported>, ApiError> {
    let caps = auth.signed_in()?;
    let format = ex::Format::from(q.format);
    Ok(Json(
        import(
            &state,
            caps,
            format,
            &format!("upload.{}", format.extension()),
            &body,
            q.skip_bad_rows,
        )
        .await?,
    ))
}

/// Reads and writes one uploaded file as the caller (the API and the page share it).
pub(crate) async fn import(
    state: &AppState,
    caps: &healthplan_access::Caps,
    format: ex::Format,
    name: &str,
    bytes: &[u8],
    skip_bad_rows: bool,
) -> Result<ValuesImported, ApiError> {
    if caps.bulk_writer().is_none() && caps.value_writer().is_none() {
        return Err(ApiError::no_right("导入数据", "import values"));
    }
    let done = state
        .app
        .import_file(
            caps,
            FileIn {
                name,
                bytes,
                format,
                mapping: None,
                skip_bad_rows,
            },
        )
        .await?;
    Ok(ValuesImported {
        inserted: done.count.inserted,
        updated: done.count.updated,
        unchanged: done.count.unchanged,
        skipped: done.skipped,
        warnings: done.warnings,
    })
}
