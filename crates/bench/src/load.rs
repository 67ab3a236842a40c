//! `healthplan-bench load`: mixed read/write load over HTTP on loopback against a demo
//! server in this process. Readers (signed in as `--reader-role`) fetch the read paths at a
//! fixed total rate (open loop: a reader that falls behind sends at once), writers PUT
//! values as fast as they are answered (each its own leaf area, drafts that no evaluation
//! reads). Per endpoint: requests, throughput, p50/p95/p99/max, errors; the process's
//! memory (server and load generator together).

use crate::serve::{quantile_ms, rss_mib, sign_in, with_demo};
use anyhow::{bail, Context, Result};
use clap::Args;
use healthplan_app::demo::FIRST_YEAR;
use healthplan_app::App;
use healthplan_core::{Aggregation, AreaCode, ValueType};
use reqwest::header::{ETAG, IF_MATCH};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct LoadArgs {
    /// How long the load runs.
    #[arg(long, default_value_t = 20.0)]
    pub seconds: f64,
    /// Concurrent readers.
    #[arg(long, default_value_t = 10)]
    pub readers: usize,
    /// Reads per second over all readers.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Concurrent writers (unpaced).
    #[arg(long, default_value_t = 2)]
    pub writers: usize,
    /// The demo account readers sign in as.
    #[arg(long, default_value = "planner")]
    pub reader_role: String,
    /// Paths the readers fetch in turn (default: the dashboard of plan 1 as of 2025).
    #[arg(long = "read")]
    pub reads: Vec<String>,
    /// Untimed seconds of the same load first.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// A PostgreSQL server to run on (a scratch database is created and dropped); the
    /// default is a SQLite file in a temporary directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// A year the demo leaves empty: the writers' values have no previous period to jump from.
const YEAR: i32 = FIRST_YEAR - 1;

#[derive(Default)]
struct Endpoint {
    times: Vec<f64>,
    errors: usize,
    /// The first few error answers, to say what went wrong.
    samples: Vec<String>,
}

type Stats = Arc<Mutex<BTreeMap<String, Endpoint>>>;

fn record(stats: &Stats, endpoint: &str, secs: f64, error: Option<String>) {
    let mut s = stats.lock().unwrap_or_else(|e| e.into_inner());
    let e = s.entry(endpoint.to_string()).or_default();
    match error {
        None => e.times.push(secs),
        Some(msg) => {
            e.errors += 1;
            if e.samples.len() < 3 {
                e.samples.push(msg);
            }
        }
    }
}

pub async fn run(a: &LoadArgs) -> Result<()> {
    if a.readers == 0 && a.writers == 0 {
        bail!("nothing to do: no readers and no writers");
    }
    with_demo(a.database_url.as_deref(), |demo| async move {
        let reads = if a.reads.is_empty() {
            vec!["/plans/1/dashboard?as_of=2025".to_string()]
        } else {
            a.reads.clone()
        };
        let (element, leaves) = targets(&demo.app, a.writers).await?;
        let token = admin_token(&demo.base).await?;
        let rss_before = rss_mib();
        crate::print(&format!(
            "{}: demo database with {} synthetic values; {} readers as {} at {}/s over {:?}; {} writers PUT {element} ({YEAR}) at leaf areas; {} s (+{} s warm-up)\n",
            demo.backend, demo.synthetic_values, a.readers, a.reader_role, a.rate, reads,
            a.writers, a.seconds, a.warmup
        ))?;
        let mut readers = Vec::new();
        for _ in 0..a.readers {
            readers.push(sign_in(&demo.base, &a.reader_role).await?.0);
        }
        let stats: Stats = Arc::default();
        let start = Instant::now();
        let timed_from = start + Duration::from_secs_f64(a.warmup);
        let end = timed_from + Duration::from_secs_f64(a.seconds);
        let mut tasks = Vec::new();
        let n = a.readers.max(1) as f64;
        for (i, client) in readers.into_iter().enumerate() {
            let (stats, reads, base) = (stats.clone(), reads.clone(), demo.base.clone());
            let interval = n / a.rate;
            tasks.push(tokio::spawn(async move {
                let mut k: u64 = 0;
                loop {
                    let at = start + Duration::from_secs_f64((k as f64 + i as f64 / n) * interval);
                    if at >= end {
                        break;
                    }
                    tokio::time::sleep_until(at.into()).await;
                    let path = &reads[(k as usize + i) % reads.len()];
                    let t = Instant::now();
                    let error = match client.get(format!("{base}{path}")).send().await {
                        Ok(r) if r.status() == StatusCode::OK => {
                            r.bytes().await.err().map(|e| e.to_string())
                        }
                        Ok(r) => Some(format!("{}", r.status())),
                        Err(e) => Some(e.to_string()),
                    };
                    if t >= timed_from {
                        record(&stats, &format!("GET {path}"), t.elapsed().as_secs_f64(), error);
                    }
                    k += 1;
                }
            }));
        }
        for (w, leaf) in leaves.into_iter().enumerate() {
            let (stats, token, base) = (stats.clone(), token.clone(), demo.base.clone());
            let url = format!("{base}/api/v1/values/{element}/{leaf}/{YEAR}");
            tasks.push(tokio::spawn(async move {
                let client = Client::new();
                let mut version: Option<i64> = None;
                let mut i = w * 1000;
                while Instant::now() < end {
                    i += 1;
                    let mut req = client
                        .put(&url)
                        .bearer_auth(&token)
                        .json(&json!({"value": (i % 997 + 1) as f64}));
                    if let Some(v) = version {
                        req = req.header(IF_MATCH, format!("\"{v}\""));
                    }
                    let t = Instant::now();
                    let error = match req.send().await {
                        Ok(r) if r.status() == StatusCode::OK => {
                            version = r
                                .headers()
                                .get(ETAG)
                                .and_then(|v| v.to_str().ok())
                                .and_then(|v| v.trim_matches('"').parse().ok());
                            r.bytes().await.err().map(|e| e.to_string())
                        }
                        Ok(r) => {
                            let s = r.status();
                            Some(format!("{s} {}", r.text().await.unwrap_or_default()))
                        }
                        Err(e) => Some(e.to_string()),
                    };
                    if t >= timed_from {
                        record(&stats, "PUT /api/v1/values/{element}/{area}/{period}", t.elapsed().as_secs_f64(), error);
                    }
                }
            }));
        }
        for t in tasks {
            t.await?;
        }
        let rss_after = rss_mib();
        let stats = std::mem::take(&mut *stats.lock().unwrap_or_else(|e| e.into_inner()));
        report(a, &demo.backend, &stats, rss_before, rss_after)
    })
    .await
}

/// A Sum element of numbers (the first by code) and one leaf area per writer (under the
/// first plan's area when it has enough, else anywhere).
async fn targets(app: &App, writers: usize) -> Result<(String, Vec<AreaCode>)> {
    let store = app.store();
    let mut elements: Vec<_> = store
        .list_data_elements()
        .await?
        .into_iter()
        .filter(|e| e.aggregation == Aggregation::Sum && e.value_type == ValueType::Number)
        .map(|e| e.code)
        .collect();
    elements.sort();
    let element = elements
        .into_iter()
        .next()
        .context("the demo database has no Sum element of numbers")?;
    let all = store.list_areas().await?;
    let mut leaves: Vec<AreaCode> = all
        .iter()
        .filter(|a| !all.iter().any(|b| b.parent.as_ref() == Some(&a.code)))
        .map(|a| a.code.clone())
        .collect();
    leaves.sort();
    if leaves.len() < writers {
        bail!(
            "{writers} writers need as many leaf areas; the demo has {}",
            leaves.len()
        );
    }
    leaves.truncate(writers);
    Ok((element, leaves))
}

/// A personal API token of the demo administrator, made the way a script would.
async fn admin_token(base: &str) -> Result<String> {
    let (client, csrf) = sign_in(base, "admin").await?;
    let r = client
        .post(format!("{base}/api/v1/me/tokens"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"name": "bench load"}))
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

fn report(
    a: &LoadArgs,
    backend: &str,
    stats: &BTreeMap<String, Endpoint>,
    rss_before: Option<(f64, f64)>,
    rss_after: Option<(f64, f64)>,
) -> Result<()> {
    let mut out = format!(
        "{:<52} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}\n",
        "endpoint", "ok", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"
    );
    let mut j = serde_json::Map::new();
    for (name, e) in stats {
        let mut s = e.times.clone();
        s.sort_by(f64::total_cmp);
        let q: Vec<f64> = [0.5, 0.95, 0.99, 1.0]
            .iter()
            .map(|&q| quantile_ms(&s, q))
            .collect();
        let rate = s.len() as f64 / a.seconds;
        out += &format!(
            "{name:<52} {:>7} {rate:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>6}\n",
            s.len(),
            q[0],
            q[1],
            q[2],
            q[3],
            e.errors
        );
        for m in &e.samples {
            out += &format!("    error: {}\n", m.chars().take(200).collect::<String>());
        }
        j.insert(
            name.clone(),
            json!({"ok": s.len(), "per_s": rate, "p50_ms": q[0], "p95_ms": q[1], "p99_ms": q[2],
                   "max_ms": q[3], "errors": e.errors}),
        );
    }
    if let (Some(b), Some(a)) = (rss_before, rss_after) {
        out += &format!(
            "process RSS (server and load generator): {:.0} MiB before the load, {:.0} MiB after, peak {:.0} MiB\n",
            b.0, a.0, a.1
        );
        j.insert(
            "rss_mib".into(),
            json!({"before": b.0, "after": a.0, "peak": a.1}),
        );
    }
    crate::print(&out)?;
    if let Some(p) = &a.json {
        j.insert("backend".into(), json!(backend));
        j.insert("seconds".into(), json!(a.seconds));
        j.insert("rate".into(), json!(a.rate));
        j.insert("readers".into(), json!(a.readers));
        j.insert("writers".into(), json!(a.writers));
        std::fs::write(p, serde_json::to_string_pretty(&Value::Object(j))?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}
