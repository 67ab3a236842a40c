//! Who is calling, and what they may do.
//!
//! Every request passes [`authenticate`]: an `Authorization: Bearer` API token, or else the
//! session cookie, becomes the caller's [`Caps`]; nothing becomes the public's. Handlers never
//! see a user, only the [`Auth`] with those capabilities. Sessions live in the database (ids
//! stored as hashes), end on sign-out, after an idle time and after a maximum age, and a new
//! id is issued at every sign-in. State-changing requests made with the cookie must carry the
//! session's CSRF token (header `X-CSRF-Token` or form field `csrf`); token requests need
//! none. Failed sign-ins are counted per account and per client address, and waits grow with
//! them.

use crate::error::ApiError;
use crate::i18n::Lang;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use healthplan_access::{password, Caps, Via};
use healthplan_app::store::parse_utc;
use rand::Rng;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "hp_session";
/// Double-submit token of the sign-in form, before there is a session.
pub const LOGIN_CSRF_COOKIE: &str = "hp_login_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf";
/// Forms with bodies larger than this are not searched for a CSRF field.
const MAX_FORM_SCAN: usize = 2 * 1024 * 1024;

/// 32 random bytes, URL-safe base64: session ids, CSRF and API tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a secret.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The signed-in session behind a request.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub csrf: String,
}

/// The caller: capabilities, the session when the cookie was used, the language.
#[derive(Debug, Clone)]
pub struct Auth {
    pub caps: Caps,
    pub session: Option<Session>,
    pub lang: Lang,
    pub client: String,
}

impl Auth {
    /// The caller when signed in (session or token); 401 otherwise.
    pub fn signed_in(&self) -> Result<&Caps, ApiError> {
        if self.caps.is_signed_in() {
            Ok(&self.caps)
        } else {
            Err(ApiError::unauthorized())
        }
    }

    /// The CSRF token pages embed (empty without a session).
    pub fn csrf(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.csrf.as_str())
    }
}

impl FromRequestParts<Arc<AppState>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Auth>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)
    }
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
        .filter(|v| !v.is_empty())
}

fn client_address(state: &AppState, req: &Request) -> String {
    if state.config.trust_proxy {
        if let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            return ip.to_string();
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".into(), |c| c.0.ip().to_string())
}

/// Whether cookies must be marked `Secure` for this request.
pub fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || (state.config.trust_proxy
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|p| p.eq_ignore_ascii_case("https")))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path /, Secure when served over TLS.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

fn unsafe_method(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn csrf_error() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf",
        "请求缺少有效的防跨站令牌（CSRF），请刷新页面后重试",
        "missing or wrong CSRF token; reload the page and try again",
    )
}

/// Looks for `field` in a url-encoded form body, giving the body back.
async fn form_field(req: Request, field: &str) -> (Request, Option<String>) {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (req, None);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_SCAN).await else {
        return (Request::from_parts(parts, Body::empty()), None);
    };
    let value = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == field)
        .map(|(_, v)| v.into_owned());
    (Request::from_parts(parts, Body::from(bytes)), value)
}

/// Constant-time comparison of two tokens.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

enum Found {
    Public,
    Caller(Caps, Option<Session>),
}

async fn by_token(state: &AppState, token: &str, client: &str) -> Result<Found, ApiError> {
    let store = state.app.store();
    let Some(t) = store.use_token(&hash_secret(token), client).await? else {
        return Err(ApiError::unauthorized());
    };
    if t.revoked_at.is_some() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "token_revoked",
            "该 API 令牌已被撤销",
            "this API token has been revoked",
        ));
    }
    match store.user(&t.username).await? {
        Some(u) if !u.disabled => Ok(Found::Caller(state.app.caps(&u, Via::Token(t.id)), None)),
        _ => Err(ApiError::unauthorized()),
    }
}

async fn by_cookie(state: &AppState, id: &str) -> Result<Found, ApiError> {
    let store = state.app.store();
    let id_hash = hash_secret(id);
    let Some(s) = store.session(&id_hash).await? else {
        return Ok(Found::Public);
    };
    let now = state.app.clock().now();
    let age = |t: &str| parse_utc(t).map(|t| now.duration_since(t).unsigned_abs());
    let idle = age(&s.last_seen_at);
    let lived = age(&s.created_at);
    let cfg = &state.config;
    let expired = match (idle, lived) {
        (Some(i), Some(l)) => i > cfg.idle_timeout || l > cfg.max_session,
        _ => true,
    };
    if expired {
        store.end_session(&id_hash, "session_expired").await?;
        return Ok(Found::Public);
    }
    let Some(user) = store.user(&s.username).await?.filter(|u| !u.disabled) else {
        store.end_session(&id_hash, "account_disabled").await?;
        return Ok(Found::Public);
    };
    // Refreshing the idle clock at most once a minute keeps reads from all being writes.
    if idle.is_some_and(|i| i.as_secs() >= 60) {
        store.touch_session(&id_hash).await?;
    }
    Ok(Found::Caller(
        state.app.caps(&user, Via::Session),
        Some(Session {
            id_hash,
            csrf: s.csrf,
        }),
    ))
}

/// Resolves the caller and checks CSRF; see the module documentation.
pub async fn authenticate(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let lang = Lang::of_request(req.headers());
    let client = client_address(&state, &req);
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or("")
                .trim()
                .to_string()
        });
    let found = match (&bearer, cookie_value(req.headers(), SESSION_COOKIE)) {
        (Some(token), _) => by_token(&state, token, &client).await,
        (None, Some(id)) => {
            let id = id.to_string();
            by_cookie(&state, &id).await
        }
        (None, None) => Ok(Found::Public),
    };
    let (caps, session) = match found {
        Ok(Found::Public) => (state.app.public_caps(), None),
        Ok(Found::Caller(c, s)) => (c, s),
        Err(e) => return e.into_response(),
    };
    // Anonymous API writes stop here, before their body is read: 401, not a schema error.
    if !caps.is_signed_in()
        && unsafe_method(req.method())
        && req.uri().path().starts_with("/api/")
        && req.uri().path() != "/api/v1/session"
    {
        return ApiError::unauthorized().into_response();
    }
    let mut req = req;
    if unsafe_method(req.method()) {
        let expected = match &session {
            Some(s) => Some(s.csrf.clone()),
            // The sign-in form has no session yet: its token is also in a cookie. Without
            // that cookie nothing matches, so a form posted from elsewhere cannot sign the
            // browser in to the attacker's account.
            None if req.uri().path() == "/login" => Some(
                cookie_value(req.headers(), LOGIN_CSRF_COOKIE)
                    .unwrap_or_default()
                    .to_string(),
            ),
            None => None,
        };
        if let Some(expected) = expected {
            let header = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(String::from);
            let sent = match header {
                Some(h) => Some(h),
                None => {
                    let (r, f) = form_field(req, CSRF_FIELD).await;
                    req = r;
                    f
                }
            };
            if expected.is_empty() || !sent.is_some_and(|s| same(&s, &expected)) {
                return csrf_error().into_response();
            }
        }
    }
    req.extensions_mut().insert(Auth {
        caps,
        session,
        lang,
        client,
    });
    next.run(req).await
}

/// A session just started.
pub struct NewSession {
    pub id: String,
    pub csrf: String,
}

fn throttle_keys(username: &str, client: &str) -> Vec<String> {
    vec![
        format!("user:{}", username.trim().to_lowercase()),
        format!("addr:{client}"),
    ]
}

/// A stand-in hash so an unknown account costs the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| password::hash_password("not a password of anyone").unwrap_or_default())
}

/// Checks the password (after any wait the throttle imposes) and starts a session.
pub async fn sign_in(
    state: &AppState,
    username: &str,
    pw: &str,
    client: &str,
) -> Result<NewSession, ApiError> {
    let store = state.app.store();
    let keys = throttle_keys(username, client);
    let now = state.app.clock().now();
    let free = state.config.free_sign_in_failures;
    for t in store.sign_in_failures(&keys).await? {
        if t.failures < free {
            continue;
        }
        let wait = 2u64
            .saturating_pow((t.failures - free).clamp(0, 10) as u32)
            .min(900);
        let since = parse_utc(&t.last_failure_at)
            .map_or(0, |last| now.duration_since(last).as_secs().max(0) as u64);
        if since < wait {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                format!("登录失败次数过多，请 {} 秒后再试", wait - since),
                format!("too many failed sign-ins; try again in {} s", wait - since),
            );
            e.retry_after = Some(u32::try_from(wait - since).unwrap_or(u32::MAX));
            return Err(e);
        }
    }
    let user = store.user(username.trim()).await?;
    let hash = match &user {
        Some(u) => store.user_password_hash(&u.username).await?,
        None => None,
    };
    let pw = pw.to_string();
    let stored = hash.clone().unwrap_or_else(|| dummy_hash().to_string());
    // Hashing takes tens of milliseconds of CPU: off the async workers.
    let ok = healthplan_app::blocking(move || password::verify_password(&pw, &stored)).await?;
    let usable = user.as_ref().filter(|u| !u.disabled && hash.is_some());
    match usable {
        Some(u) if ok => {
            // Only the account's count: one's own good password must not reset the
            // address's count of guesses at other accounts.
            store.clear_sign_in_failures(&keys[..1]).await?;
            let session = NewSession {
                id: random_token(),
                csrf: random_token(),
            };
            store
                .create_session(
                    &u.username,
                    &hash_secret(&session.id),
                    &session.csrf,
                    client,
                )
                .await?;
            Ok(session)
        }
        _ => {
            let reason = match (&user, ok) {
                (None, _) => "unknown account",
                (Some(u), _) if u.disabled => "account disabled",
                _ => "wrong password",
            };
            store
                .record_sign_in_failure(&keys, username.trim(), client, reason)
                .await?;
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "用户名或密码不正确",
                "wrong user name or password",
            ))
        }
    }
}

/// Ends the caller's session (when there is one).
pub async fn sign_out(state: &AppState, auth: &Auth) -> Result<(), ApiError> {
    if let Some(s) = &auth.session {
        state
            .app
            .store()
            .end_session(&s.id_hash, "sign_out")
            .await?;
    }
    Ok(())
}
