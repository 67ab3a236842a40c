//! Rows of the notification tables (sql_notify.rs): the inbox, e-mail opt-in, webhooks,
//! the SMTP settings and the outbox the delivery job works through.

use crate::error::{Result, StoreError};
use serde::{Deserialize, Serialize};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A value of the user's was returned (with the reviewer's comment).
    Returned,
    /// A round's deadline is near or past with the user's forms outstanding.
    Deadline,
    /// An alert for the user's area or department.
    Alert,
    /// Submissions wait for the user's review.
    Submitted,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Returned => "returned",
            NotificationKind::Deadline => "deadline",
            NotificationKind::Alert => "alert",
            NotificationKind::Submitted => "submitted",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationKind> {
        Some(match s {
            "returned" => NotificationKind::Returned,
            "deadline" => NotificationKind::Deadline,
            "alert" => NotificationKind::Alert,
            "submitted" => NotificationKind::Submitted,
            _ => return None,
        })
    }
}

/// One event and who must hear of it. `event` names it (`returned:x:110101:2025:3`): a
/// user is notified of an event once, however often a check sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub kind: NotificationKind,
    pub event: String,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    /// A path on this site.
    pub link: String,
    pub recipients: Vec<String>,
}

/// One entry of a user's inbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: i64,
    pub kind: NotificationKind,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub link: String,
    pub created_at: String,
    /// `None` while unread.
    pub read_at: Option<String>,
}

/// A user's e-mail address and whether they want notifications by e-mail.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPrefs {
    pub email: Option<String>,
    pub email_opt_in: bool,
}

impl NotificationPrefs {
    /// Checks the address looks like one (`local@domain`, no spaces or control characters).
    pub fn new(email: Option<&str>, email_opt_in: bool) -> Result<NotificationPrefs> {
        let email = email.map(str::trim).filter(|e| !e.is_empty());
        if let Some(e) = email {
            let ok = e.len() <= 254
                && e.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
                })
                && !e
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == ',');
            if !ok {
                return Err(StoreError::Invalid(format!(
                    "邮箱地址无效 / not an e-mail address: {e:?}"
                )));
            }
        }
        if email_opt_in && email.is_none() {
            return Err(StoreError::Invalid(
                "接收邮件通知需填写邮箱 / an e-mail address is needed to receive e-mail".into(),
            ));
        }
        Ok(NotificationPrefs {
            email: email.map(str::to_string),
            email_opt_in,
        })
    }
}

/// How a webhook's JSON body is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// `{"kind", "title", "body", "link", …}`.
    Generic,
    /// 企业微信 group robot: `{"msgtype":"text","text":{"content":…}}`.
    Wecom,
    /// 钉钉 robot: the same text message, the URL signed when a secret is set.
    Dingtalk,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Generic => "generic",
            WebhookFormat::Wecom => "wecom",
            WebhookFormat::Dingtalk => "dingtalk",
        }
    }

    pub fn parse(s: &str) -> Option<WebhookFormat> {
        Some(match s {
            "generic" => WebhookFormat::Generic,
            "wecom" => WebhookFormat::Wecom,
            "dingtalk" => WebhookFormat::Dingtalk,
            _ => return None,
        })
    }
}

/// A webhook the administrator configured; every event is posted to each enabled one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub format: WebhookFormat,
    /// DingTalk's signing secret (`SEC…`); never shown back in full.
    #[serde(skip)]
    pub secret: Option<String>,
    pub enabled: bool,
}

impl Webhook {
    /// A validated webhook (id 0 until stored): a name, an http(s) URL.
    pub fn new(
        name: &str,
        url: &str,
        format: WebhookFormat,
        secret: Option<&str>,
        enabled: bool,
    ) -> Result<Webhook> {
        let name = name.trim();
        let url = url.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "名称需为1–200个字符 / a name of 1–200 characters is needed".into(),
            ));
        }
        let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
        if !scheme_ok
            || url.len() > 2000
            || url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(StoreError::Invalid(format!(
                "地址需以 http:// 或 https:// 开头 / the URL must start with http:// or https://: {url:?}"
            )));
        }
        Ok(Webhook {
            id: 0,
            name: name.into(),
            url: url.into(),
            format,
            secret: secret
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            enabled,
        })
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain SMTP upgraded with STARTTLS (port 587); refused if the server cannot.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption (a relay on the same host or network only).
    None,
}

/// The outgoing mail server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// `健康办 <noreply@example.gov.cn>` or a bare address.
    pub from: String,
}

/// What the administrator set for outbound notifications.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotifySettings {
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
    /// This site's address as users reach it (`https://jk.example.gov.cn`), so links in
    /// e-mail and robot messages open the page; without it they are paths.
    #[serde(default)]
    pub site_url: Option<String>,
}

impl NotifySettings {
    /// The settings as the audit log keeps them: the password replaced.
    pub fn redacted(&self) -> serde_json::Value {
        let mut s = self.clone();
        if let Some(smtp) = &mut s.smtp {
            if smtp.password.is_some() {
                smtp.password = Some("***".into());
            }
        }
        serde_json::to_value(s).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }
}

/// One message in the outbox: an e-mail to an address or a post to a webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: i64,
    pub channel: Channel,
    /// The address, or the webhook's id.
    pub target: String,
    pub event: String,
    pub kind: NotificationKind,
    pub subject: String,
    pub body: String,
    pub link: String,
    /// `pending`, `sent` or `failed` (given up).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Sent,
    /// Failed; tried again at the time given, or given up (`None`).
    Failed {
        error: String,
        retry_at: Option<jiff::Timestamp>,
    },
}
