//! Public pages: each published plan as it was published, read-only, without signing in.

use super::{render, Page, PageResult};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value as Json};
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/public", get(list))
        .route("/public/plans/{id}", get(plan))
}

async fn list(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    let done: PageResult = async {
        let public = state.app.public_caps().reader();
        let plans = state.app.store().list_plans(&public).await?;
        Ok(render(
            &state,
            &auth,
            "/public",
            Page::new("public_plans.html", json!({"plans": plans})),
        ))
    }
    .await;
    page_result!(state, auth, "/public", done)
}

async fn plan(State(state): State<Arc<AppState>>, auth: Auth, Path(id): Path<i64>) -> Response {
    let path = format!("/public/plans/{id}");
    let done: PageResult = async {
        let p = state
            .app
            .store()
            .publication(id)
            .await?
            .ok_or_else(|| ApiError::not_found("已公开的规划", "published plan"))?;
        let snap = &p.snapshot;
        let area = snap["evaluation"]["plan_area"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        // The plan's own area: one line per indicator.
        let rows: Vec<Json> =
            snap["evaluation"]["results"]
                .as_array()
                .map(|r| {
                    r.iter()
                    .filter(|x| x["area"].as_str() == Some(area.as_str()))
                    .map(|x| json!({
                        "name": x["name"], "unit": x["unit"], "status": x["status"],
                        "latest": x["observations"].as_array().and_then(|o| o.last()).cloned(),
                        "summary": x["summary_zh"], "summary_en": x["summary_en"],
                    }))
                    .collect()
                })
                .unwrap_or_default();
        let rollup = snap["evaluation"]["rollups"]["areas"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["area"].as_str() == Some(area.as_str())))
            .map(|a| a["total"].clone());
        Ok(render(
            &state,
            &auth,
            &path,
            Page::new(
                "public_plan.html",
                json!({"publication": {"as_of": p.as_of, "published_at": p.published_at},
                       "title": snap["title"], "area": area, "rows": rows, "rollup": rollup,
                       "synthetic": snap["synthetic"]}),
            ),
        ))
    }
    .await;
    page_result!(state, auth, &path, done)
}
