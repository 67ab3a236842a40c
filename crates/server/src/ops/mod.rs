//! What an operations team probes and scrapes: `/healthz` (the process answers), `/readyz`
//! (database reachable, migrations applied, engine built) and `/metrics` (Prometheus text,
//! only with a configured token). These routes sit outside sign-in: probes carry no session.

mod metrics;

pub(crate) use metrics::track;
pub use metrics::Metrics;

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

/// The last backup and, when it is newer, the last failed one (the admin page shows both).
pub(crate) struct BackupStatus {
    pub last: Option<serde_json::Value>,
    pub failure: Option<serde_json::Value>,
}

pub(crate) async fn backup_status(
    store: &healthplan_app::store::Store,
) -> healthplan_app::store::Result<BackupStatus> {
    let last = store
        .last_operation(healthplan_app::store::BACKUP_ENTITY)
        .await?;
    let failure = store
        .last_operation(healthplan_app::store::BACKUP_FAILURE_ENTITY)
        .await?
        .filter(|f| last.as_ref().is_none_or(|l| l.id < f.id));
    let field = |e: &healthplan_app::store::AuditEntry, k: &str| {
        e.after.as_ref().and_then(|a| a.get(k)).cloned()
    };
    Ok(BackupStatus {
        last: last.as_ref().map(|e| {
            json!({"at": e.at, "file": e.entity_key, "bytes": field(e, "bytes"), "actor": e.actor})
        }),
        failure: failure
            .as_ref()
            .map(|e| json!({"at": e.at, "file": e.entity_key, "error": field(e, "error")})),
    })
}

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 when this process can serve: 503 names what is missing.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let store = state.app.store();
    let database = store.ping().await.map_err(|e| e.to_string());
    let migrations = match &database {
        Ok(()) => store.migration_state().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.clone()),
    };
    let ready = matches!(&migrations, Ok(m) if m.pending.is_empty());
    let engine = {
        let e = state.app.engine();
        json!({"elements": e.element_count(), "bytes": e.heap_bytes()})
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "database": match &database { Ok(()) => json!("ok"), Err(e) => json!({"error": e}) },
        "migrations": match &migrations {
            Ok(m) => json!({"applied": m.applied, "pending": m.pending}),
            Err(e) => json!({"error": e}),
        },
        "engine": engine,
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Off (404) unless a token is configured; then only `Authorization: Bearer <token>`.
async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(expected) = &state.config.metrics_token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compared as digests so the time taken says nothing about the token.
    if crate::hash_secret(given) != crate::hash_secret(expected) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "metrics need the configured bearer token\n",
        )
            .into_response();
    }
    match state.metrics.render(&state.app).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics could not be gathered");
            (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response()
        }
    }
}
