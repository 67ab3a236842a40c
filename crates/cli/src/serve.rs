//! `healthplan serve`: the web pages and the API.

use crate::Globals;
use anyhow::Context;
use healthplan_app::App;
use healthplan_server::ServerConfig;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", env = "HEALTHPLAN_LISTEN")]
    pub listen: String,
    #[command(flatten)]
    pub options: ServerOptions,
    /// Write a backup into this directory every `--backup-every` (off without).
    #[arg(long, env = "HEALTHPLAN_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Scheduled backups kept; older ones are deleted.
    #[arg(long, default_value_t = 7)]
    pub backup_keep: usize,
    /// How often the scheduled backup runs (`24h`, `6h`, `30m`).
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub backup_every: std::time::Duration,
}

/// `24h`, `90m`, `2s` or ISO 8601 (`PT24H`).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let d: jiff::SignedDuration = s
        .parse()
        .map_err(|e| format!("{s:?} is not a duration like 24h or 30m: {e}"))?;
    std::time::Duration::try_from(d)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{s:?}: the duration must be positive"))
}

/// Options of the server, shared by `serve` and `demo`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ServerOptions {
    /// Mark the session cookie `Secure` (the server is reached over HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Believe `X-Forwarded-For` and `X-Forwarded-Proto` from a reverse proxy in front.
    #[arg(long)]
    pub trust_proxy: bool,
    /// Minutes a session may sit unused before it ends.
    #[arg(long, default_value_t = 30)]
    pub idle_minutes: u64,
    /// Evaluation and assessment settings (TOML), as for `healthplan evaluate --scheme`.
    #[arg(long)]
    pub scheme: Option<PathBuf>,
    /// Serve `/metrics` to scrapers that send `Authorization: Bearer <this>` (off without).
    #[arg(long, env = "HEALTHPLAN_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Log lines as text for people or JSON for collectors (each with the request id).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// The configuration file, for its `[notifications]` section (set from the globals).
    #[arg(skip)]
    pub config_file: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl ServerOptions {
    pub fn config(&self) -> anyhow::Result<ServerConfig> {
        let mut c = ServerConfig {
            secure_cookies: self.secure_cookies,
            trust_proxy: self.trust_proxy,
            idle_timeout: std::time::Duration::from_secs(self.idle_minutes.max(1) * 60),
            metrics_token: self.metrics_token.clone().filter(|t| !t.trim().is_empty()),
            ..ServerConfig::default()
        };
        if let Some(f) = &self.config_file {
            c.notify_defaults = crate::config::notifications(f)?;
        }
        if let Some(p) = &self.scheme {
            let name = p.display().to_string();
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {name}"))?;
            let text = healthplan_app::text::decode_text(&name, &bytes)?;
            c.settings = healthplan_app::eval::Settings::from_toml(&text)
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        }
        Ok(c)
    }
}

pub async fn run(mut a: ServeArgs, g: &Globals) -> anyhow::Result<()> {
    a.options.config_file = g.config_file.clone();
    init_logs(a.options.log_format);
    let store = crate::store::open(g).await?;
    let app = App::open(store).await?;
    if let Some(dir) = &a.backup_dir {
        let schedule = healthplan_backup::Schedule {
            dir: dir.clone(),
            keep: a.backup_keep,
            every: a.backup_every,
            settings: crate::backup::settings_files(g, a.options.scheme.as_slice()),
        };
        tokio::spawn(healthplan_backup::run_schedule(
            app.store().clone(),
            crate::store::config(g),
            schedule,
        ));
    }
    serve(app, &a.listen, &a.options).await
}

/// Logs to stderr; `RUST_LOG` chooses what.
fn init_logs(format: LogFormat) {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().with_current_span(true).try_init(),
    };
}

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub async fn serve(app: App, listen: &str, options: &ServerOptions) -> anyhow::Result<()> {
    init_logs(options.log_format);
    let config = options.config()?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    crate::store::print(&format!(
        "healthplan is serving {} on http://{addr}/  (API docs: http://{addr}/api/docs; Ctrl-C to stop)\n",
        app.store().location()
    ))?;
    healthplan_server::serve(
        Arc::new(app),
        config,
        listener,
        healthplan_server::shutdown_signal(),
    )
    .await?;
    crate::store::print("healthplan stopped\n")
}
