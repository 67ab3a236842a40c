//! What the HTTP benchmarks share: a fresh demo database (a scratch PostgreSQL database or a
//! SQLite file in a temporary directory) served in this process on 127.0.0.1:0, signed-in
//! clients, quantiles and the process's memory.

use anyhow::{bail, Context, Result};
use healthplan_app::demo::{self, ACCOUNTS};
use healthplan_app::App;
use healthplan_store::testing::TestDatabase;
use healthplan_store::{Store, StoreConfig};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;

/// A running demo server.
pub struct Demo {
    pub base: String,
    pub app: Arc<App>,
    pub backend: String,
    pub synthetic_values: usize,
}

/// Runs `f` against a demo server on a fresh database, then stops the server and drops the
/// scratch database whatever `f` returned.
pub async fn with_demo<F, Fut, T>(database_url: Option<&str>, f: F) -> Result<T>
where
    F: FnOnce(Demo) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    with_scratch_store(database_url, |config| async move {
        let store = Store::open(&config).await?;
        let backend = store.backend().to_string();
        let app = Arc::new(App::open(store).await?);
        let setup = demo::setup(&app, "bench").await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = app.clone();
        let server = tokio::spawn(async move {
            healthplan_server::serve(
                served,
                healthplan_server::ServerConfig::default(),
                listener,
                async {
                    let _ = stopped.await;
                },
            )
            .await
        });
        let out = f(Demo {
            base,
            app,
            backend,
            synthetic_values: setup.synthetic_values,
        })
        .await;
        let _ = stop.send(());
        server.await??;
        out
    })
    .await
}

/// Runs `f` on a fresh store (a scratch database on the given PostgreSQL server, else a
/// SQLite file in a temporary directory), then drops the scratch database whatever `f`
/// returned.
pub async fn with_scratch_store<F, Fut, T>(database_url: Option<&str>, f: F) -> Result<T>
where
    F: FnOnce(StoreConfig) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let pg = match database_url {
        Some(server) => Some(
            TestDatabase::create(server)
                .await
                .context("cannot create a scratch database on the PostgreSQL server")?,
        ),
        None => None,
    };
    let config = StoreConfig::new(dir.path(), pg.as_ref().map(|db| db.url.clone()));
    let result = f(config).await;
    if let Some(db) = pg {
        db.remove()
            .await
            .context("cannot drop the scratch database")?;
    }
    result
}

/// A client signed in as a demo account (session cookie kept), with its CSRF token.
pub async fn sign_in(base: &str, username: &str) -> Result<(Client, String)> {
    let acc = ACCOUNTS
        .iter()
        .find(|a| a.username == username)
        .with_context(|| format!("no demo account {username}"))?;
    let client = Client::builder().cookie_store(true).build()?;
    let r = client
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": acc.username, "password": acc.password}))
        .send()
        .await?;
    if r.status() != StatusCode::OK {
        bail!("signing in as {username}: {}", r.status());
    }
    let me: Value = r.json().await?;
    let csrf = me["csrf_token"]
        .as_str()
        .context("no CSRF token")?
        .to_string();
    Ok((client, csrf))
}

/// The `q` quantile by nearest rank, in milliseconds, of durations in seconds.
pub fn quantile_ms(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] * 1e3
}

/// This process's resident memory now and at its peak, in MiB (Linux; `None` elsewhere).
pub fn rss_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
