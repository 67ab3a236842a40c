//! Signing in and out, the language switch, and the caller's own account.

use super::{render, Page, PageResult};
use crate::auth::{self, Auth, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use crate::error::ApiError;
use crate::i18n::LANG_COOKIE;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang/{lang}", get(switch_lang))
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

#[derive(Deserialize, Default)]
pub struct Next {
    next: Option<String>,
}

/// Only paths on this site: `/plans`, not `//evil.example`, `/\\evil.example` or `https://…`.
/// Browsers drop tabs and line breaks from a `Location`, so `/<TAB>/evil.example` would leave
/// the site too: no control character anywhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/".into(),
    }
}

fn login_form(
    state: &AppState,
    auth: &Auth,
    headers: &HeaderMap,
    next: &str,
    error: Option<String>,
    username: &str,
) -> Response {
    // The sign-in form's own CSRF token, in a cookie and in the form.
    let token = auth::cookie_value(headers, LOGIN_CSRF_COOKIE)
        .map(String::from)
        .unwrap_or_else(auth::random_token);
    let mut r = render(
        state,
        auth,
        "/login",
        Page::new(
            "login.html",
            json!({"next": next, "error": error, "login_csrf": token, "username": username}),
        ),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(
            LOGIN_CSRF_COOKIE,
            &token,
            auth::secure(state, headers),
            None,
        ),
    );
    r
}

async fn login_page(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if auth.caps.is_signed_in() {
        return Redirect::to(&next).into_response();
    }
    login_form(&state, &auth, &headers, &next, None, "")
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    let _ = auth::sign_out(&state, &auth).await;
    match auth::sign_in(&state, &f.username, &f.password, &auth.client).await {
        Ok(s) => {
            let mut r = Redirect::to(&next).into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                auth::set_cookie(SESSION_COOKIE, &s.id, auth::secure(&state, &headers), None),
            );
            r
        }
        Err(e) => {
            let msg = e.message(auth.lang).to_string();
            let mut r = login_form(&state, &auth, &headers, &next, Some(msg), &f.username);
            *r.status_mut() = e.status;
            r
        }
    }
}

async fn logout(State(state): State<Arc<AppState>>, auth: Auth, headers: HeaderMap) -> Response {
    let _ = auth::sign_out(&state, &auth).await;
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(SESSION_COOKIE, "", auth::secure(&state, &headers), Some(0)),
    );
    r
}

/// Remembers the language for a year and goes back where the switch was pressed.
async fn switch_lang(
    axum::extract::Path(lang): axum::extract::Path<String>,
    Query(q): Query<Next>,
) -> Response {
    let lang = crate::i18n::Lang::parse(&lang).unwrap_or(crate::i18n::Lang::Zh);
    let mut r = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn account_page(
    state: &AppState,
    auth: &Auth,
    notice: Option<String>,
    secret: Option<String>,
) -> PageResult {
    let me = auth
        .signed_in()?
        .self_service()
        .ok_or_else(ApiError::unauthorized)?;
    let tokens = state.app.store().list_tokens(&me).await?;
    let p = auth.caps.principal().ok_or_else(ApiError::unauthorized)?;
    let policy = state.app.policy();
    // The area by name, as people know it; the code beside it.
    let grants: Vec<serde_json::Value> = p
        .grants
        .iter()
        .map(|g| {
            let mut v = serde_json::to_value(g).unwrap_or_default();
            v["area_name"] = policy.areas().name(&g.area).into();
            v
        })
        .collect();
    Ok(render(
        state,
        auth,
        "/account",
        Page::new(
            "account.html",
            json!({"tokens": tokens, "grants": grants, "notice": notice, "secret": secret}),
        ),
    ))
}

async fn account(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    page_result!(
        state,
        auth,
        "/account",
        account_page(&state, &auth, None, None).await
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<PasswordForm>,
) -> Response {
    let done: PageResult = async {
        let me = auth
            .signed_in()?
            .self_service()
            .ok_or_else(ApiError::unauthorized)?;
        let store = state.app.store();
        let hash = store
            .user_password_hash(me.username())
            .await?
            .unwrap_or_default();
        let current = f.current_password.clone();
        let ok = healthplan_app::blocking(move || {
            healthplan_access::password::verify_password(&current, &hash)
        })
        .await
        .map_err(ApiError::from)?;
        let notice = if !ok {
            crate::i18n::t(auth.lang, "account.wrong_password")
        } else if let Err(e) =
            healthplan_access::password::check_policy(&f.new_password, me.username())
        {
            e.to_string()
        } else {
            let new = f.new_password.clone();
            let hash =
                healthplan_app::blocking(move || healthplan_access::password::hash_password(&new))
                    .await
                    .map_err(ApiError::from)?
                    .map_err(|e| ApiError::bad_request(e.to_string(), e.to_string()))?;
            store.change_own_password(&me, &hash).await?;
            crate::i18n::t(auth.lang, "account.password_changed")
        };
        account_page(&state, &auth, Some(notice), None).await
    }
    .await;
    page_result!(state, auth, "/account", done)
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
}

async fn create_token(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<TokenForm>,
) -> Response {
    let done: PageResult = async {
        let me = auth
            .signed_in()?
            .self_service()
            .ok_or_else(ApiError::unauthorized)?;
        let secret = format!("hp_{}", auth::random_token());
        state
            .app
            .store()
            .create_token(&me, &f.name, &auth::hash_secret(&secret))
            .await?;
        account_page(&state, &auth, None, Some(secret)).await
    }
    .await;
    page_result!(state, auth, "/account", done)
}

async fn revoke_token(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    let done: PageResult = async {
        let me = auth
            .signed_in()?
            .self_service()
            .ok_or_else(ApiError::unauthorized)?;
        state.app.store().revoke_token(&me, id).await?;
        Ok(Redirect::to("/account").into_response())
    }
    .await;
    page_result!(state, auth, "/account", done)
}
