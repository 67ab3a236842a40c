//! `healthplan-bench api`: write-then-read latency over HTTP. The server runs in this process
//! on a fresh demo database; each iteration PUTs a leaf area's value of a Sum element and
//! reads the province's yearly aggregate back, which must already include the new value.

use anyhow::{bail, Context, Result};
use clap::Args;
use healthplan_app::demo::{self, ACCOUNTS, FIRST_YEAR};
use healthplan_app::App;
use healthplan_core::{Aggregation, AreaCode, ValueType};
use healthplan_store::{Store, StoreConfig};
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::header::{ETAG, IF_MATCH};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct ApiArgs {
    /// Timed PUT + read-back pairs.
    #[arg(long, default_value_t = 500)]
    pub iterations: usize,
    /// Untimed pairs first (connections, caches).
    #[arg(long, default_value_t = 20)]
    pub warmup: usize,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// A PostgreSQL server to run on (a scratch database is created and dropped); the
    /// default is a SQLite file in a temporary directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// The province whose yearly aggregate is read back.
pub(crate) const PROVINCE: &str = "440000";
/// A year the demo leaves empty, so the province's aggregate is exactly what the bench wrote.
pub(crate) const YEAR: i32 = FIRST_YEAR - 1;

pub async fn run(a: &ApiArgs) -> Result<()> {
    // The demo database of the run, removed afterwards: a scratch database on the given
    // PostgreSQL server, else a SQLite file in a temporary directory.
    crate::serve::with_scratch_store(a.database_url.as_deref(), |config| async move {
        bench(a, &config).await
    })
    .await
}

async fn bench(a: &ApiArgs, config: &StoreConfig) -> Result<()> {
    let spinner = ProgressBar::new_spinner().with_message("setting up the demo database");
    spinner.enable_steady_tick(Duration::from_millis(120));
    let store = Store::open(config).await?;
    let backend = store.backend().to_string();
    let app = Arc::new(App::open(store).await?);
    let setup = demo::setup(&app, "bench").await?;
    let (element, leaves) = target(&app).await?;
    let leaf = leaves[0].clone();
    spinner.finish_and_clear();

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

    let result = async {
        let client = Client::builder().build()?;
        let token = api_token(&client, &base).await?;
        println!(
            "{backend}: demo database with {} synthetic values; element {element} (sum), leaf area {leaf}, year {YEAR}; province {PROVINCE}",
            setup.synthetic_values
        );
        let mut b = Bencher {
            client,
            token,
            value_url: format!("{base}/api/v1/values/{element}/{leaf}/{YEAR}"),
            read_url: format!(
                "{base}/api/v1/analytics?element={element}&areas={PROVINCE}&periods={YEAR}"
            ),
            version: None,
            value: 0.0,
            aggregate: 0.0,
        };
        b.start().await?;
        for i in 0..a.warmup {
            b.pair(i).await?;
        }
        let pb = ProgressBar::new(a.iterations as u64).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} PUT + read-back {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let (mut puts, mut reads, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..a.iterations {
            let (put, read) = b.pair(a.warmup + i).await?;
            puts.push(put);
            reads.push(read);
            pairs.push(put + read);
            pb.inc(1);
        }
        pb.finish_and_clear();
        report(a, &backend, &[("PUT", puts), ("read", reads), ("pair", pairs)])
    }
    .await;

    let _ = stop.send(());
    server.await??;
    result
}

/// A Sum element of numbers (the first by code) and the leaf areas under the province (by
/// code, at least one).
pub(crate) async fn target(app: &App) -> Result<(String, Vec<AreaCode>)> {
    let store = app.store();
    let mut elements: Vec<_> = store
        .list_data_elements()
        .await?
        .into_iter()
        .filter(|e| e.aggregation == Aggregation::Sum && e.value_type == ValueType::Number)
        .map(|e| e.code)
        .collect();
    elements.sort();
    let Some(element) = elements.into_iter().next() else {
        bail!("the demo database has no Sum element of numbers");
    };
    let province = AreaCode::parse(PROVINCE)?;
    let areas = app.policy().areas().subtree(&province);
    let all = store.list_areas().await?;
    let mut leaves: Vec<AreaCode> = areas
        .into_iter()
        .filter(|c| !all.iter().any(|a| a.parent.as_ref() == Some(c)))
        .collect();
    leaves.sort();
    if leaves.is_empty() {
        bail!("no leaf area under {PROVINCE}");
    }
    Ok((element, leaves))
}

/// A personal API token of the demo administrator, made the way a script would.
pub(crate) async fn api_token(client: &Client, base: &str) -> Result<String> {
    let admin = ACCOUNTS
        .iter()
        .find(|a| a.username == "admin")
        .context("no demo admin account")?;
    let r = client
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": admin.username, "password": admin.password}))
        .send()
        .await?;
    if r.status() != StatusCode::OK {
        bail!("signing in as admin: {}", r.status());
    }
    let cookie = r
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .context("no session cookie")?
        .to_string();
    let me: Value = r.json().await?;
    let csrf = me["csrf_token"].as_str().context("no CSRF token")?;
    let r = client
        .post(format!("{base}/api/v1/me/tokens"))
        .header(reqwest::header::COOKIE, cookie)
        .header("X-CSRF-Token", csrf)
        .json(&json!({"name": "bench api"}))
        .send()
        .await?;
    if r.status() != StatusCode::CREATED {
        bail!("creating an API token: {}", r.status());
    }
    let body: Value = r.json().await?;
    Ok(body["secret"]
        .as_str()
        .context("no token secret")?
        .to_string())
}

struct Bencher {
    client: Client,
    token: String,
    value_url: String,
    read_url: String,
    /// Version of the leaf value (`None` until it exists).
    version: Option<i64>,
    value: f64,
    /// The province's aggregate as last read.
    aggregate: f64,
}

impl Bencher {
    /// Reads the current value (if any) and aggregate.
    async fn start(&mut self) -> Result<()> {
        let r = self
            .client
            .get(&self.value_url)
            .bearer_auth(&self.token)
            .send()
            .await?;
        match r.status() {
            StatusCode::NOT_FOUND => {}
            StatusCode::OK => {
                self.version = Some(etag_version(&r)?);
                let v: Value = r.json().await?;
                self.value = v["value"]["value"].as_f64().unwrap_or(0.0);
            }
            s => bail!("reading the value: {s}"),
        }
        self.aggregate = self.read().await?;
        Ok(())
    }

    /// One PUT and one read-back; their latencies in seconds. Fails when the read-back does
    /// not show the write.
    async fn pair(&mut self, i: usize) -> Result<(f64, f64)> {
        // Values vary so every write changes the aggregate.
        let new = ((i * 37) % 1000 + 1) as f64;
        let new = if new == self.value { new + 1.0 } else { new };
        let want = self.aggregate - self.value + new;
        let mut req = self
            .client
            .put(&self.value_url)
            .bearer_auth(&self.token)
            .json(&json!({"value": new}));
        if let Some(v) = self.version {
            req = req.header(IF_MATCH, format!("\"{v}\""));
        }
        let t = Instant::now();
        let r = req.send().await?;
        let status = r.status();
        let version = if status == StatusCode::OK {
            Some(etag_version(&r)?)
        } else {
            None
        };
        let body = r.bytes().await?;
        let put = t.elapsed().as_secs_f64();
        if status != StatusCode::OK {
            bail!(
                "PUT {}: {status} {}",
                self.value_url,
                String::from_utf8_lossy(&body)
            );
        }
        self.version = version;
        self.value = new;
        let t = Instant::now();
        let got = self.read().await?;
        let read = t.elapsed().as_secs_f64();
        if (got - want).abs() > 1e-9 * want.abs().max(1.0) {
            bail!(
                "read-your-writes violated: after writing {new}, the province's {YEAR} aggregate is {got}, expected {want}"
            );
        }
        self.aggregate = got;
        Ok((put, read))
    }

    async fn read(&self) -> Result<f64> {
        let r = self
            .client
            .get(&self.read_url)
            .bearer_auth(&self.token)
            .send()
            .await?;
        let status = r.status();
        let body = r.bytes().await?;
        if status != StatusCode::OK {
            bail!(
                "GET {}: {status} {}",
                self.read_url,
                String::from_utf8_lossy(&body)
            );
        }
        let cells: Vec<Value> = serde_json::from_slice(&body)?;
        let [cell] = cells.as_slice() else {
            bail!("expected one cell, got {}", cells.len());
        };
        Ok(cell["value"].as_f64().unwrap_or(0.0))
    }
}

pub(crate) fn etag_version(r: &reqwest::Response) -> Result<i64> {
    let tag = r
        .headers()
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .context("no ETag")?;
    tag.trim_matches('"')
        .parse()
        .with_context(|| format!("bad ETag {tag}"))
}

/// The `q` quantile by nearest rank, in milliseconds.
pub(crate) fn quantile_ms(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] * 1e3
}

fn report(a: &ApiArgs, backend: &str, series: &[(&str, Vec<f64>)]) -> Result<()> {
    let n = series.first().map_or(0, |s| s.1.len());
    let mut out = format!(
        "{n} PUT + read-back pairs, each read-back checked (read-your-writes: ok)\n{:<6} {:>9} {:>9} {:>9} {:>9}\n",
        "ms", "p50", "p95", "p99", "max"
    );
    let mut j = serde_json::Map::new();
    for (name, v) in series {
        let mut s = v.clone();
        s.sort_by(f64::total_cmp);
        let q: Vec<f64> = [0.5, 0.95, 0.99, 1.0]
            .iter()
            .map(|&q| quantile_ms(&s, q))
            .collect();
        out += &format!(
            "{name:<6} {:>9.2} {:>9.2} {:>9.2} {:>9.2}\n",
            q[0], q[1], q[2], q[3]
        );
        j.insert(
            name.to_string(),
            json!({"p50_ms": q[0], "p95_ms": q[1], "p99_ms": q[2], "max_ms": q[3]}),
        );
    }
    crate::print(&out)?;
    if let Some(p) = &a.json {
        j.insert("backend".into(), json!(backend));
        j.insert("iterations".into(), json!(n));
        j.insert("read_your_writes".into(), json!(true));
        std::fs::write(p, serde_json::to_string_pretty(&Value::Object(j))?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::quantile_ms;

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(|i| i as f64 / 1e3).collect();
        assert_eq!(quantile_ms(&v, 0.5), 50.0);
        assert_eq!(quantile_ms(&v, 0.99), 99.0);
        assert_eq!(quantile_ms(&v, 1.0), 100.0);
        assert_eq!(quantile_ms(&[0.002], 0.99), 2.0);
        assert!(quantile_ms(&[], 0.5).is_nan());
    }
}
