//! Scripts, styles and fonts the pages use, compiled into the binary: no CDN, nothing fetched
//! at run time.

use crate::state::AppState;
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/app.js"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx.min.js"),
    ),
    (
        "echarts.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/echarts.min.js"),
    ),
    (
        "LICENSE.htmx",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/vendor/LICENSE.htmx"),
    ),
    (
        "LICENSE.echarts",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/vendor/LICENSE.echarts"),
    ),
    (
        "NOTICE.echarts",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/vendor/NOTICE.echarts"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../assets/favicon.svg"),
    ),
];

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, ct, bytes)) => (
            [
                (header::CONTENT_TYPE, *ct),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/assets/{name}", get(asset)).route(
        "/favicon.ico",
        get(|| async { asset(Path("favicon.svg".into())).await }),
    )
}
