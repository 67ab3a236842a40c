//! The caller's notifications (their own only), their e-mail opt-in, and for administrators
//! the outbound channels (SMTP, webhooks) and the outbox with each message's last error.

use super::{CommonErrors, Json, Path, Query};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use healthplan_app::store::{
    Delivery, Notification, NotificationPrefs, NotifySettings, Webhook, WebhookFormat,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(read_one))
        .routes(routes!(read_all))
        .routes(routes!(get_prefs, put_prefs))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(list_webhooks, add_webhook))
        .routes(routes!(delete_webhook))
        .routes(routes!(outbox))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only unread ones.
    #[serde(default)]
    pub unread: bool,
    /// At most this many (default 100, at most 1,000).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    /// How many are unread in all.
    pub unread: i64,
    pub notifications: Vec<Notification>,
}

fn self_service(auth: &Auth) -> Result<healthplan_access::SelfService, ApiError> {
    auth.signed_in()?
        .self_service()
        .ok_or_else(|| ApiError::no_right("查看通知", "read notifications"))
}

/// The caller's own notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "session",
    params(ListQuery),
    responses((status = 200, body = NotificationList), CommonErrors))]
async fn list(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<NotificationList>, ApiError> {
    let me = self_service(&auth)?;
    let store = state.app.store();
    Ok(Json(NotificationList {
        unread: store.unread_notifications(&me).await?,
        notifications: store
            .notifications(&me, q.unread, q.limit.unwrap_or(100))
            .await?,
    }))
}

/// Marks one of the caller's notifications read (another user's is 404).
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "session",
    params(("id" = i64, Path)),
    responses((status = 200, body = Notification), CommonErrors))]
async fn read_one(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Notification>, ApiError> {
    let me = self_service(&auth)?;
    Ok(Json(
        state.app.store().mark_notification_read(&me, id).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Marked {
    pub marked: u64,
}

/// Marks all the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "session",
    responses((status = 200, body = Marked), CommonErrors))]
async fn read_all(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Marked>, ApiError> {
    let me = self_service(&auth)?;
    Ok(Json(Marked {
        marked: state.app.store().mark_all_notifications_read(&me).await?,
    }))
}

/// The caller's e-mail address and opt-in.
#[utoipa::path(get, path = "/api/v1/notifications/prefs", tag = "session",
    responses((status = 200, body = NotificationPrefs), CommonErrors))]
async fn get_prefs(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<NotificationPrefs>, ApiError> {
    let me = self_service(&auth)?;
    Ok(Json(state.app.store().notification_prefs(&me).await?))
}

/// Sets the caller's e-mail address and whether notifications are also sent there.
#[utoipa::path(put, path = "/api/v1/notifications/prefs", tag = "session",
    request_body = NotificationPrefs,
    responses((status = 200, body = NotificationPrefs), CommonErrors))]
async fn put_prefs(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<NotificationPrefs>,
) -> Result<Json<NotificationPrefs>, ApiError> {
    let me = self_service(&auth)?;
    let prefs = NotificationPrefs::new(body.email.as_deref(), body.email_opt_in)?;
    state
        .app
        .store()
        .put_notification_prefs(&me, &prefs)
        .await?;
    Ok(Json(prefs))
}

/// The SMTP settings and site address (administrators; the password is not shown).
#[utoipa::path(get, path = "/api/v1/notifications/settings", tag = "registry",
    responses((status = 200, body = NotifySettings), CommonErrors))]
async fn get_settings(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<NotifySettings>, ApiError> {
    super::user_admin(&auth)?;
    let mut s = state
        .app
        .store()
        .notify_settings()
        .await?
        .unwrap_or_else(|| state.config.notify_defaults.clone());
    if let Some(smtp) = &mut s.smtp {
        smtp.password = smtp.password.as_ref().map(|_| "***".into());
    }
    Ok(Json(s))
}

/// Replaces the SMTP settings (administrators). A password of `***` keeps the stored one.
#[utoipa::path(put, path = "/api/v1/notifications/settings", tag = "registry",
    request_body = NotifySettings,
    responses((status = 204), CommonErrors))]
async fn put_settings(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<NotifySettings>,
) -> Result<StatusCode, ApiError> {
    let admin = super::user_admin(&auth)?;
    let stored = state.app.store().notify_settings().await?;
    let settings = healthplan_app::notify::checked_settings(body, stored.as_ref())?;
    state
        .app
        .store()
        .put_notify_settings(&admin, &settings)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The configured webhooks (administrators; secrets are not shown).
#[utoipa::path(get, path = "/api/v1/notifications/webhooks", tag = "registry",
    responses((status = 200, body = Vec<Webhook>), CommonErrors))]
async fn list_webhooks(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Vec<Webhook>>, ApiError> {
    super::user_admin(&auth)?;
    Ok(Json(state.app.store().list_webhooks().await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewWebhook {
    pub name: String,
    pub url: String,
    /// `generic`, `wecom` (企业微信) or `dingtalk` (钉钉).
    pub format: WebhookFormat,
    /// DingTalk's signing secret (`SEC…`), when the robot has 加签 on.
    pub secret: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Adds a webhook (administrators).
#[utoipa::path(post, path = "/api/v1/notifications/webhooks", tag = "registry",
    request_body = NewWebhook,
    responses((status = 201, body = Webhook), CommonErrors))]
async fn add_webhook(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Json(body): Json<NewWebhook>,
) -> Result<(StatusCode, Json<Webhook>), ApiError> {
    let admin = super::user_admin(&auth)?;
    let w = Webhook::new(
        &body.name,
        &body.url,
        body.format,
        body.secret.as_deref(),
        body.enabled,
    )?;
    let w = state.app.store().put_webhook(&admin, &w).await?;
    Ok((StatusCode::CREATED, Json(w)))
}

/// Removes a webhook (administrators).
#[utoipa::path(delete, path = "/api/v1/notifications/webhooks/{id}", tag = "registry",
    params(("id" = i64, Path)),
    responses((status = 204), CommonErrors))]
async fn delete_webhook(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let admin = super::user_admin(&auth)?;
    state.app.store().delete_webhook(&admin, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The outbox, newest first: each message's status, attempts and last error
/// (administrators).
#[utoipa::path(get, path = "/api/v1/notifications/outbox", tag = "registry",
    responses((status = 200, body = Vec<Delivery>), CommonErrors))]
async fn outbox(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    super::user_admin(&auth)?;
    Ok(Json(state.app.store().list_deliveries(200).await?))
}
