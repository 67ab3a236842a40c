//! The SQL behind [`Notifications`]: inboxes, e-mail opt-in, webhooks and the outbox.
//! Compiled into each backend beside sql.rs.

use super::sql::{audit, check_actor, DbRow};
use super::Backend;
use crate::error::{Result, StoreError};
use crate::model::AuditAction;
use crate::notify_model::{
    Attempt, Channel, Delivery, NewNotification, Notification, NotificationKind, NotificationPrefs,
    NotifySettings, Webhook, WebhookFormat,
};
use crate::{format_utc, now_utc, Notifications};
use healthplan_access::{SelfService, UserAdmin};
use healthplan_core::User;
use serde_json::json;
use sqlx::Row;

const SETTINGS_KEY: &str = "notify";
const SYSTEM: &str = "system";

fn corrupt(entity: &'static str, id: i64, what: &str) -> StoreError {
    StoreError::Corrupt {
        entity,
        key: id.to_string(),
        reason: what.to_string(),
    }
}

fn row_to_notification(r: &DbRow) -> Result<Notification> {
    let id: i64 = r.try_get("id")?;
    let kind: String = r.try_get("kind")?;
    Ok(Notification {
        id,
        kind: NotificationKind::parse(&kind).ok_or_else(|| corrupt("notification", id, &kind))?,
        title_zh: r.try_get("title_zh")?,
        title_en: r.try_get("title_en")?,
        body_zh: r.try_get("body_zh")?,
        body_en: r.try_get("body_en")?,
        link: r.try_get("link")?,
        created_at: r.try_get("created_at")?,
        read_at: r.try_get("read_at")?,
    })
}

fn row_to_webhook(r: &DbRow) -> Result<Webhook> {
    let id: i64 = r.try_get("id")?;
    let format: String = r.try_get("format")?;
    Ok(Webhook {
        id,
        name: r.try_get("name")?,
        url: r.try_get("url")?,
        format: WebhookFormat::parse(&format).ok_or_else(|| corrupt("webhook", id, &format))?,
        secret: r.try_get("secret")?,
        enabled: r.try_get("enabled")?,
    })
}

fn row_to_delivery(r: &DbRow) -> Result<Delivery> {
    let id: i64 = r.try_get("id")?;
    let channel: String = r.try_get("channel")?;
    let kind: String = r.try_get("kind")?;
    Ok(Delivery {
        id,
        channel: match channel.as_str() {
            "email" => Channel::Email,
            "webhook" => Channel::Webhook,
            other => return Err(corrupt("delivery", id, other)),
        },
        target: r.try_get("target")?,
        event: r.try_get("event")?,
        kind: NotificationKind::parse(&kind).ok_or_else(|| corrupt("delivery", id, &kind))?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        link: r.try_get("link")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const DELIVERY_COLUMNS: &str = "id, channel, target, event, kind, subject, body, link, status,
     attempts, next_attempt_at, last_error, created_at, updated_at";

impl Notifications for Backend {
    async fn add_notifications(&self, n: &NewNotification) -> Result<Vec<String>> {
        let now = now_utc();
        let mut tx = self.begin_write().await?;
        let mut added = Vec::new();
        for user in &n.recipients {
            let done = sqlx::query(
                "INSERT INTO notifications (username, kind, event, title_zh, title_en, body_zh,
                     body_en, link, created_at)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
                 WHERE EXISTS (SELECT 1 FROM users WHERE username = $1)
                 ON CONFLICT (username, event) DO NOTHING",
            )
            .bind(user)
            .bind(n.kind.as_str())
            .bind(&n.event)
            .bind(&n.title_zh)
            .bind(&n.title_en)
            .bind(&n.body_zh)
            .bind(&n.body_en)
            .bind(&n.link)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue;
            }
            added.push(user.clone());
            let email: Option<String> = sqlx::query_scalar(
                "SELECT email FROM notification_prefs WHERE username = $1 AND email_opt_in",
            )
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
            if let Some(address) = email {
                queue(&mut tx, Channel::Email, &address, n, &n.title_zh, &now).await?;
            }
        }
        // A group robot hears of an event once, whoever it concerns.
        let hooks: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM webhooks w WHERE enabled AND NOT EXISTS (
                 SELECT 1 FROM notification_outbox o
                 WHERE o.channel = 'webhook' AND o.target = CAST(w.id AS TEXT) AND o.event = $1)
             ORDER BY id",
        )
        .bind(&n.event)
        .fetch_all(&mut *tx)
        .await?;
        for id in hooks {
            queue(
                &mut tx,
                Channel::Webhook,
                &id.to_string(),
                n,
                &n.title_zh,
                &now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    async fn notifications(
        &self,
        by: &SelfService,
        unread_only: bool,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, kind, title_zh, title_en, body_zh, body_en, link, created_at, read_at
             FROM notifications WHERE username = $1 AND ($2 = FALSE OR read_at IS NULL)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(by.username())
        .bind(unread_only)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_notification).collect()
    }

    async fn unread_notifications(&self, by: &SelfService) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE username = $1 AND read_at IS NULL",
        )
        .bind(by.username())
        .fetch_one(&self.pool)
        .await?)
    }

    async fn mark_notification_read(&self, by: &SelfService, id: i64) -> Result<Notification> {
        let mut tx = self.begin_write().await?;
        // Another user's notification is as absent as one that does not exist.
        let row = sqlx::query(
            "SELECT id, kind, title_zh, title_en, body_zh, body_en, link, created_at, read_at
             FROM notifications WHERE id = $1 AND username = $2",
        )
        .bind(id)
        .bind(by.username())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "notification",
            key: id.to_string(),
        })?;
        let mut n = row_to_notification(&row)?;
        if n.read_at.is_none() {
            let now = now_utc();
            sqlx::query("UPDATE notifications SET read_at = $1 WHERE id = $2")
                .bind(&now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            n.read_at = Some(now);
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn mark_all_notifications_read(&self, by: &SelfService) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE username = $2 AND read_at IS NULL",
        )
        .bind(now_utc())
        .bind(by.username())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    async fn active_users(&self) -> Result<Vec<User>> {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT username FROM users WHERE NOT disabled ORDER BY username")
                .fetch_all(&self.pool)
                .await?;
        let mut users = Vec::with_capacity(names.len());
        for n in names {
            if let Some(u) = crate::Accounts::user(self, &n).await? {
                users.push(u);
            }
        }
        Ok(users)
    }

    async fn notification_prefs(&self, by: &SelfService) -> Result<NotificationPrefs> {
        let row =
            sqlx::query("SELECT email, email_opt_in FROM notification_prefs WHERE username = $1")
                .bind(by.username())
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some(r) => NotificationPrefs {
                email: r.try_get("email")?,
                email_opt_in: r.try_get("email_opt_in")?,
            },
            None => NotificationPrefs::default(),
        })
    }

    async fn put_notification_prefs(
        &self,
        by: &SelfService,
        prefs: &NotificationPrefs,
    ) -> Result<()> {
        check_actor(by.actor())?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO notification_prefs (username, email, email_opt_in) VALUES ($1, $2, $3)
             ON CONFLICT (username) DO UPDATE SET email = excluded.email,
                 email_opt_in = excluded.email_opt_in",
        )
        .bind(by.username())
        .bind(&prefs.email)
        .bind(prefs.email_opt_in)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            by.actor(),
            "notification_prefs",
            by.username(),
            AuditAction::Update,
            None,
            Some(&json!(prefs)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn notify_settings(&self) -> Result<Option<NotifySettings>> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT value FROM instance_settings WHERE key = $1")
                .bind(SETTINGS_KEY)
                .fetch_optional(&self.pool)
                .await?;
        v.map(|s| {
            serde_json::from_str(&s).map_err(|e| StoreError::Corrupt {
                entity: "instance_settings",
                key: SETTINGS_KEY.into(),
                reason: e.to_string(),
            })
        })
        .transpose()
    }

    async fn put_notify_settings(&self, by: &UserAdmin, s: &NotifySettings) -> Result<()> {
        check_actor(by.actor())?;
        let text = serde_json::to_string(s).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO instance_settings (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(SETTINGS_KEY)
        .bind(&text)
        .execute(&mut *tx)
        .await?;
        // The password never enters the audit log.
        audit(
            &mut tx,
            by.actor(),
            "notify_settings",
            SETTINGS_KEY,
            AuditAction::Update,
            None,
            Some(&s.redacted()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_webhooks(&self) -> Result<Vec<Webhook>> {
        let rows =
            sqlx::query("SELECT id, name, url, format, secret, enabled FROM webhooks ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(row_to_webhook).collect()
    }

    async fn put_webhook(&self, by: &UserAdmin, w: &Webhook) -> Result<Webhook> {
        check_actor(by.actor())?;
        let mut tx = self.begin_write().await?;
        let id: i64 = if w.id == 0 {
            sqlx::query_scalar(
                "INSERT INTO webhooks (name, url, format, secret, enabled, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(&w.name)
            .bind(&w.url)
            .bind(w.format.as_str())
            .bind(&w.secret)
            .bind(w.enabled)
            .bind(now_utc())
            .fetch_one(&mut *tx)
            .await?
        } else {
            let n = sqlx::query(
                "UPDATE webhooks SET name = $1, url = $2, format = $3,
                     secret = COALESCE($4, secret), enabled = $5 WHERE id = $6",
            )
            .bind(&w.name)
            .bind(&w.url)
            .bind(w.format.as_str())
            .bind(&w.secret)
            .bind(w.enabled)
            .bind(w.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound {
                    entity: "webhook",
                    key: w.id.to_string(),
                });
            }
            w.id
        };
        // The URL may carry an access token and the secret signs: neither is audited whole.
        audit(
            &mut tx,
            by.actor(),
            "webhook",
            &id.to_string(),
            AuditAction::upsert((w.id != 0).then_some(())),
            None,
            Some(&json!({
                "name": w.name,
                "host": host_of(&w.url),
                "format": w.format.as_str(),
                "signed": w.secret.is_some(),
                "enabled": w.enabled,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(Webhook { id, ..w.clone() })
    }

    async fn delete_webhook(&self, by: &UserAdmin, id: i64) -> Result<()> {
        check_actor(by.actor())?;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                entity: "webhook",
                key: id.to_string(),
            });
        }
        audit(
            &mut tx,
            by.actor(),
            "webhook",
            &id.to_string(),
            AuditAction::Delete,
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now: jiff::Timestamp,
        lease: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        let lease = jiff::SignedDuration::try_from(lease).unwrap_or(jiff::SignedDuration::ZERO);
        let until = format_utc(now.checked_add(lease).unwrap_or(now));
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_outbox
             WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT $2"
        )))
        .bind(format_utc(now))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let d = row_to_delivery(r)?;
            // Leased: another process (or the next tick) leaves it alone while it is sent.
            sqlx::query("UPDATE notification_outbox SET next_attempt_at = $1 WHERE id = $2")
                .bind(&until)
                .bind(d.id)
                .execute(&mut *tx)
                .await?;
            out.push(d);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn record_delivery(&self, id: i64, attempt: &Attempt) -> Result<Delivery> {
        let now = now_utc();
        let mut tx = self.begin_write().await?;
        let (status, error, next) = match attempt {
            Attempt::Sent => ("sent", None, now.clone()),
            Attempt::Failed {
                error,
                retry_at: Some(t),
            } => ("pending", Some(error.as_str()), format_utc(*t)),
            Attempt::Failed {
                error,
                retry_at: None,
            } => ("failed", Some(error.as_str()), now.clone()),
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE notification_outbox SET status = $1, attempts = attempts + 1,
                 last_error = COALESCE($2, last_error), next_attempt_at = $3, updated_at = $4
             WHERE id = $5 RETURNING {DELIVERY_COLUMNS}"
        )))
        .bind(status)
        .bind(error)
        .bind(&next)
        .bind(&now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "delivery",
            key: id.to_string(),
        })?;
        let d = row_to_delivery(&row)?;
        audit(
            &mut tx,
            SYSTEM,
            "notification_delivery",
            &id.to_string(),
            AuditAction::Update,
            None,
            Some(&json!({
                "channel": d.channel.as_str(),
                "event": d.event,
                "attempt": d.attempts,
                "status": status,
                "error": error,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    async fn list_deliveries(&self, limit: i64) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_outbox ORDER BY id DESC LIMIT $1"
        )))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_delivery).collect()
    }
}

/// Puts one message in the outbox, due now.
async fn queue(
    tx: &mut super::sql::Tx,
    channel: Channel,
    target: &str,
    n: &NewNotification,
    subject: &str,
    now: &str,
) -> Result<()> {
    let body = format!("{}\n\n{}\n{}", n.body_zh, n.title_en, n.body_en);
    sqlx::query(
        "INSERT INTO notification_outbox (channel, target, event, kind, subject, body, link,
             next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8)",
    )
    .bind(channel.as_str())
    .bind(target)
    .bind(&n.event)
    .bind(n.kind.as_str())
    .bind(subject)
    .bind(body)
    .bind(&n.link)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The host of a URL, for the audit log (paths and queries may hold access tokens).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or("")
}
