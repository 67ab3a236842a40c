//! The REST API under `/api/v1`. Every operation is declared with `#[utoipa::path]` next to
//! its handler; the router and the OpenAPI document are built from the same list, so the
//! document cannot drift from the routes.

mod alerts;
mod analytics;
mod daily;
pub(crate) mod exchange;
pub(crate) mod files;
mod notifications;
mod plans;
mod registry;
mod session;
pub(crate) mod surveillance;
mod values;
mod workflow;

use crate::error::ErrorBody;
use crate::state::AppState;
use axum::http::{header, HeaderMap, HeaderValue};
use std::sync::Arc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "healthplan API",
        description = "Plans, data collection, evaluation and analytics of a Healthy-X action plan. \
            Sign in with `POST /api/v1/session` (cookie; send the returned `csrf_token` as \
            `X-CSRF-Token` on every change) or use a personal API token as \
            `Authorization: Bearer …`. Errors share one shape (`ErrorBody`); messages follow \
            `Accept-Language` (zh-CN or en).",
        version = env!("CARGO_PKG_VERSION"),
    ),
    modifiers(&Security),
    components(schemas(ErrorBody)),
    tags(
        (name = "session", description = "Signing in and out, the caller, API tokens"),
        (name = "registry", description = "Areas, departments, data elements, users"),
        (name = "plans", description = "Plans, their items and element links, life cycle"),
        (name = "values", description = "Reported values and their review workflow"),
        (name = "workflow", description = "Reporting rounds, task progress, evidence"),
        (name = "evaluation", description = "Evaluation, assessment, alignment, analytics"),
        (name = "exchange", description = "DHIS2 dataValueSets JSON and ADX in and out, the code mapping table"),
        (name = "public", description = "What is published, without signing in"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token (POST /api/v1/me/tokens)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
        openapi.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("token", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

pub(crate) use registry::user_admin;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(session::router())
        .merge(registry::router())
        .merge(plans::router())
        .merge(values::router())
        .merge(workflow::router())
        .merge(analytics::router())
        .merge(alerts::router())
        .merge(surveillance::router())
        .merge(files::router())
        .merge(exchange::router())
        .merge(notifications::router())
        .merge(daily::router())
}

/// The errors any operation may answer with, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Only its OpenAPI description is used.
pub enum CommonErrors {
    /// Malformed request.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Not signed in, or a bad or revoked token.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Signed in, but without the right (or a CSRF token is missing).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Not there, or not visible to the caller.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// A version conflict (with the current value), a locked value, or a workflow step that
    /// does not apply.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The request body is too large.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The request is well formed but its content is refused; `field` says where.
    #[response(status = 422)]
    Invalid(ErrorBody),
}

/// `ETag` of a versioned row.
pub fn etag(version: i64) -> (header::HeaderName, HeaderValue) {
    (
        header::ETAG,
        HeaderValue::from_str(&format!("\"{version}\""))
            .unwrap_or(HeaderValue::from_static("\"0\"")),
    )
}

/// The version an `If-Match` header names (`"3"`, `W/"3"` or `3`).
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, crate::ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("").trim();
    let s = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
    s.parse::<i64>().map(Some).map_err(|_| {
        crate::ApiError::bad_request(
            format!("If-Match 应为版本号（例如 \"3\"），收到 {s:?}"),
            format!("If-Match must name a version such as \"3\", got {s:?}"),
        )
        .field("If-Match")
    })
}

/// JSON in and out, with the API's error shape when a body cannot be read.
pub struct Json<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = crate::ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(body_error(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected `Content-Type: application/json`".into(),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| body_error(e.status(), e.body_text()))?;
        let axum::Json(v) = axum::Json::<T>::from_bytes(&bytes)
            .map_err(|e| body_error(e.status(), e.body_text()))?;
        refuse_nul(&bytes)?;
        Ok(Json(v))
    }
}

fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// PostgreSQL cannot store NUL in text or jsonb, so no backend takes it: a body whose JSON
/// strings hold `\u0000` (or whose text holds a NUL) is refused as invalid.
fn refuse_nul(bytes: &[u8]) -> Result<(), crate::ApiError> {
    fn has_nul(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(a) => a.iter().any(has_nul),
            serde_json::Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    let escaped = bytes.windows(6).any(|w| w == b"\\u0000");
    let nul = bytes.contains(&0)
        || (escaped
            && serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| has_nul(&v)));
    if nul {
        return Err(crate::ApiError::invalid(
            "body",
            "文本不能包含 NUL 字符（\\u0000）",
            "text cannot contain the NUL character (\\u0000)",
        ));
    }
    Ok(())
}

/// A NUL (`%00`) in a path or query parameter: refused before it reaches a store.
fn nul_in_uri(part: Option<&str>) -> Result<(), crate::ApiError> {
    if part.is_some_and(|p| p.to_ascii_lowercase().contains("%00")) {
        return Err(crate::ApiError::bad_request(
            "地址不能包含 NUL 字符（%00）",
            "the address cannot contain the NUL character (%00)",
        ));
    }
    Ok(())
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// A text body (plan JSON read by the importer's rules, CSV), with the API's error shape when
/// it is not UTF-8.
pub struct Text(pub String);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Text {
    type Rejection = crate::ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let s = String::from_request(req, state)
            .await
            .map_err(|e| body_error(e.status(), e.body_text()))?;
        refuse_nul(s.as_bytes())?;
        Ok(Text(s))
    }
}

/// A `multipart/form-data` body, with the API's error shape when it is not one.
pub struct Multipart(pub axum::extract::Multipart);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Multipart {
    type Rejection = crate::ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Multipart::from_request(req, state).await {
            Ok(m) => Ok(Multipart(m)),
            Err(e) => Err(body_error(e.status(), e.body_text())),
        }
    }
}

fn body_error(status: axum::http::StatusCode, text: String) -> crate::ApiError {
    use axum::http::StatusCode;
    let status = match status {
        StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::BAD_REQUEST,
        s if s.is_client_error() => s,
        _ => StatusCode::BAD_REQUEST,
    };
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "too_large"
    } else {
        "bad_request"
    };
    crate::ApiError::new(
        status,
        code,
        format!("请求无法读取：{text}"),
        format!("the request cannot be read: {text}"),
    )
}

/// Path parameters, with the API's error shape.
pub struct Path<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = crate::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        nul_in_uri(Some(parts.uri.path()))?;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => Err(body_error(
                axum::http::StatusCode::BAD_REQUEST,
                e.body_text(),
            )),
        }
    }
}

/// Query parameters, with the API's error shape.
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = crate::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        nul_in_uri(parts.uri.query())?;
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(body_error(
                axum::http::StatusCode::BAD_REQUEST,
                e.body_text(),
            )),
        }
    }
}

/// Parses an area code from a path or query, as a 4xx naming the field.
pub fn area_param(field: &str, s: &str) -> Result<healthplan_core::AreaCode, crate::ApiError> {
    healthplan_core::AreaCode::parse(s)
        .map_err(|e| crate::ApiError::invalid(field, format!("区划代码无效：{e}"), e.to_string()))
}

pub fn period_param(field: &str, s: &str) -> Result<healthplan_core::Period, crate::ApiError> {
    s.parse::<healthplan_core::Period>()
        .map_err(|e| crate::ApiError::invalid(field, format!("期间无效：{e}"), e.to_string()))
}
