//! Notifications: who hears of what. The flows that raise an event (a value returned, values
//! submitted, alerts raised, a deadline near or past) call in here after their write has
//! committed; the event lands in each concerned user's inbox, and e-mails and webhook posts
//! go to the outbox, which [`App::deliver_notifications`] works through in the background
//! (retried with backoff, every attempt audited). A failure here never fails the flow.

use crate::{App, Result};
use healthplan_access::{Caps, Via};
use healthplan_core::{Alert, DataValue, Date, Role, User, ValueStatus};
use healthplan_notify::Message;
use healthplan_store::{
    Attempt, Channel, Delivery, NewNotification, NotificationKind, NotifySettings, WebhookFormat,
};
use std::time::Duration;

/// How the outbox is retried.
#[derive(Debug, Clone)]
pub struct Retry {
    /// Attempts before a message is given up.
    pub attempts: i64,
    /// The wait after the first failure; doubled after each further one.
    pub base: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            base: Duration::from_secs(60),
        }
    }
}

/// Days before a round's deadline when its reporters are reminded.
pub const DEADLINE_NOTICE_DAYS: i64 = 3;

/// What one delivery run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryRun {
    pub sent: usize,
    pub failed: usize,
}

impl App {
    /// Tells a returned value's reporters, with the comment.
    pub(crate) async fn notify_returned(&self, v: &DataValue) {
        let done: Result<()> = async {
            let users = self.users_where(|caps| {
                !caps.is_admin()
                    && caps
                        .value_writer()
                        .is_some_and(|w| w.allows(&v.element, &v.area))
            });
            let users = users.await?;
            let (element, area) = self.names(&v.element, &v.area).await;
            let comment = v.review_comment.clone().unwrap_or_default();
            let link = self.form_link(v).await;
            self.add(NewNotification {
                kind: NotificationKind::Returned,
                event: format!(
                    "returned:{}:{}:{}:{}",
                    v.element, v.area, v.period, v.version
                ),
                title_zh: format!("数据被退回：{element}（{area}，{}）", v.period),
                title_en: format!("Value returned: {element} ({area}, {})", v.period),
                body_zh: format!("审核意见：{comment}"),
                body_en: format!("Reviewer's comment: {comment}"),
                link,
                recipients: users,
            })
            .await
        }
        .await;
        log_failure(done, "returned value");
    }

    /// After values were saved: reviewers of their areas hear that submissions wait, one
    /// notice per area and save.
    pub(crate) async fn notify_submitted(&self, stored: &[DataValue]) {
        let submitted: Vec<&DataValue> = stored
            .iter()
            .filter(|v| v.status == ValueStatus::Submitted)
            .collect();
        if submitted.is_empty() {
            return;
        }
        let mut areas: Vec<_> = submitted.iter().map(|v| v.area.clone()).collect();
        areas.sort();
        areas.dedup();
        let at = self.clock().now().as_microsecond();
        for area in areas {
            let n = submitted.iter().filter(|v| v.area == area).count();
            let done: Result<()> = async {
                let users = self
                    .users_where(|caps| {
                        !caps.is_admin()
                            && caps.reviewer().is_some_and(|r| r.check_area(&area).is_ok())
                    })
                    .await?;
                let (_, name) = self.names("", &area).await;
                self.add(NewNotification {
                    kind: NotificationKind::Submitted,
                    event: format!("submitted:{area}:{at}"),
                    title_zh: format!("待审核：{name}提交了{n}项数据"),
                    title_en: format!("To review: {n} value(s) submitted for {name}"),
                    body_zh: format!("{name}刚提交{n}项数据，等待审核。"),
                    body_en: format!(
                        "{n} value(s) for {name} were just submitted and wait for review."
                    ),
                    link: "/approvals".into(),
                    recipients: users,
                })
                .await
            }
            .await;
            log_failure(done, "submitted values");
        }
    }

    /// Alerts just raised go to the users of their area (and department, when the alert is
    /// addressed to one): planners and reporters who handle it, viewers who read the area.
    pub(crate) async fn notify_alerts(&self, raised: &[Alert]) {
        if raised.is_empty() {
            return;
        }
        let users = match self.store().active_users().await {
            Ok(u) => u,
            Err(e) => return tracing::warn!(error = %e, "notifications: cannot list users"),
        };
        let all: Vec<(User, Caps)> = users
            .into_iter()
            .map(|u| {
                let caps = self.caps(&u, Via::Session);
                (u, caps)
            })
            .filter(|(_, c)| !c.is_admin())
            .collect();
        for a in raised {
            let recipients = all
                .iter()
                .filter(|(_, c)| {
                    let handles = c
                        .alert_handler()
                        .is_some_and(|h| h.check(&a.area, a.department.as_deref()).is_ok());
                    let views = c.has_role(Role::Viewer) && c.reader().area(&a.area);
                    handles || views
                })
                .map(|(u, _)| u.username.clone())
                .collect();
            let done = self
                .add(NewNotification {
                    kind: NotificationKind::Alert,
                    event: format!("alert:{}", a.id),
                    title_zh: format!("预警：{}", a.title_zh),
                    title_en: format!("Alert: {}", a.title_en),
                    body_zh: a.message_zh.clone(),
                    body_en: a.message_en.clone(),
                    link: format!("/alerts#alert-{}", a.id),
                    recipients,
                })
                .await;
            log_failure(done, "alert");
        }
    }

    /// Reminds reporters of open rounds whose deadline is within
    /// [`DEADLINE_NOTICE_DAYS`] days, or past, while their forms are not all submitted.
    /// Each (round, area, department) is notified once before and once after the deadline.
    pub async fn check_deadlines(&self, today: Date) -> Result<usize> {
        let system = self.local_caps("system");
        let users = self.store().active_users().await?;
        let reporters: Vec<(User, Caps)> = users
            .into_iter()
            .map(|u| {
                let caps = self.caps(&u, Via::Session);
                (u, caps)
            })
            .filter(|(_, c)| !c.is_admin() && c.has_role(Role::Reporter))
            .collect();
        let mut added = 0;
        for round in self.store().list_rounds(&system.reader()).await? {
            if !round.open {
                continue;
            }
            let days = (round.deadline.civil() - today.civil()).get_days() as i64;
            if days > DEADLINE_NOTICE_DAYS {
                continue;
            }
            let (_, rows) = self.round_overview(&system, round.id, today).await?;
            for row in rows {
                let outstanding = row.missing + row.draft + row.returned;
                if outstanding == 0 {
                    continue;
                }
                let recipients: Vec<String> = reporters
                    .iter()
                    .filter(|(_, c)| {
                        c.alert_handler()
                            .is_some_and(|h| h.check(&row.area, Some(&row.department)).is_ok())
                    })
                    .map(|(u, _)| u.username.clone())
                    .collect();
                let late = days < 0;
                let (title_zh, title_en) = if late {
                    (
                        format!("填报已逾期：{}（{}）", round.title, row.area_name),
                        format!("Reporting overdue: {} ({})", round.title, row.area_name),
                    )
                } else {
                    (
                        format!("填报即将截止：{}（{}）", round.title, row.area_name),
                        format!(
                            "Reporting deadline near: {} ({})",
                            round.title, row.area_name
                        ),
                    )
                };
                added += self
                    .add_counted(NewNotification {
                        kind: NotificationKind::Deadline,
                        event: format!(
                            "deadline:{}:{}:{}:{}",
                            round.id,
                            row.area,
                            row.department,
                            if late { "late" } else { "near" }
                        ),
                        title_zh,
                        title_en,
                        body_zh: format!(
                            "截止日期{}，{}仍有{}项未提交（共{}项）。",
                            round.deadline, row.department, outstanding, row.total
                        ),
                        body_en: format!(
                            "Deadline {}: {} of {} cells for {} are not submitted.",
                            round.deadline, outstanding, row.total, row.department
                        ),
                        link: format!("/rounds/{}", round.id),
                        recipients,
                    })
                    .await?;
            }
        }
        Ok(added)
    }

    /// Sends what is due in the outbox: e-mail through the stored SMTP settings (or the
    /// configuration file's, `defaults`), posts to webhooks. A failure is retried after
    /// `retry.base` × 2ⁿ until `retry.attempts`; every attempt is audited.
    pub async fn deliver_notifications(
        &self,
        defaults: &NotifySettings,
        retry: &Retry,
    ) -> Result<DeliveryRun> {
        let now = self.clock().now();
        // Leased long enough for a slow server to answer before another run retries it.
        let due = self
            .store()
            .claim_deliveries(now, healthplan_notify::TIMEOUT * 3, 50)
            .await?;
        let mut run = DeliveryRun::default();
        if due.is_empty() {
            return Ok(run);
        }
        let settings = self.store().notify_settings().await?;
        let settings = merged(settings, defaults);
        let hooks = self.store().list_webhooks().await?;
        let client = healthplan_notify::http_client();
        for d in due {
            let outcome = send(&d, &settings, &hooks, client.as_ref(), now).await;
            let attempt = match outcome {
                Ok(()) => {
                    run.sent += 1;
                    Attempt::Sent
                }
                Err(error) => {
                    run.failed += 1;
                    let n = d.attempts + 1;
                    let retry_at = (n < retry.attempts).then(|| {
                        let wait = retry
                            .base
                            .saturating_mul(1u32 << (n - 1).clamp(0, 16) as u32);
                        let wait = jiff::SignedDuration::try_from(wait)
                            .unwrap_or(jiff::SignedDuration::from_hours(24));
                        now.checked_add(wait).unwrap_or(now)
                    });
                    tracing::warn!(id = d.id, attempt = n, %error, "notification delivery failed");
                    Attempt::Failed { error, retry_at }
                }
            };
            self.store().record_delivery(d.id, &attempt).await?;
        }
        Ok(run)
    }

    async fn add(&self, n: NewNotification) -> Result<()> {
        self.add_counted(n).await.map(|_| ())
    }

    async fn add_counted(&self, n: NewNotification) -> Result<usize> {
        Ok(self.store().add_notifications(&n).await?.len())
    }

    /// The enabled users whose capabilities pass `f`.
    async fn users_where(&self, f: impl Fn(&Caps) -> bool) -> Result<Vec<String>> {
        Ok(self
            .store()
            .active_users()
            .await?
            .into_iter()
            .filter(|u| f(&self.caps(u, Via::Session)))
            .map(|u| u.username)
            .collect())
    }

    /// An element's and an area's names for a message (codes when unknown).
    async fn names(&self, element: &str, area: &healthplan_core::AreaCode) -> (String, String) {
        let area_name = self
            .policy()
            .areas()
            .name(area)
            .map_or_else(|| area.to_string(), str::to_string);
        if element.is_empty() {
            return (String::new(), area_name);
        }
        let element_name = self
            .store()
            .list_data_elements()
            .await
            .ok()
            .and_then(|els| els.into_iter().find(|e| e.code == element))
            .map_or_else(|| element.to_string(), |e| e.name);
        (element_name, area_name)
    }

    /// The open round's form where the value is entered, else the list of rounds.
    async fn form_link(&self, v: &DataValue) -> String {
        let system = self.local_caps("system");
        let rounds = self
            .store()
            .list_rounds(&system.reader())
            .await
            .unwrap_or_default();
        rounds
            .iter()
            .find(|r| r.open && r.period == v.period && r.areas.contains(&v.area))
            .map_or_else(|| "/rounds".into(), |r| format!("/rounds/{}", r.id))
    }
}

/// The stored settings, with the configuration file's filling what the admin left unset.
fn merged(stored: Option<NotifySettings>, defaults: &NotifySettings) -> NotifySettings {
    let stored = stored.unwrap_or_default();
    NotifySettings {
        smtp: stored.smtp.or_else(|| defaults.smtp.clone()),
        site_url: stored.site_url.or_else(|| defaults.site_url.clone()),
    }
}

async fn send(
    d: &Delivery,
    settings: &NotifySettings,
    hooks: &[healthplan_store::Webhook],
    client: std::result::Result<&healthplan_notify::HttpClient, &healthplan_notify::NotifyError>,
    now: jiff::Timestamp,
) -> std::result::Result<(), String> {
    let link = match &settings.site_url {
        Some(base) => format!("{}{}", base.trim_end_matches('/'), d.link),
        None => d.link.clone(),
    };
    let m = Message {
        kind: d.kind.as_str(),
        subject: &d.subject,
        body: &d.body,
        link: &link,
    };
    match d.channel {
        Channel::Email => {
            let smtp = settings
                .smtp
                .as_ref()
                .ok_or("未配置SMTP服务器 / no SMTP server configured")?;
            healthplan_notify::send_email(smtp, &d.target, &m)
                .await
                .map_err(|e| e.to_string())
        }
        Channel::Webhook => {
            let hook = hooks
                .iter()
                .find(|h| h.id.to_string() == d.target)
                .ok_or("该Webhook已删除 / the webhook was deleted")?;
            if !hook.enabled {
                return Err("该Webhook已停用 / the webhook is disabled".into());
            }
            let client = client.map_err(|e| e.to_string())?;
            let secret = match hook.format {
                WebhookFormat::Dingtalk => hook.secret.as_deref(),
                _ => None,
            };
            healthplan_notify::post_webhook(
                client,
                &hook.url,
                hook.format,
                secret,
                &m,
                now.as_millisecond(),
            )
            .await
            .map_err(|e| e.to_string())
        }
    }
}

fn log_failure(done: Result<()>, what: &str) {
    if let Err(e) = done {
        tracing::warn!(error = %e, what, "notification not recorded");
    }
}

/// Checks settings an administrator sent: an SMTP host, port and sender address that parse,
/// an http(s) site address. A password of `***` (what the settings are shown with) keeps
/// the stored one.
pub fn checked_settings(
    mut new: NotifySettings,
    stored: Option<&NotifySettings>,
) -> Result<NotifySettings> {
    let bad = |zh: &str, en: &str| crate::AppError::Input(format!("{zh} / {en}"));
    if let Some(smtp) = &mut new.smtp {
        smtp.host = smtp.host.trim().to_string();
        if smtp.host.is_empty()
            || smtp
                .host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad("SMTP服务器地址无效", "the SMTP host is not valid"));
        }
        if smtp.port == 0 {
            return Err(bad("SMTP端口无效", "the SMTP port is not valid"));
        }
        healthplan_notify::check_mailbox(&smtp.from)
            .map_err(|e| bad("发件人地址无效", &format!("the sender is not valid: {e}")))?;
        if smtp.password.as_deref() == Some("***") {
            smtp.password = stored
                .and_then(|s| s.smtp.as_ref())
                .and_then(|s| s.password.clone());
        }
        smtp.username = smtp.username.take().filter(|u| !u.trim().is_empty());
    }
    new.site_url = new
        .site_url
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty());
    if let Some(u) = &new.site_url {
        let ok = (u.starts_with("http://") || u.starts_with("https://"))
            && !u.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(bad(
                "站点地址需以 http:// 或 https:// 开头",
                "the site address must start with http:// or https://",
            ));
        }
    }
    Ok(new)
}
