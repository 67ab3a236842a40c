//! What every handler shares.

use healthplan_app::eval::Settings;
use healthplan_app::App;
use std::sync::Arc;
use std::time::Duration;

/// Server settings; the defaults suit a server behind nothing on 127.0.0.1.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Always mark the session cookie `Secure` (the server is reached over TLS).
    pub secure_cookies: bool,
    /// Believe `X-Forwarded-For` / `X-Forwarded-Proto` from a reverse proxy in front.
    pub trust_proxy: bool,
    /// A session unused this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in whatever its use.
    pub max_session: Duration,
    /// Largest request body accepted (uploads included).
    pub max_body_bytes: usize,
    /// Largest evidence file accepted.
    pub max_evidence_bytes: usize,
    /// Plan documents read at once; more wait their turn with 503 and `Retry-After`. Each
    /// import may take hundreds of MB and a core, and the machine has few of either.
    pub max_concurrent_imports: usize,
    /// Failed sign-ins under one account or address before waits begin.
    pub free_sign_in_failures: i64,
    /// Evaluation and assessment settings.
    pub settings: Settings,
    /// How often every plan is re-evaluated and every round's deadline checked for alerts
    /// (`None`: only after approvals and on demand).
    pub alert_interval: Option<Duration>,
    /// `/metrics` answers only with this bearer token (`None`: metrics off).
    pub metrics_token: Option<String>,
    /// SMTP settings and site address from the configuration file's `[notifications]`;
    /// what the administrator saves on the admin page wins.
    pub notify_defaults: healthplan_app::store::NotifySettings,
    /// How often the outbox is worked through (`None`: never, e.g. a read-only replica).
    pub notify_interval: Option<Duration>,
    /// Attempts and backoff of a failed e-mail or webhook post.
    pub notify_retry: healthplan_app::notify::Retry,
    /// With other processes on the same PostgreSQL database: how often the engine catches up
    /// with their writes even without a notification (a safety net; notifications apply
    /// them within milliseconds).
    pub catch_up_every: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            secure_cookies: false,
            trust_proxy: false,
            idle_timeout: Duration::from_secs(30 * 60),
            max_session: Duration::from_secs(12 * 3600),
            max_body_bytes: 25 * 1024 * 1024,
            max_evidence_bytes: 10 * 1024 * 1024,
            max_concurrent_imports: 2,
            free_sign_in_failures: 5,
            settings: Settings::default(),
            alert_interval: Some(Duration::from_secs(600)),
            metrics_token: None,
            notify_defaults: Default::default(),
            notify_interval: Some(Duration::from_secs(10)),
            notify_retry: Default::default(),
            catch_up_every: Duration::from_secs(5),
        }
    }
}

pub struct AppState {
    pub app: Arc<App>,
    pub config: ServerConfig,
    pub views: crate::pages::Views,
    pub metrics: crate::ops::Metrics,
    /// Slots for plan imports (`max_concurrent_imports`).
    pub imports: tokio::sync::Semaphore,
}

impl AppState {
    pub fn new(app: Arc<App>, config: ServerConfig) -> AppState {
        AppState {
            app,
            imports: tokio::sync::Semaphore::new(config.max_concurrent_imports),
            config,
            views: crate::pages::Views::new(),
            metrics: crate::ops::Metrics::default(),
        }
    }
}

/// Re-evaluates what an approved value changes, off the request: alerts follow the
/// approval within moments, the reviewer does not wait for them.
pub fn after_approval(state: &AppState, v: &healthplan_core::DataValue) {
    if v.status != healthplan_core::ValueStatus::Approved {
        return;
    }
    let app = state.app.clone();
    let settings = state.config.settings.clone();
    let key = healthplan_app::store::ValueKey::of(v);
    tokio::spawn(async move {
        if let Err(e) = app.check_after_approval(&key, &settings).await {
            tracing::warn!(error = %e, "alert check after an approval failed");
        }
    });
}

/// The periodic check, run by one process per period: every plan as of its latest year with
/// approved values (so it never judges on older data than an approval's check did), and every
/// round.
pub async fn check_alerts_periodically(app: Arc<App>, settings: Settings, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        // Several servers on one database: one of them runs each period's check.
        match app.store().claim_job("alerts", every).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim the periodic alert check");
                continue;
            }
        }
        let (year, today) = (app.clock().year(), app.clock().today());
        match app.check_all_alerts(year, today, &settings).await {
            Ok(raised) if !raised.is_empty() => {
                tracing::info!(alerts = raised.len(), "alerts raised")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "periodic alert check failed"),
        }
        match app.check_deadlines(today).await {
            Ok(n) if n > 0 => tracing::info!(notified = n, "deadline reminders"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deadline reminders failed"),
        }
    }
}

/// Works through the notification outbox, off every request: e-mails and webhook posts are
/// sent here, retried with backoff, each attempt audited. Rows are leased when claimed, so
/// several servers on one database never send a message twice at once.
pub async fn deliver_periodically(
    app: Arc<App>,
    defaults: healthplan_app::store::NotifySettings,
    retry: healthplan_app::notify::Retry,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = app.deliver_notifications(&defaults, &retry).await {
            tracing::warn!(error = %e, "notification delivery run failed");
        }
    }
}
