//! Surveillance: which elements the outbreak detectors watch, their settings, and the board
//! of weekly counts per area. Counts themselves arrive through the values API.

use super::{area_param, period_param, CommonErrors, Json, Path, Query};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use healthplan_app::surveillance::Board;
use healthplan_core::{Period, SeriesStep, WatchedSeries};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_series))
        .routes(routes!(put_series, delete_series))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(board))
}

/// The elements whose day or week counts the outbreak detectors watch.
#[utoipa::path(get, path = "/api/v1/surveillance/series", tag = "evaluation",
    responses((status = 200, body = Vec<WatchedSeries>), CommonErrors))]
async fn list_series(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Vec<WatchedSeries>>, ApiError> {
    auth.signed_in()?;
    Ok(Json(state.app.watch().series.values().cloned().collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeriesBody {
    /// `day` or `week`: how often the counts are reported.
    pub step: SeriesStep,
    /// Who answers for the alarms, e.g. 疾病预防控制中心.
    pub department: Option<String>,
}

/// The right to configure surveillance (an administrator's), for the API and the page.
pub(crate) fn registry_admin(auth: &Auth) -> Result<healthplan_access::RegistryAdmin, ApiError> {
    auth.signed_in()?
        .registry_admin()
        .ok_or_else(|| ApiError::no_right("配置监测预警", "configure surveillance"))
}

/// Watches a declared data element (summed up the area tree) as a surveillance series, or
/// changes its step or department. Admins.
#[utoipa::path(put, path = "/api/v1/surveillance/series/{element}", tag = "evaluation",
    params(("element" = String, Path)),
    request_body = SeriesBody,
    responses((status = 200, body = WatchedSeries), CommonErrors))]
async fn put_series(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(element): Path<String>,
    Json(body): Json<SeriesBody>,
) -> Result<Json<WatchedSeries>, ApiError> {
    let by = registry_admin(&auth)?;
    let s = WatchedSeries::new(&element, body.step, body.department.as_deref())
        .map_err(healthplan_app::AppError::from)?;
    state.app.watch_series(&by, &s).await?;
    Ok(Json(s))
}

/// Stops watching an element (its values and past alerts stay). Admins.
#[utoipa::path(delete, path = "/api/v1/surveillance/series/{element}", tag = "evaluation",
    params(("element" = String, Path)),
    responses((status = 204, description = "No longer watched"), CommonErrors))]
async fn delete_series(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(element): Path<String>,
) -> Result<StatusCode, ApiError> {
    let by = registry_admin(&auth)?;
    state.app.unwatch_series(&by, &element).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SurveillanceSettings {
    /// The detector settings as TOML (see docs/early-warning.md).
    pub toml: String,
    /// Whether they differ from the built-in defaults (read only).
    #[serde(default)]
    pub custom: bool,
}

/// The detector settings in force.
#[utoipa::path(get, path = "/api/v1/surveillance/settings", tag = "evaluation",
    responses((status = 200, body = SurveillanceSettings), CommonErrors))]
async fn get_settings(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<SurveillanceSettings>, ApiError> {
    auth.signed_in()?;
    let w = state.app.watch();
    let toml = w
        .settings
        .to_toml()
        .map_err(|e| healthplan_app::AppError::Input(e.to_string()))?;
    Ok(Json(SurveillanceSettings {
        toml,
        custom: w.custom,
    }))
}

/// Replaces the detector settings; a bad field is a 422 naming it. Admins.
#[utoipa::path(put, path = "/api/v1/surveillance/settings", tag = "evaluation",
    request_body = SurveillanceSettings,
    responses((status = 200, body = SurveillanceSettings), CommonErrors))]
async fn put_settings(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<SurveillanceSettings>,
) -> Result<Json<SurveillanceSettings>, ApiError> {
    let by = registry_admin(&auth)?;
    state.app.set_surveillance_settings(&by, &body.toml).await?;
    Ok(Json(SurveillanceSettings {
        toml: body.toml,
        custom: true,
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct BoardQuery {
    /// The area whose children are listed (the caller's first area when absent).
    pub area: Option<String>,
    /// The last day shown, e.g. `20241130` (today when absent).
    pub until: Option<String>,
    /// Weeks per sparkline (1–156, default 12).
    pub weeks: Option<usize>,
}

/// The board: an area and its children, weekly counts per watched element and whether each
/// series is in alarm; only areas the caller may read.
#[utoipa::path(get, path = "/api/v1/surveillance/board", tag = "evaluation",
    params(BoardQuery),
    responses((status = 200, body = Board), CommonErrors))]
async fn board(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<BoardQuery>,
) -> Result<Json<Board>, ApiError> {
    Ok(Json(board_of(&state, &auth, &q).await?))
}

/// The board a query asks for (shared with the page).
pub async fn board_of(state: &AppState, auth: &Auth, q: &BoardQuery) -> Result<Board, ApiError> {
    let scope = auth.signed_in()?.reader();
    let root = q
        .area
        .as_deref()
        .map(|a| area_param("area", a))
        .transpose()?;
    let until = match &q.until {
        Some(u) => {
            let p = period_param("until", u)?;
            if !matches!(p, Period::Day(..)) {
                return Err(ApiError::invalid(
                    "until",
                    format!("{u}：须为日期，如 20241130"),
                    format!("{u}: must be a day such as 20241130"),
                ));
            }
            p
        }
        None => state.app.clock().today_period(),
    };
    Ok(state
        .app
        .surveillance_board(&scope, root.as_ref(), until, q.weeks.unwrap_or(12))
        .await?)
}
