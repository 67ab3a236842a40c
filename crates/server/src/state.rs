//! What every handler shares.

use healthplan_app::App;
use healthplan_eval::Settings;
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
    /// Failed sign-ins under one account or address before waits begin.
    pub free_sign_in_failures: i64,
    /// Evaluation and assessment settings.
    pub settings: Settings,
    /// How often every plan is re-evaluated and every round's deadline checked for alerts
    /// (`None`: only after approvals and on demand).
    pub alert_interval: Option<Duration>,
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
            free_sign_in_failures: 5,
            settings: Settings::default(),
            alert_interval: Some(Duration::from_secs(600)),
        }
    }
}

pub struct AppState {
    pub app: Arc<App>,
    pub config: ServerConfig,
    pub views: crate::pages::Views,
}

impl AppState {
    pub fn new(app: Arc<App>, config: ServerConfig) -> AppState {
        AppState {
            app,
            config,
            views: crate::pages::Views::new(),
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
    let key = healthplan_store::ValueKey::of(v);
    tokio::spawn(async move {
        if let Err(e) = app.check_after_approval(&key, &settings).await {
            tracing::warn!(error = %e, "alert check after an approval failed");
        }
    });
}

/// The periodic check: every plan as of its latest year with approved values (so it never
/// judges on older data than an approval's check did), and every round.
pub async fn check_alerts_periodically(app: Arc<App>, settings: Settings, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let year = jiff::ZonedDateTime::now().year() as i32;
        let today = crate::api_today();
        match app.check_all_alerts(year, today, &settings).await {
            Ok(raised) if !raised.is_empty() => {
                tracing::info!(alerts = raised.len(), "alerts raised")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "periodic alert check failed"),
        }
    }
}
