//! The inbox (每个用户只看到自己的通知), the bell's unread count, the caller's e-mail opt-in,
//! the administrator's outbound channels and outbox, and the glossary of evaluation terms.

use super::{render, Page, PageResult};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use healthplan_app::store::{
    NotificationPrefs, NotifySettings, SmtpSecurity, SmtpSettings, Webhook, WebhookFormat,
};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/notifications", get(inbox))
        .route("/notifications/badge", get(badge))
        .route("/notifications/{id}/read", post(read_one))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/prefs", post(save_prefs))
        .route("/admin/notifications", get(admin))
        .route("/admin/notifications/smtp", post(save_smtp))
        .route("/admin/notifications/webhooks", post(add_webhook))
        .route(
            "/admin/notifications/webhooks/{id}/delete",
            post(delete_webhook),
        )
        .route("/glossary", get(glossary))
}

fn me(auth: &Auth) -> Result<healthplan_access::SelfService, ApiError> {
    auth.signed_in()?
        .self_service()
        .ok_or_else(|| ApiError::no_right("查看通知", "read notifications"))
}

async fn inbox_page(state: &AppState, auth: &Auth, notice: Option<&str>) -> PageResult {
    let me = me(auth)?;
    let store = state.app.store();
    let items = store.notifications(&me, false, 200).await?;
    let unread = store.unread_notifications(&me).await?;
    let prefs = store.notification_prefs(&me).await?;
    Ok(render(
        state,
        auth,
        "/notifications",
        Page::new(
            "notifications.html",
            json!({
                "items": items,
                "unread": unread,
                "prefs": prefs,
                "notice": notice.map(|k| crate::i18n::t(auth.lang, k)),
            }),
        ),
    ))
}

async fn inbox(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    page_result!(
        state,
        auth,
        "/notifications",
        inbox_page(&state, &auth, None).await
    )
}

/// The bell's count, fetched by htmx after the page loads (pages never wait for it).
async fn badge(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    let Ok(me) = me(&auth) else {
        return Html(String::new()).into_response();
    };
    match state.app.store().unread_notifications(&me).await {
        Ok(0) => Html(String::new()).into_response(),
        Ok(n) => {
            let label =
                crate::i18n::t(auth.lang, "notify.unread_count").replace("{}", &n.to_string());
            let shown = if n > 99 {
                "99+".to_string()
            } else {
                n.to_string()
            };
            Html(format!(
                "<span class=\"badge\" title=\"{}\">{shown}</span>",
                minijinja::HtmlEscape(&label)
            ))
            .into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "unread count failed");
            Html(String::new()).into_response()
        }
    }
}

async fn read_one(State(state): State<Arc<AppState>>, auth: Auth, Path(id): Path<i64>) -> Response {
    let r: PageResult = async {
        let me = me(&auth)?;
        state.app.store().mark_notification_read(&me, id).await?;
        Ok(Redirect::to("/notifications").into_response())
    }
    .await;
    page_result!(state, auth, "/notifications", r)
}

async fn read_all(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    let r: PageResult = async {
        let me = me(&auth)?;
        state.app.store().mark_all_notifications_read(&me).await?;
        Ok(Redirect::to("/notifications").into_response())
    }
    .await;
    page_result!(state, auth, "/notifications", r)
}

#[derive(Deserialize)]
pub struct PrefsForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    email_opt_in: Option<String>,
}

async fn save_prefs(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<PrefsForm>,
) -> Response {
    let r: PageResult = async {
        let me = me(&auth)?;
        let prefs = NotificationPrefs::new(Some(&f.email), f.email_opt_in.is_some())?;
        state
            .app
            .store()
            .put_notification_prefs(&me, &prefs)
            .await?;
        inbox_page(&state, &auth, Some("notify.prefs_saved")).await
    }
    .await;
    page_result!(state, auth, "/notifications", r)
}

async fn admin_page(
    state: &AppState,
    auth: &Auth,
    notice: Option<&str>,
    error: Option<String>,
) -> PageResult {
    crate::api::user_admin(auth)?;
    let store = state.app.store();
    let stored = store.notify_settings().await?;
    let from_file = stored.is_none() && state.config.notify_defaults.smtp.is_some();
    let settings = stored.unwrap_or_else(|| state.config.notify_defaults.clone());
    let smtp = settings.smtp.as_ref().map(|s| {
        json!({
            "host": s.host, "port": s.port, "security": s.security,
            "username": s.username, "has_password": s.password.is_some(), "from": s.from,
        })
    });
    let hooks: Vec<_> = store
        .list_webhooks()
        .await?
        .into_iter()
        .map(|w| {
            json!({
                "id": w.id, "name": w.name, "host": host_of(&w.url), "format": w.format,
                "signed": w.secret.is_some(), "enabled": w.enabled,
            })
        })
        .collect();
    let outbox = store.list_deliveries(100).await?;
    let hook_names: std::collections::HashMap<String, String> = store
        .list_webhooks()
        .await?
        .into_iter()
        .map(|w| (w.id.to_string(), w.name))
        .collect();
    let outbox: Vec<_> = outbox
        .into_iter()
        .map(|d| {
            let target = match d.channel {
                healthplan_app::store::Channel::Webhook => hook_names
                    .get(&d.target)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", d.target)),
                healthplan_app::store::Channel::Email => d.target.clone(),
            };
            json!({"d": d, "target": target})
        })
        .collect();
    Ok(render(
        state,
        auth,
        "/admin",
        Page::new(
            "notify_admin.html",
            json!({
                "smtp": smtp,
                "site_url": settings.site_url,
                "from_file": from_file,
                "hooks": hooks,
                "outbox": outbox,
                "formats": ["generic", "wecom", "dingtalk"],
                "securities": ["starttls", "tls", "none"],
                "notice": notice.map(|k| crate::i18n::t(auth.lang, k)),
                "error": error,
            }),
        ),
    ))
}

/// The host of a URL: a robot's URL carries its access token, so the page shows no more.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or("").to_string()
}

async fn admin(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    page_result!(
        state,
        auth,
        "/admin/notifications",
        admin_page(&state, &auth, None, None).await
    )
}

/// After an admin form: the page again with a notice, or with the error beside the forms.
async fn outcome(state: &AppState, auth: &Auth, r: Result<&'static str, ApiError>) -> Response {
    let page = match r {
        Ok(key) => admin_page(state, auth, Some(key), None).await,
        Err(e)
            if e.status == axum::http::StatusCode::UNAUTHORIZED
                || e.status == axum::http::StatusCode::FORBIDDEN =>
        {
            Err(e.into())
        }
        Err(e) => {
            let msg = e.message(auth.lang).to_string();
            admin_page(state, auth, None, Some(msg)).await
        }
    };
    page_result!(state, auth, "/admin/notifications", page)
}

#[derive(Deserialize)]
pub struct SmtpForm {
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    security: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    site_url: String,
}

async fn save_smtp(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<SmtpForm>,
) -> Response {
    let r = async {
        let admin = crate::api::user_admin(&auth)?;
        let smtp = if f.host.trim().is_empty() {
            None
        } else {
            let port = f.port.trim().parse::<u16>().map_err(|_| {
                ApiError::invalid("port", "端口需为1–65535的整数", "the port must be 1–65535")
            })?;
            let security = match f.security.as_str() {
                "tls" => SmtpSecurity::Tls,
                "none" => SmtpSecurity::None,
                _ => SmtpSecurity::Starttls,
            };
            Some(SmtpSettings {
                host: f.host.clone(),
                port,
                security,
                username: Some(f.username.trim().to_string()).filter(|u| !u.is_empty()),
                // An empty password field keeps the stored password.
                password: Some(if f.password.is_empty() {
                    "***".to_string()
                } else {
                    f.password.clone()
                }),
                from: f.from.trim().to_string(),
            })
        };
        let new = NotifySettings {
            smtp,
            site_url: Some(f.site_url.clone()),
        };
        let stored = state.app.store().notify_settings().await?;
        let mut settings = healthplan_app::notify::checked_settings(new, stored.as_ref())?;
        if let Some(s) = &mut settings.smtp {
            if s.password.as_deref() == Some("***") {
                s.password = None;
            }
        }
        state
            .app
            .store()
            .put_notify_settings(&admin, &settings)
            .await?;
        Ok("notify.saved")
    }
    .await;
    outcome(&state, &auth, r).await
}

#[derive(Deserialize)]
pub struct WebhookForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    secret: String,
}

async fn add_webhook(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<WebhookForm>,
) -> Response {
    let r = async {
        let admin = crate::api::user_admin(&auth)?;
        let format = WebhookFormat::parse(&f.format).ok_or_else(|| {
            ApiError::invalid("format", "未知的消息格式", "unknown message format")
        })?;
        let w = Webhook::new(&f.name, &f.url, format, Some(&f.secret), true)?;
        state.app.store().put_webhook(&admin, &w).await?;
        Ok("notify.webhook_added")
    }
    .await;
    outcome(&state, &auth, r).await
}

async fn delete_webhook(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Response {
    let r = async {
        let admin = crate::api::user_admin(&auth)?;
        state.app.store().delete_webhook(&admin, id).await?;
        Ok("notify.webhook_deleted")
    }
    .await;
    outcome(&state, &auth, r).await
}

/// 术语表: what the evaluation's words mean, for everyone (the public pages use them too).
async fn glossary(State(state): State<Arc<AppState>>, auth: Auth) -> Response {
    render(
        &state,
        &auth,
        "/glossary",
        Page::new("glossary.html", json!({})),
    )
}
