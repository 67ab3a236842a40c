//! The healthplan server: the REST API under `/api/v1` (described by the OpenAPI document at
//! `/api/openapi.json`, with Swagger UI at `/api/docs`), the web pages, and the sign-in
//! model behind both.
//!
//! Handlers are thin: they turn the caller into capabilities (see `auth`), ask for the one an
//! action needs, and call the app. Only this crate knows HTTP.

pub(crate) mod api;
mod auth;
mod error;
mod i18n;
mod ops;
mod pages;
mod state;

pub(crate) use api::{area_param as api_area, period_param as api_period};
pub use auth::{hash_secret, random_token};
pub use error::ApiError;
pub use ops::Metrics;
pub use state::{AppState, ServerConfig};

use axum::http::{header, HeaderValue};
use axum::Router;
use healthplan_app::App;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// The whole application: API, documentation, pages and assets, behind the authentication
/// and CSRF middleware.
pub fn router(state: Arc<AppState>) -> Router {
    let (api, openapi) = api::router().split_for_parts();
    let docs: Router<Arc<AppState>> = utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .url("/api/openapi.json", openapi)
        .into();
    let limit = state.config.max_body_bytes;
    // Browsers are told to come back over TLS only when the server is reached over TLS.
    let hsts = state
        .config
        .secure_cookies
        .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    let signed = Router::new()
        .merge(api)
        .merge(docs)
        .merge(pages::router_with_state(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    Router::new()
        .merge(signed)
        .merge(ops::router())
        .layer(axum::middleware::from_fn(error::localize))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // Scripts come only from served files (no inline script, handler or style
        // attribute anywhere); `data:` images are Swagger UI's icons.
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; img-src 'self' data:; \
                 object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            move |_: &axum::response::Response| hsts.clone(),
        ))
        .layer(RequestBodyLimitLayer::new(limit))
        // Extractors (`Bytes`, multipart) otherwise stop at axum's own 2 MB; the layer above
        // is the one limit.
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::track,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Every log line of a request carries its id (also sent back as `x-request-id`, or taken
/// from the proxy's header) and the route.
fn request_span(req: &axum::extract::Request) -> tracing::Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |m| m.as_str());
    tracing::info_span!("request", id, method = %req.method(), route)
}

/// The OpenAPI document the server serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::router().split_for_parts().1
}

/// Serves until `shutdown` resolves, then stops accepting and lets requests in flight (and
/// the writes they make) finish before returning.
pub async fn serve(
    app: Arc<App>,
    config: ServerConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let checks = config.alert_interval.map(|every| {
        tokio::spawn(state::check_alerts_periodically(
            app.clone(),
            config.settings.clone(),
            every,
        ))
    });
    let delivery = config.notify_interval.map(|every| {
        tokio::spawn(state::deliver_periodically(
            app.clone(),
            config.notify_defaults.clone(),
            config.notify_retry.clone(),
            every,
        ))
    });
    // Other processes on the same PostgreSQL database: their writes reach this engine.
    let follower = tokio::spawn(healthplan_app::cluster::follow_changes(
        app.clone(),
        config.catch_up_every,
    ));
    let state = Arc::new(AppState::new(app.clone(), config));
    let router = router(state);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    if let Some(c) = checks {
        c.abort();
    }
    if let Some(d) = delivery {
        d.abort();
    }
    follower.abort();
    // Writes are serialised in the app; wait for the pool to finish them.
    tokio::time::timeout(Duration::from_secs(10), app.store().close())
        .await
        .ok();
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
