//! The alerts page: what the checks raised for the caller's areas, to acknowledge, comment on
//! and close; planners can run the checks now.

use super::{render, Page, PageResult};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use healthplan_app::lists::AlertView;
use healthplan_core::{AlertAction, AlertKind, AlertLevel, AlertStatus, AreaCode, AreaLevel};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/alerts", get(alerts))
        .route("/alerts/check", post(check))
        .route("/alerts/{id}", post(handle))
}

#[derive(Debug, Deserialize, Default)]
pub struct AlertQuery {
    status: Option<String>,
    kind: Option<String>,
    /// 1-based; newest first.
    page: Option<usize>,
    /// Alerts a page (10–100, default 30: enough to scan, few enough to read).
    per_page: Option<usize>,
    plan: Option<String>,
    /// The area and everything below it.
    area: Option<String>,
    /// Area level (`province`, `city`, `county`, `town`, `village`).
    area_level: Option<String>,
    /// Severity (`info`, `warning`, `critical`).
    level: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

async fn alerts_page(
    state: &AppState,
    auth: &Auth,
    q: AlertQuery,
    notice: Option<String>,
) -> PageResult {
    let caps = auth.signed_in()?;
    let scope = caps.reader();
    let status = match q.status.as_deref() {
        Some("all") => None,
        Some(s) => AlertStatus::parse(s).ok(),
        None => Some(AlertStatus::Open),
    };
    let kind = q.kind.as_deref().and_then(|k| AlertKind::parse(k).ok());
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let per = q.per_page.unwrap_or(30).clamp(10, 100);
    let store = state.app.store();
    // Malformed filter values are ignored (the filter is off), never an error.
    let view = AlertView {
        status,
        kind,
        plan_id: nonempty(&q.plan).and_then(|p| p.parse().ok()),
        area: nonempty(&q.area).and_then(|a| AreaCode::parse(a).ok()),
        area_level: nonempty(&q.area_level)
            .and_then(|l| AreaLevel::ALL.into_iter().find(|x| x.as_str() == l)),
        level: nonempty(&q.level).and_then(|l| AlertLevel::parse(l).ok()),
    };
    let (alerts, more) = state.app.alerts_view(caps, &view, page, per).await?;
    let handler = caps.alert_handler();
    let mut items = Vec::new();
    for a in alerts {
        let (_, comments) = store.alert(&scope, a.id).await?;
        let can = handler
            .as_ref()
            .is_some_and(|h| h.check(&a.area, a.department.as_deref()).is_ok());
        let area_name = state.app.policy().areas().name(&a.area).map(String::from);
        items.push(
            json!({"alert": a, "comments": comments, "can_handle": can, "area_name": area_name}),
        );
    }
    Ok(render(
        state,
        auth,
        "/alerts",
        Page::new(
            "alerts.html",
            json!({
                "items": items,
                "status": status.map_or("all", |s| s.as_str()),
                "kind": kind.map(|k| k.as_str()),
                "kinds": AlertKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                "can_check": caps.plan_editor().is_some(),
                "f": {
                    "plan": view.plan_id, "area": view.area,
                    "area_level": view.area_level.map(|l| l.as_str()),
                    "level": view.level.map(|l| l.as_str()),
                },
                "filters": alert_filters(state, caps).await?,
                "query": alert_query(&view, per),
                "page": page,
                "per_page": per,
                "more": more,
                "notice": notice,
            }),
        ),
    ))
}

/// The filters' choices: readable plans and areas down to the county level.
async fn alert_filters(
    state: &AppState,
    caps: &healthplan_access::Caps,
) -> Result<serde_json::Value, ApiError> {
    let scope = caps.reader();
    let store = state.app.store();
    let plans = store.list_plans(&scope).await?;
    let areas: Vec<serde_json::Value> = store
        .list_areas()
        .await?
        .into_iter()
        .filter(|a| scope.area(&a.code) && a.level <= AreaLevel::County)
        .map(|a| json!({"code": a.code, "name": a.name}))
        .collect();
    Ok(json!({
        "plans": plans.iter().map(|p| json!({"id": p.id, "title": p.title})).collect::<Vec<_>>(),
        "areas": areas,
        "area_levels": ["province", "city", "county", "town", "village"],
        "levels": ["critical", "warning", "info"],
    }))
}

/// The list's address with its filters and without the page (the pager and the status
/// tabs add theirs).
fn alert_query(v: &AlertView, per: usize) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(k) = v.kind {
        q.append_pair("kind", k.as_str());
    }
    if let Some(p) = v.plan_id {
        q.append_pair("plan", &p.to_string());
    }
    if let Some(a) = &v.area {
        q.append_pair("area", a.as_str());
    }
    if let Some(l) = v.area_level {
        q.append_pair("area_level", l.as_str());
    }
    if let Some(l) = v.level {
        q.append_pair("level", l.as_str());
    }
    if per != 30 {
        q.append_pair("per_page", &per.to_string());
    }
    q.finish()
}

async fn alerts(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<AlertQuery>,
) -> Response {
    page_result!(
        state,
        auth,
        "/alerts",
        alerts_page(&state, &auth, q, None).await
    )
}

#[derive(Debug, Deserialize)]
pub struct HandleForm {
    action: Option<String>,
    #[serde(default)]
    comment: String,
}

async fn handle(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<HandleForm>,
) -> Response {
    let done: PageResult = async {
        let handler = auth
            .signed_in()?
            .alert_handler()
            .ok_or_else(|| ApiError::no_right("处理预警", "handle alerts"))?;
        state.app.store().alert(&auth.caps.reader(), id).await?;
        let action = match f.action.as_deref() {
            Some("acknowledge") => Some(AlertAction::Acknowledge),
            Some("close") => Some(AlertAction::Close),
            Some("reopen") => Some(AlertAction::Reopen),
            _ => None,
        };
        let comment = Some(f.comment.trim()).filter(|c| !c.is_empty());
        state
            .app
            .store()
            .handle_alert(&handler, id, action, comment)
            .await?;
        Ok(Redirect::to(&format!("/alerts?status=all#alert-{id}")).into_response())
    }
    .await;
    page_result!(state, auth, "/alerts", done)
}

async fn check(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    let done: PageResult = async {
        let raised = state
            .app
            .run_alert_checks(
                auth.signed_in()?,
                None,
                state.app.clock().last_full_year(),
                state.app.clock().today(),
                &state.config.settings,
            )
            .await?
            .len();
        let notice =
            crate::i18n::t(auth.lang, "alerts.checked").replacen("{}", &raised.to_string(), 1);
        alerts_page(&state, &auth, AlertQuery::default(), Some(notice)).await
    }
    .await;
    page_result!(state, auth, "/alerts", done)
}
