//! Signing in and out, the caller, personal API tokens.

use super::Path;
use super::{CommonErrors, Json};
use crate::auth::{self, Auth, SESSION_COOKIE};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use healthplan_access::password;
use healthplan_app::store::ApiToken;
use healthplan_core::{Grant, Role};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(sign_in, sign_out))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

/// The caller and what they may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub grants: Vec<Grant>,
    /// `session` or `token`.
    pub via: String,
    /// Send this as `X-CSRF-Token` on every change made with the session cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

fn me_of(auth: &Auth, csrf: Option<String>) -> Result<Me, ApiError> {
    let caps = auth.signed_in()?;
    let p = caps.principal().ok_or_else(ApiError::unauthorized)?;
    Ok(Me {
        username: p.username.clone(),
        display_name: p.display_name.clone(),
        roles: caps.roles(),
        grants: p.grants.clone(),
        via: match p.via {
            healthplan_access::Via::Token(_) => "token",
            _ => "session",
        }
        .into(),
        csrf_token: csrf,
    })
}

/// Signs in: a new session id in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` over TLS).
/// Repeated failures for an account or from an address make the next attempt wait.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", security(()),
    request_body = SignIn,
    responses((status = 200, description = "Signed in", body = Me),
        (status = 429, description = "Too many failed sign-ins; `Retry-After` says how long to wait", body = crate::error::ErrorBody),
        CommonErrors))]
async fn sign_in(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Json(body): Json<SignIn>,
) -> Result<Response, ApiError> {
    // Signing in again replaces the old session.
    auth::sign_out(&state, &auth).await?;
    let s = auth::sign_in(&state, &body.username, &body.password, &auth.client).await?;
    let user = state
        .app
        .store()
        .user(body.username.trim())
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let caps = state.app.caps(&user, healthplan_access::Via::Session);
    let me = Me {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        roles: caps.roles(),
        grants: user.grants.clone(),
        via: "session".into(),
        csrf_token: Some(s.csrf),
    };
    let cookie = auth::set_cookie(SESSION_COOKIE, &s.id, auth::secure(&state, &headers), None);
    Ok(([(header::SET_COOKIE, cookie)], Json(me)).into_response())
}

/// Signs out: the session ends and its cookie is cleared.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "Signed out"), CommonErrors))]
async fn sign_out(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth::sign_out(&state, &auth).await?;
    let cookie = auth::set_cookie(SESSION_COOKIE, "", auth::secure(&state, &headers), Some(0));
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// The caller: name, roles and grants.
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, body = Me), CommonErrors))]
async fn me(auth: Auth) -> Result<Json<Me>, ApiError> {
    let csrf = auth.session.as_ref().map(|s| s.csrf.clone());
    Ok(Json(me_of(&auth, csrf)?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's password (the current one is asked again); other sessions end.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "session",
    request_body = PasswordChange,
    responses((status = 204, description = "Changed"), CommonErrors))]
async fn change_password(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let me = auth
        .signed_in()?
        .self_service()
        .ok_or_else(ApiError::unauthorized)?;
    let store = state.app.store();
    let hash = store
        .user_password_hash(me.username())
        .await?
        .unwrap_or_default();
    let current = body.current_password.clone();
    let ok = healthplan_app::blocking(move || password::verify_password(&current, &hash)).await?;
    if !ok {
        return Err(ApiError::invalid(
            "current_password",
            "当前密码不正确",
            "the current password is wrong",
        ));
    }
    password::check_policy(&body.new_password, me.username())
        .map_err(|e| ApiError::invalid("new_password", e.to_string(), e.to_string()))?;
    let new = body.new_password.clone();
    let hash = healthplan_app::blocking(move || password::hash_password(&new))
        .await?
        .map_err(|e| ApiError::bad_request(e.to_string(), e.to_string()))?;
    store.change_own_password(&me, &hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's API tokens (never the secrets).
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "session",
    responses((status = 200, body = Vec<ApiToken>), CommonErrors))]
async fn list_tokens(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    let me = auth
        .signed_in()?
        .self_service()
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(state.app.store().list_tokens(&me).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    /// What the token is for, e.g. `数据同步脚本`.
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: ApiToken,
    /// The secret, shown only now: send it as `Authorization: Bearer …`.
    pub secret: String,
}

/// Creates a personal API token with the caller's rights.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "session",
    request_body = NewToken,
    responses((status = 201, body = CreatedToken), CommonErrors))]
async fn create_token(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let me = auth
        .signed_in()?
        .self_service()
        .ok_or_else(ApiError::unauthorized)?;
    let secret = format!("hp_{}", auth::random_token());
    let token = state
        .app
        .store()
        .create_token(&me, &body.name, &auth::hash_secret(&secret))
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

/// Revokes one of the caller's tokens; it is refused from then on.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "session",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), CommonErrors))]
async fn revoke_token(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let me = auth
        .signed_in()?
        .self_service()
        .ok_or_else(ApiError::unauthorized)?;
    state.app.store().revoke_token(&me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
