//! The home page (工作台) of each role, the search page and the bulk review form. The data
//! comes from `healthplan_app::home`, `search` and `bulk`; these handlers only render it.

use super::{render, Page, PageResult};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use healthplan_app::bulk::Selection;
use healthplan_app::store::ValueKey;
use healthplan_core::{ReviewDecision, Role};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home))
        .route("/search", get(search))
        .route("/approvals/bulk", post(bulk))
}

/// The chart's stacks, best to worst.
const STATUSES: [&str; 8] = [
    "achieved",
    "on_track",
    "moderate",
    "insufficient",
    "moving_away",
    "missed",
    "no_data",
    "not_assessable",
];

async fn home_page(state: &AppState, auth: &Auth) -> PageResult {
    let caps = auth.signed_in()?;
    let app = &state.app;
    let today = app.clock().today();
    let changes = app.home_changes(caps).await?;
    let is_reporter = caps.value_writer().is_some() && !caps.is_admin();
    let is_planner = caps.reviewer().is_some();
    // Leaders and viewers open on the KPIs; planners see them below their queue.
    let is_leader = caps.has_role(Role::Viewer) || is_planner;
    let reporter = if is_reporter {
        Some(app.reporter_home(caps, today).await?)
    } else {
        None
    };
    let planner = if is_planner {
        Some(app.planner_home(caps, today).await?)
    } else {
        None
    };
    let leader = if is_leader {
        Some(app.leader_home(caps, app.clock().last_full_year()).await?)
    } else {
        None
    };
    let plans = state.app.store().list_plans(&caps.reader()).await?;
    let chart = leader.as_ref().map(|l| {
        let statuses: Vec<serde_json::Value> = STATUSES
            .iter()
            .map(|s| {
                let counts: Vec<usize> = l
                    .plans
                    .iter()
                    .map(|p| p.by_status.get(s).copied().unwrap_or(0))
                    .collect();
                json!({"key": s, "counts": counts})
            })
            .collect();
        json!({"plans": l.plans.iter().map(|p| &p.title).collect::<Vec<_>>(), "statuses": statuses})
    });
    Ok(render(
        state,
        auth,
        "/",
        Page::new(
            "home.html",
            json!({
                "changes": changes,
                "reporter": reporter,
                "planner": planner,
                "leader": leader,
                "chart": chart,
                "plans": plans,
                "today": today,
            }),
        ),
    ))
}

async fn home(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    page_result!(state, auth, "/", home_page(&state, &auth).await)
}

#[derive(Debug, Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<SearchQuery>,
) -> Response {
    let done: PageResult = async {
        let caps = auth.signed_in()?;
        let hits = state.app.search(caps, &q.q).await?;
        Ok(render(
            &state,
            &auth,
            "/search",
            Page::new("search.html", json!({"q": q.q.trim(), "hits": hits})),
        ))
    }
    .await;
    page_result!(state, auth, "/search", done)
}

/// The bulk form: `decision`, `comment`, and either `round` + `area` (the whole form) or
/// `sel` fields `element|area|period|version` (the ticked rows). `back` is the queue's
/// filtered address to return to.
async fn bulk(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let back = Some(get("back"))
        .filter(|b| b.starts_with("/approvals") && !b.starts_with("//"))
        .unwrap_or_else(|| "/approvals".into());
    let done: PageResult = async {
        let caps = auth.signed_in()?;
        let reviewer = caps
            .reviewer()
            .ok_or_else(|| ApiError::no_right("审核数据", "review values"))?;
        let decision = match get("decision").as_str() {
            "approve" => ReviewDecision::Approve,
            "return" => ReviewDecision::Return,
            _ => {
                return Err(
                    ApiError::invalid("decision", "未知的审核操作", "unknown decision").into(),
                )
            }
        };
        let selection = if !get("round").is_empty() {
            Selection::Form {
                round_id: get("round")
                    .parse()
                    .map_err(|_| ApiError::invalid("round", "轮次无效", "bad round"))?,
                area: crate::api_area("area", &get("area"))?,
            }
        } else {
            let mut keys = Vec::new();
            for (_, v) in fields.iter().filter(|(n, _)| n == "sel") {
                keys.push(selected(v)?);
            }
            Selection::Values(keys)
        };
        let comment = get("comment");
        let outcome = state
            .app
            .review_many(
                &reviewer,
                &caps.reader(),
                &selection,
                decision,
                Some(comment.as_str()),
            )
            .await?;
        for v in &outcome.done {
            crate::state::after_approval(&state, v);
        }
        let refused: Vec<_> = outcome
            .refused
            .into_iter()
            .map(|(k, e)| {
                let e = ApiError::from(e);
                json!({"key": k.to_string(), "reason": e.message(auth.lang)})
            })
            .collect();
        Ok(render(
            &state,
            &auth,
            "/approvals",
            Page::new(
                "bulk_result.html",
                json!({"done": outcome.done.len(), "decision": get("decision"), "refused": refused, "back": back}),
            ),
        ))
    }
    .await;
    match done {
        Ok(r) => r,
        Err(e) if e.error.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            // Say why on the queue itself, keeping its filters.
            let sep = if back.contains('?') { '&' } else { '?' };
            let msg = super::urlencode(e.error.message(auth.lang));
            Redirect::to(&format!("{back}{sep}error={msg}")).into_response()
        }
        Err(e) => super::error_page(&state, &auth, "/approvals", e.error),
    }
}

/// `element|area|period|version` of a ticked row.
fn selected(v: &str) -> Result<(ValueKey, i64), ApiError> {
    let bad = || ApiError::invalid("sel", "所选数据无效", "a selected value is malformed");
    let parts: Vec<&str> = v.split('|').collect();
    let [element, area, period, version] = parts[..] else {
        return Err(bad());
    };
    Ok((
        ValueKey::new(
            element,
            crate::api_area("area", area)?,
            crate::api_period("period", period)?,
        ),
        version.parse().map_err(|_| bad())?,
    ))
}
