//! Daily use: search, bulk review.

use super::{area_param, period_param, CommonErrors, Json};
use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::{Query, State};
use healthplan_app::bulk::Selection;
use healthplan_app::search::Hit;
use healthplan_app::store::ValueKey;
use healthplan_core::{DataValue, ReviewDecision};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(bulk_review))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// Chinese text, pinyin initials (`ylws`) or whole pinyin (`yiliao`); 40 characters at most.
    #[serde(default)]
    q: String,
}

/// Indicators, tasks, areas and departments the caller may read that match `q`, best first
/// (at most 100). Nothing outside the caller's scope is searched.
#[utoipa::path(get, path = "/api/v1/search", tag = "plans",
    params(SearchParams),
    responses((status = 200, body = Vec<Hit>), CommonErrors))]
async fn search(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(p): Query<SearchParams>,
) -> Result<Json<Vec<Hit>>, ApiError> {
    let caps = auth.signed_in()?;
    Ok(Json(state.app.search(caps, &p.q).await?))
}

/// One value of a bulk decision, at the version the reviewer saw.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkValue {
    element: String,
    area: String,
    period: String,
    version: i64,
}

/// A bulk decision: `approve` or `return` (a return needs a comment) of either a whole form
/// (`round` and `area`: every submitted value of that area in the round) or `values`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkReview {
    decision: String,
    comment: Option<String>,
    round: Option<i64>,
    area: Option<String>,
    #[serde(default)]
    values: Vec<BulkValue>,
}

/// A value the rules refused, and why; it was left as it was.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkRefused {
    /// `element/area/period`.
    key: String,
    error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    /// The values decided, as stored now (one audit entry each).
    done: Vec<DataValue>,
    refused: Vec<BulkRefused>,
}

/// Approves or returns many values in one action. Each value is reviewed on its own (its
/// own audit entry, the reviewer's scope and the four-eyes rule judged per value); those the
/// rules refuse are listed in `refused` and left unchanged.
#[utoipa::path(post, path = "/api/v1/values/bulk-review", tag = "values",
    request_body = BulkReview,
    responses((status = 200, body = BulkResult), CommonErrors))]
async fn bulk_review(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<BulkReview>,
) -> Result<Json<BulkResult>, ApiError> {
    let caps = auth.signed_in()?;
    let reviewer = caps
        .reviewer()
        .ok_or_else(|| ApiError::no_right("审核数据", "review values"))?;
    let decision = match body.decision.as_str() {
        "approve" => ReviewDecision::Approve,
        "return" => ReviewDecision::Return,
        _ => {
            return Err(ApiError::invalid(
                "decision",
                "审核操作应为 approve 或 return",
                "decision must be approve or return",
            ))
        }
    };
    let selection = match (body.round, body.area.as_deref()) {
        (Some(round_id), Some(area)) => Selection::Form {
            round_id,
            area: area_param("area", area)?,
        },
        (None, None) => {
            let mut keys = Vec::new();
            for v in &body.values {
                keys.push((
                    ValueKey::new(
                        v.element.trim(),
                        area_param("area", &v.area)?,
                        period_param("period", &v.period)?,
                    ),
                    v.version,
                ));
            }
            Selection::Values(keys)
        }
        _ => {
            return Err(ApiError::invalid(
                "round",
                "整表审核需同时给出 round 与 area",
                "a whole form needs both round and area",
            ))
        }
    };
    let outcome = state
        .app
        .review_many(
            &reviewer,
            &caps.reader(),
            &selection,
            decision,
            body.comment.as_deref(),
        )
        .await?;
    for v in &outcome.done {
        crate::state::after_approval(&state, v);
    }
    Ok(Json(BulkResult {
        done: outcome.done,
        refused: outcome
            .refused
            .into_iter()
            .map(|(k, e)| BulkRefused {
                key: k.to_string(),
                error: ApiError::from(e).body(auth.lang),
            })
            .collect(),
    }))
}
