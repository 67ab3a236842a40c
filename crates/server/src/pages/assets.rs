//! Scripts, styles and fonts the pages use, compiled into the binary: no CDN, nothing fetched
//! at run time. `build.rs` compresses each (gzip, brotli) and names it by its content hash;
//! pages link the hashed name (the `asset()` template function), which is cached for a year
//! as immutable. The plain name still answers, with a short cache, for links from outside.

use crate::state::AppState;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

pub(crate) struct Asset {
    pub name: &'static str,
    pub hashed: &'static str,
    pub content_type: &'static str,
    pub raw: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub br: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The path a page links for an asset: its content-hashed name.
pub(crate) fn asset_path(name: &str) -> Option<String> {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| format!("/assets/{}", a.hashed))
}

/// The best encoding the client accepts (`q=0` refuses one): brotli, then gzip, else none.
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (name.eq_ignore_ascii_case(coding) || name == "*") && q > 0.0
        })
}

fn serve(name: &str, headers: &HeaderMap) -> Response {
    let (asset, immutable) = match ASSETS.iter().find(|a| a.hashed == name) {
        Some(a) => (a, true),
        None => match ASSETS.iter().find(|a| a.name == name) {
            Some(a) => (a, false),
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    let (body, encoding) = match (asset.br, asset.gzip) {
        (Some(br), _) if accepts(headers, "br") => (br, Some("br")),
        (_, Some(gz)) if accepts(headers, "gzip") => (gz, Some("gzip")),
        _ => (asset.raw, None),
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=3600"
        }),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(e) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
    }
    r
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&name, &headers)
}

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/assets/{name}", get(asset)).route(
        "/favicon.ico",
        get(|headers: HeaderMap| async move { serve("favicon.svg", &headers) }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_gets_a_new_name() {
        use super::super::asset_name::hashed_name;
        let a = hashed_name("app.css", b"body { color: black }");
        let b = hashed_name("app.css", b"body { color: red }");
        assert_ne!(a, b);
        assert!(a.starts_with("app.") && a.ends_with(".css"), "{a}");
        assert_eq!(a, hashed_name("app.css", b"body { color: black }"));
        // The names served are those of the embedded bytes.
        for asset in ASSETS {
            assert_eq!(asset.hashed, hashed_name(asset.name, asset.raw));
        }
    }

    #[test]
    fn encodings_follow_accept_encoding() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            m
        };
        assert!(accepts(&h("gzip, deflate, br, zstd"), "br"));
        assert!(!accepts(&h("gzip;q=1.0, br;q=0"), "br"));
        assert!(accepts(&h("gzip;q=1.0, br;q=0"), "gzip"));
        assert!(accepts(&h("*"), "gzip"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
        let r = serve(
            asset_path("echarts.min.js")
                .unwrap()
                .trim_start_matches("/assets/"),
            &h("br"),
        );
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
        assert!(r.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable"));
    }
}
