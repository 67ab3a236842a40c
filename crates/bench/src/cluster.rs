//! `healthplan-bench cluster`: two server processes on one PostgreSQL database, as behind a
//! load balancer. Each write goes through A; the province's yearly aggregate is read through
//! B until it shows the write (write-to-visible: from A's acknowledgement to B's first read
//! that shows it). Reads B issues later than `--bound-ms` after the acknowledgement that still
//! miss the write are stale reads. Then A is killed (SIGKILL) with a write in flight, the
//! writes go on through B, and every acknowledged write must be in B's aggregate and values.
//!
//! The servers are this executable's hidden `cluster-node` subcommand: real processes, each
//! with its own pool, engine and change-feed listener.

use anyhow::{bail, Context, Result};
use clap::Args;
use healthplan_app::demo::{self, FIRST_YEAR};
use healthplan_app::App;
use healthplan_core::{Aggregation, AreaCode, ValueType};
use healthplan_store::testing::TestDatabase;
use healthplan_store::{Store, StoreConfig};
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::header::IF_MATCH;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct ClusterArgs {
    /// The PostgreSQL server (a scratch database is created and dropped).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Writes through A, each timed until B shows it.
    #[arg(long, default_value_t = 5000)]
    pub writes: usize,
    /// Writes through B after A is killed.
    #[arg(long, default_value_t = 500)]
    pub after_kill: usize,
    /// Leaf areas written in turn (each write replaces one of their values).
    #[arg(long, default_value_t = 50)]
    pub cells: usize,
    /// The visibility bound: a read through B issued this long after the acknowledgement
    /// that misses the write is a stale read.
    #[arg(long, default_value_t = 100)]
    pub bound_ms: u64,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Args)]
pub struct NodeArgs {
    #[arg(long)]
    pub database_url: String,
}

const PROVINCE: &str = "440000";
/// A year the demo leaves empty, so the province's aggregate is exactly what the bench wrote.
const YEAR: i32 = FIRST_YEAR - 1;
/// A write not visible through B after this long fails the run.
const GIVE_UP: Duration = Duration::from_secs(10);

/// A server process on the database: prints `READY <base url>` once it serves.
pub async fn node(a: &NodeArgs) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&StoreConfig::new(dir.path(), Some(a.database_url.clone()))).await?;
    let app = std::sync::Arc::new(App::open(store).await?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    crate::print(&format!("READY http://{}\n", listener.local_addr()?))?;
    let config = healthplan_server::ServerConfig {
        alert_interval: None,
        ..Default::default()
    };
    healthplan_server::serve(app, config, listener, healthplan_server::shutdown_signal()).await?;
    Ok(())
}

struct Node {
    child: Child,
    base: String,
}

impl Node {
    fn start(url: &str) -> Result<Node> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .args(["cluster-node", "--database-url", url])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start a server process")?;
        let out = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(out).read_line(&mut line)?;
        let Some(base) = line.trim().strip_prefix("READY ") else {
            let _ = child.kill();
            bail!("the server process did not start: {line:?}");
        };
        Ok(Node {
            base: base.to_string(),
            child,
        })
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn run(a: &ClusterArgs) -> Result<()> {
    let db = TestDatabase::create(&a.database_url)
        .await
        .context("cannot create a scratch database on the PostgreSQL server")?;
    let result = bench(a, &db.url).await;
    db.remove()
        .await
        .context("cannot drop the scratch database")?;
    result
}

/// The demo set up, a Sum element of numbers and `n` leaf areas under the province.
async fn setup(url: &str, n: usize) -> Result<(String, Vec<AreaCode>)> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&StoreConfig::new(dir.path(), Some(url.to_string()))).await?;
    let app = App::open(store).await?;
    demo::setup(&app, "bench").await?;
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
        .context("the demo has no Sum element of numbers")?;
    let all = store.list_areas().await?;
    let province = AreaCode::parse(PROVINCE)?;
    let mut leaves: Vec<AreaCode> = app
        .policy()
        .areas()
        .subtree(&province)
        .into_iter()
        .filter(|c| !all.iter().any(|a| a.parent.as_ref() == Some(c)))
        .collect();
    leaves.sort();
    leaves.truncate(n.max(1));
    store.close().await;
    Ok((element, leaves))
}

struct Cell {
    version: Option<i64>,
    value: f64,
}

struct Run {
    client: Client,
    token: String,
    element: String,
    cells: BTreeMap<AreaCode, Cell>,
}

impl Run {
    fn value_url(&self, base: &str, area: &AreaCode) -> String {
        format!("{base}/api/v1/values/{}/{area}/{YEAR}", self.element)
    }

    fn expected(&self) -> f64 {
        self.cells.values().map(|c| c.value).sum()
    }

    fn put(&self, base: &str, area: &AreaCode, value: f64) -> reqwest::RequestBuilder {
        let mut req = self
            .client
            .put(self.value_url(base, area))
            .bearer_auth(&self.token)
            .json(&json!({ "value": value }));
        if let Some(v) = self.cells.get(area).and_then(|c| c.version) {
            req = req.header(IF_MATCH, format!("\"{v}\""));
        }
        req
    }

    /// One acknowledged write; the cell remembers it.
    async fn write(&mut self, base: &str, area: &AreaCode, value: f64) -> Result<()> {
        let r = self.put(base, area, value).send().await?;
        if r.status() != StatusCode::OK {
            bail!("PUT through {base}: {} {}", r.status(), r.text().await?);
        }
        let version = crate::api::etag_version(&r)?;
        let cell = self.cells.get_mut(area).context("unknown cell")?;
        cell.version = Some(version);
        cell.value = value;
        Ok(())
    }

    async fn aggregate(&self, base: &str) -> Result<f64> {
        let r = self
            .client
            .get(format!(
                "{base}/api/v1/analytics?element={}&areas={PROVINCE}&periods={YEAR}",
                self.element
            ))
            .bearer_auth(&self.token)
            .send()
            .await?;
        if r.status() != StatusCode::OK {
            bail!("reading the aggregate through {base}: {}", r.status());
        }
        let cells: Vec<Value> = r.json().await?;
        Ok(cells
            .first()
            .and_then(|c| c["value"].as_f64())
            .unwrap_or(0.0))
    }

    /// Reads through `base` until the aggregate is `want`: (seconds from `acked` to the read
    /// that showed it, stale reads issued after the bound).
    async fn until_visible(
        &self,
        base: &str,
        want: f64,
        acked: Instant,
        bound: Duration,
    ) -> Result<(f64, usize)> {
        let mut stale = 0;
        loop {
            let issued = acked.elapsed();
            let got = self.aggregate(base).await?;
            if (got - want).abs() <= 1e-9 * want.abs().max(1.0) {
                return Ok((acked.elapsed().as_secs_f64(), stale));
            }
            if issued >= bound {
                stale += 1;
            }
            if acked.elapsed() > GIVE_UP {
                bail!("a write acknowledged by A is not visible through B after {GIVE_UP:?}: aggregate {got}, expected {want}");
            }
        }
    }
}

async fn bench(a: &ClusterArgs, url: &str) -> Result<()> {
    let spinner = ProgressBar::new_spinner().with_message("setting up the demo database");
    spinner.enable_steady_tick(Duration::from_millis(120));
    let (element, leaves) = setup(url, a.cells).await?;
    let node_a = Node::start(url)?;
    let node_b = Node::start(url)?;
    spinner.finish_and_clear();
    let client = Client::builder().build()?;
    let token = crate::api::api_token(&client, &node_a.base).await?;
    let mut run = Run {
        client,
        token,
        element,
        cells: leaves
            .iter()
            .map(|l| {
                (
                    l.clone(),
                    Cell {
                        version: None,
                        value: 0.0,
                    },
                )
            })
            .collect(),
    };
    let (a_base, b_base) = (node_a.base.clone(), node_b.base.clone());
    crate::print(&format!(
        "two server processes on one PostgreSQL database: A {a_base}, B {b_base}; element {}, {} leaf areas, year {YEAR}, province {PROVINCE}\n",
        run.element,
        leaves.len()
    ))?;
    let bound = Duration::from_millis(a.bound_ms);
    let pb = ProgressBar::new(a.writes as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} write via A, read via B {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut latencies = Vec::with_capacity(a.writes);
    let mut stale = 0;
    for i in 0..a.writes {
        let area = &leaves[i % leaves.len()];
        // Every write changes the province's sum, so a stale read cannot pass for fresh.
        let value = (i + 1) as f64;
        run.write(&a_base, area, value).await?;
        let acked = Instant::now();
        let (t, s) = run
            .until_visible(&b_base, run.expected(), acked, bound)
            .await?;
        latencies.push(t);
        stale += s;
        pb.inc(1);
    }
    pb.finish_and_clear();

    // Kill A with a write in flight: that write may or may not have committed (it was never
    // acknowledged); every acknowledged one must survive.
    let mut node_a = node_a;
    let in_flight_area = leaves[0].clone();
    let in_flight_value = (a.writes + 1) as f64;
    let in_flight = run.put(&a_base, &in_flight_area, in_flight_value).send();
    let killed = async {
        tokio::time::sleep(Duration::from_millis(1)).await;
        node_a.child.kill()
    };
    let (r, k) = tokio::join!(in_flight, killed);
    k.context("cannot kill A")?;
    let _ = node_a.child.wait();
    let in_flight_acked = matches!(&r, Ok(r) if r.status() == StatusCode::OK);
    if in_flight_acked {
        // Acknowledged before A died: it counts.
        let r = r?;
        let v = crate::api::etag_version(&r)?;
        let cell = run.cells.get_mut(&in_flight_area).context("unknown cell")?;
        cell.version = Some(v);
        cell.value = in_flight_value;
    } else {
        // Unacknowledged: learn from B what the database holds for that cell.
        let r = run
            .client
            .get(run.value_url(&b_base, &in_flight_area))
            .bearer_auth(&run.token)
            .send()
            .await?;
        let v = crate::api::etag_version(&r)?;
        let body: Value = r.json().await?;
        let cell = run.cells.get_mut(&in_flight_area).context("unknown cell")?;
        cell.version = Some(v);
        cell.value = body["value"]["value"].as_f64().unwrap_or(cell.value);
    }
    let killed_at = Instant::now();
    // B goes on serving: the first read after the kill, then writes through B.
    let first_read = run.aggregate(&b_base).await;
    let first_read_ms = killed_at.elapsed().as_secs_f64() * 1e3;
    first_read.context("B stopped serving when A was killed")?;
    let mut after = Vec::with_capacity(a.after_kill);
    for i in 0..a.after_kill {
        let area = &leaves[i % leaves.len()];
        let value = (a.writes + 2 + i) as f64;
        let t = Instant::now();
        run.write(&b_base, area, value).await?;
        after.push(t.elapsed().as_secs_f64());
    }
    // No acknowledged write lost: every cell and the aggregate, read through B.
    let mut lost = 0;
    for (area, cell) in &run.cells {
        let r = run
            .client
            .get(run.value_url(&b_base, area))
            .bearer_auth(&run.token)
            .send()
            .await?;
        let body: Value = r.json().await?;
        if body["value"]["value"].as_f64() != Some(cell.value) {
            lost += 1;
        }
    }
    let (want, got) = (run.expected(), run.aggregate(&b_base).await?);
    drop(node_b);

    latencies.sort_by(f64::total_cmp);
    after.sort_by(f64::total_cmp);
    let q = |v: &[f64], q: f64| crate::api::quantile_ms(v, q);
    let out = format!(
        "write via A → visible via B, {} writes (ms): p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}\n\
         stale reads issued more than {} ms after the acknowledgement: {stale}\n\
         A killed (SIGKILL) with a write in flight (acknowledged: {in_flight_acked}); B's first read after: {first_read_ms:.1} ms\n\
         {} writes via B after the kill (ms): p50 {:.2}  p99 {:.2}\n\
         acknowledged writes lost: {lost} of {} cells; province aggregate via B {got} (expected {want})\n",
        latencies.len(),
        q(&latencies, 0.5),
        q(&latencies, 0.9),
        q(&latencies, 0.99),
        q(&latencies, 1.0),
        a.bound_ms,
        after.len(),
        q(&after, 0.5),
        q(&after, 0.99),
        run.cells.len(),
    );
    crate::print(&out)?;
    if let Some(p) = &a.json {
        let j = json!({
            "writes": latencies.len(),
            "visible_p50_ms": q(&latencies, 0.5),
            "visible_p90_ms": q(&latencies, 0.9),
            "visible_p99_ms": q(&latencies, 0.99),
            "visible_max_ms": q(&latencies, 1.0),
            "bound_ms": a.bound_ms,
            "stale_reads_after_bound": stale,
            "in_flight_acknowledged": in_flight_acked,
            "writes_after_kill": after.len(),
            "lost_acknowledged_writes": lost,
            "aggregate": got,
            "expected": want,
        });
        std::fs::write(p, serde_json::to_string_pretty(&j)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if lost > 0 || (got - want).abs() > 1e-9 * want.abs().max(1.0) {
        bail!("acknowledged writes were lost");
    }
    Ok(())
}
