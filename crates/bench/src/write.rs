//! `healthplan-bench write`: write throughput over HTTP. The server runs in this process on a
//! fresh demo database. Phase 1: C clients each PUT their own value over and over (If-Match
//! with the version the last answer gave) for a while; writes per second and latency. Phase 2:
//! `POST /api/v1/values` batches of new values; values per second. Every write is checked to
//! have been acknowledged (200 with the expected version); none is assumed.

use crate::api::{api_token, etag_version, quantile_ms, target, PROVINCE, YEAR};
use anyhow::{bail, Context, Result};
use clap::Args;
use healthplan_app::demo;
use healthplan_app::App;
use healthplan_core::AreaCode;
use healthplan_store::{Store, StoreConfig};
use reqwest::header::IF_MATCH;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct WriteArgs {
    /// Concurrent single-value writers, one phase per number.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 8])]
    pub clients: Vec<usize>,
    /// Seconds each single-value phase runs.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Values per `POST /api/v1/values` batch (at most 5000, the API's limit).
    #[arg(long, default_value_t = 5000)]
    pub batch_size: usize,
    /// Batches sent one after the other (0: no batch phase).
    #[arg(long, default_value_t = 3)]
    pub batches: usize,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// A PostgreSQL server to run on (a scratch database is created and dropped); the
    /// default is a SQLite file in a temporary directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

pub async fn run(a: &WriteArgs) -> Result<()> {
    if a.batch_size == 0 || a.batch_size > 5000 {
        bail!("--batch-size must be 1–5000");
    }
    crate::serve::with_scratch_store(a.database_url.as_deref(), |config| async move {
        bench(a, &config).await
    })
    .await
}

async fn bench(a: &WriteArgs, config: &StoreConfig) -> Result<()> {
    let store = Store::open(config).await?;
    let backend = store.backend().to_string();
    let app = Arc::new(App::open(store).await?);
    demo::setup(&app, "bench").await?;
    let (element, leaves) = target(&app).await?;

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
        let mut out = format!(
            "{backend}: element {element} (sum), {} leaf areas under {PROVINCE}\n",
            leaves.len()
        );
        let mut j = serde_json::Map::new();
        j.insert("backend".into(), json!(backend));
        for (round, &c) in a.clients.iter().enumerate() {
            let cells = cells(&base, &element, &leaves, round, c);
            let lat = singles(&client, &token, &cells, a.seconds).await?;
            let n = lat.len();
            let rate = n as f64 / a.seconds;
            let q: Vec<f64> = [0.5, 0.95, 0.99]
                .iter()
                .map(|&q| quantile_ms(&lat, q))
                .collect();
            out += &format!(
                "PUT x{c:<3} {n:>7} writes {rate:>9.0}/s  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms\n",
                q[0], q[1], q[2]
            );
            j.insert(
                format!("put_{c}"),
                json!({"clients": c, "writes": n, "per_s": rate, "p50_ms": q[0], "p95_ms": q[1], "p99_ms": q[2]}),
            );
        }
        if a.batches > 0 {
            let mut times = Vec::new();
            for b in 0..a.batches {
                let body = batch(&element, &leaves, b, a.batch_size);
                let t = Instant::now();
                let r = client
                    .post(format!("{base}/api/v1/values"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                let status = r.status();
                let saved: Value = r.json().await?;
                let dt = t.elapsed().as_secs_f64();
                if status != StatusCode::OK {
                    bail!("POST /api/v1/values: {status} {saved}");
                }
                let n = saved.as_array().map_or(0, Vec::len);
                if n != a.batch_size {
                    bail!("batch {b}: {n} values acknowledged of {}", a.batch_size);
                }
                times.push(dt);
            }
            times.sort_by(f64::total_cmp);
            let median = times[times.len() / 2];
            let rate = a.batch_size as f64 / median;
            out += &format!(
                "POST batch of {}: median {:.0} ms over {} batches, {rate:.0} values/s\n",
                a.batch_size,
                median * 1e3,
                times.len()
            );
            j.insert(
                "batch".into(),
                json!({"size": a.batch_size, "batches": times.len(), "median_ms": median * 1e3, "values_per_s": rate}),
            );
        }
        crate::print(&out)?;
        if let Some(p) = &a.json {
            std::fs::write(p, serde_json::to_string_pretty(&Value::Object(j))?)
                .with_context(|| format!("writing {}", p.display()))?;
        }
        Ok(())
    }
    .await;

    let _ = stop.send(());
    server.await??;
    result
}

/// One URL per client, none shared: a leaf area and a year (earlier years when there are
/// more clients than leaves; each phase its own years).
fn cells(base: &str, element: &str, leaves: &[AreaCode], round: usize, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let year = YEAR - 20 * round as i32 - (i / leaves.len()) as i32;
            let leaf = &leaves[i % leaves.len()];
            format!("{base}/api/v1/values/{element}/{leaf}/{year}")
        })
        .collect()
}

/// Every client writes its cell until the time is up; the latencies of all writes, sorted.
async fn singles(client: &Client, token: &str, cells: &[String], seconds: f64) -> Result<Vec<f64>> {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for url in cells {
        let (client, token, url) = (client.clone(), token.to_string(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut version: Option<i64> = None;
            let mut lat = Vec::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let mut req = client
                    .put(&url)
                    .bearer_auth(&token)
                    .json(&json!({"value": (i % 90 + 10) as f64}));
                if let Some(v) = version {
                    req = req.header(IF_MATCH, format!("\"{v}\""));
                }
                let t = Instant::now();
                let r = req.send().await?;
                let status = r.status();
                let got = if status == StatusCode::OK {
                    Some(etag_version(&r)?)
                } else {
                    None
                };
                let body = r.bytes().await?;
                lat.push(t.elapsed().as_secs_f64());
                let want = version.map_or(1, |v| v + 1);
                if got != Some(want) {
                    bail!(
                        "PUT {url}: {status} version {got:?}, expected {want}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
                version = got;
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort_by(f64::total_cmp);
    Ok(all)
}

/// A batch of new values: days of a year long before the demo's data, a different year
/// span per batch, spread over the leaves.
fn batch(element: &str, leaves: &[AreaCode], b: usize, size: usize) -> Value {
    let per_leaf = size.div_ceil(leaves.len());
    let days_per_batch = per_leaf.div_ceil(365) * 366;
    let values: Vec<Value> = (0..size)
        .map(|j| {
            let leaf = &leaves[j % leaves.len()];
            let day = day_string(YEAR - 10, b * days_per_batch + j / leaves.len());
            json!({"element": element, "area": leaf.as_str(), "period": day, "value": (j % 50 + 100) as f64})
        })
        .collect();
    json!({ "values": values })
}

/// The `n`th day from 1 January of `year`, as `YYYYMMDD`.
pub(crate) fn day_string(year: i32, mut n: usize) -> String {
    let mut y = year;
    loop {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let len = if leap { 366 } else { 365 };
        if n < len {
            let months = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            let mut m = 0;
            while n >= months[m] {
                n -= months[m];
                m += 1;
            }
            return format!("{y:04}{:02}{:02}", m + 1, n + 1);
        }
        n -= len;
        y += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::day_string;

    #[test]
    fn days_count_from_new_year() {
        assert_eq!(day_string(2023, 0), "20230101");
        assert_eq!(day_string(2023, 31), "20230201");
        assert_eq!(day_string(2024, 59), "20240229");
        assert_eq!(day_string(2023, 365), "20240101");
    }
}
