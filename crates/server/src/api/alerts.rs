//! Early-warning alerts: list, read, acknowledge, comment, close, reopen; and a check run on
//! demand.

use super::{CommonErrors, Json, Path, Query};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use healthplan_app::store::AlertFilter;
use healthplan_core::{Alert, AlertAction, AlertComment, AlertKind, AlertStatus};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(get_alert))
        .routes(routes!(handle_alert))
        .routes(routes!(check_alerts))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AlertQuery {
    /// `open`, `acknowledged` or `closed`.
    pub status: Option<AlertStatus>,
    /// `status`, `interim`, `forecast`, `round_late` or `outbreak`.
    pub kind: Option<AlertKind>,
    pub plan: Option<i64>,
}

/// Alerts of the caller's areas, newest first (at most 1,000).
#[utoipa::path(get, path = "/api/v1/alerts", tag = "evaluation",
    params(AlertQuery),
    responses((status = 200, body = Vec<Alert>), CommonErrors))]
async fn list_alerts(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<AlertQuery>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let scope = auth.signed_in()?.reader();
    let filter = AlertFilter {
        status: q.status,
        kind: q.kind,
        plan_id: q.plan,
        limit: Some(1000),
    };
    Ok(Json(state.app.store().list_alerts(&scope, &filter).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertDetail {
    pub alert: Alert,
    pub comments: Vec<AlertComment>,
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "evaluation",
    params(("id" = i64, Path)),
    responses((status = 200, body = AlertDetail), CommonErrors))]
async fn get_alert(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Json<AlertDetail>, ApiError> {
    let scope = auth.signed_in()?.reader();
    let (alert, comments) = state.app.store().alert(&scope, id).await?;
    Ok(Json(AlertDetail { alert, comments }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AlertHandling {
    /// `acknowledge`, `close` or `reopen`; absent to only comment.
    pub action: Option<AlertAction>,
    pub comment: Option<String>,
}

/// Acknowledges, closes or reopens an alert, with an optional comment (or only comments).
/// Planners of the area, and reporters of the department it is addressed to.
#[utoipa::path(post, path = "/api/v1/alerts/{id}", tag = "evaluation",
    params(("id" = i64, Path)),
    request_body = AlertHandling,
    responses((status = 200, body = Alert), CommonErrors))]
async fn handle_alert(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(body): Json<AlertHandling>,
) -> Result<Json<Alert>, ApiError> {
    let handler = auth
        .signed_in()?
        .alert_handler()
        .ok_or_else(|| ApiError::no_right("处理预警", "handle alerts"))?;
    // An alert outside the caller's areas is as unknown as a missing one.
    state.app.store().alert(&auth.caps.reader(), id).await?;
    Ok(Json(
        state
            .app
            .store()
            .handle_alert(&handler, id, body.action, body.comment.as_deref())
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckRequest {
    /// Re-evaluate this plan (all readable plans when absent).
    pub plan_id: Option<i64>,
    /// As of this year (the last full year when absent).
    pub as_of: Option<i32>,
}

/// Re-evaluates and checks round deadlines now; returns the alerts raised. Planners.
#[utoipa::path(post, path = "/api/v1/alerts/check", tag = "evaluation",
    request_body = CheckRequest,
    responses((status = 200, body = Vec<Alert>), CommonErrors))]
async fn check_alerts(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<CheckRequest>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let caps = auth.signed_in()?;
    let as_of = body
        .as_of
        .filter(|&y| healthplan_core::Period::plausible_year(y))
        .unwrap_or_else(|| state.app.clock().last_full_year());
    Ok(Json(
        state
            .app
            .run_alert_checks(
                caps,
                body.plan_id,
                as_of,
                state.app.clock().today(),
                &state.config.settings,
            )
            .await?,
    ))
}
