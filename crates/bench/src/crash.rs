//! `healthplan-bench crash`: kill -9 the real server while it writes, then check nothing
//! acknowledged was lost. Each round starts `healthplan serve` on the same database, lets
//! writers PUT their own values over and over (If-Match versions) while an importer posts
//! CSV files of new values, and kills the process with SIGKILL after a random moment. After
//! each restart it checks, against the database:
//!
//! - every acknowledged write is stored (its version or a later one; the same value at the
//!   same version) and has its audit row (the same version and value);
//! - every acknowledged import is stored and audited value by value, and the import in flight
//!   at the kill is stored wholly or not at all;
//! - `PRAGMA integrity_check` (SQLite) or a full read of every table (PostgreSQL) and
//!   `healthplan audit verify` (the hash chain) pass;
//! - the served aggregates (the restarted engine plus one more write per writer) equal the
//!   sums of the stored values.
//!
//! It prints the figures and exits non-zero on the first broken promise.

use crate::api::{api_token, etag_version, target, PROVINCE, YEAR};
use anyhow::{bail, Context, Result};
use clap::Args;
use healthplan_app::App;
use healthplan_core::{AreaCode, Period, Value as CoreValue};
use healthplan_store::testing::TestDatabase;
use healthplan_store::{AuditFilter, DataValueFilter, Store, StoreConfig, ValueKey};
use reqwest::header::IF_MATCH;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct CrashArgs {
    /// Kill-and-restart rounds.
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
    /// Concurrent HTTP writers (each PUTs its own value).
    #[arg(long, default_value_t = 8)]
    pub writers: usize,
    /// Values per imported CSV file.
    #[arg(long, default_value_t = 100)]
    pub import_size: usize,
    /// The kill comes after a random time between these (milliseconds).
    #[arg(long, default_value_t = 1000)]
    pub min_ms: u64,
    #[arg(long, default_value_t = 4000)]
    pub max_ms: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The `healthplan` binary (default: the one next to this program).
    #[arg(long)]
    pub healthplan: Option<PathBuf>,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// A PostgreSQL server to run on (a scratch database is created and dropped); the
    /// default is a SQLite file in a temporary directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

pub async fn run(a: &CrashArgs) -> Result<()> {
    if a.min_ms > a.max_ms || a.writers == 0 || a.rounds == 0 || a.import_size == 0 {
        bail!("need --rounds, --writers, --import-size ≥ 1 and --min-ms ≤ --max-ms");
    }
    let bin = match &a.healthplan {
        Some(b) => b.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("no directory of this program")?
            .join("healthplan"),
    };
    if !bin.exists() {
        bail!(
            "{} not found: build it (cargo build -p healthplan-cli) or give --healthplan",
            bin.display()
        );
    }
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let pg = match &a.database_url {
        Some(server) => Some(
            TestDatabase::create(server)
                .await
                .context("cannot create a scratch database on the PostgreSQL server")?,
        ),
        None => None,
    };
    let h = Harness {
        bin,
        dir: dir.path().to_path_buf(),
        url: pg.as_ref().map(|db| db.url.clone()),
    };
    let result = h.run(a).await;
    if let Some(db) = pg {
        db.remove()
            .await
            .context("cannot drop the scratch database")?;
    }
    result
}

struct Harness {
    bin: PathBuf,
    dir: PathBuf,
    url: Option<String>,
}

/// A running `healthplan serve`.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A writer's acknowledged saves of its cell: (version, value).
type Acks = Vec<(i64, f64)>;

/// One posted CSV file: its cells and values, and whether the server acknowledged it.
struct Import {
    cells: Vec<(ValueKey, f64)>,
    acked: bool,
}

/// Everything acknowledged so far, and what was checked.
#[derive(Default)]
struct Tally {
    acked_writes: usize,
    acked_imports: usize,
    acked_import_values: usize,
    in_flight_imports_stored: usize,
    in_flight_imports_absent: usize,
    aggregates_checked: usize,
    audit_rows: usize,
}

impl Harness {
    fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--data-dir").arg(&self.dir);
        c.env_remove("DATABASE_URL").env_remove("HEALTHPLAN_CONFIG");
        if let Some(u) = &self.url {
            c.env("DATABASE_URL", u);
        }
        c
    }

    fn config(&self) -> StoreConfig {
        StoreConfig::new(&self.dir, self.url.clone())
    }

    /// Starts the server on a free port and waits until it answers `/readyz`.
    async fn start(&self, client: &Client) -> Result<Server> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))?;
        let mut child = self
            .command()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the address from the first line, then drains the rest.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(i) = line.find("on http://") {
                        let rest = &line[i + 3..];
                        let end = rest[7..].find('/').map_or(rest.len(), |e| e + 7);
                        let _ = tx.send(rest[..end].to_string());
                        sent = true;
                    }
                }
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(base) = rx.try_recv() {
                server.base = base;
                break;
            }
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "the server exited ({status}); see {}",
                    self.dir.join("server.log").display()
                );
            }
            if Instant::now() > deadline {
                bail!("the server did not start within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        loop {
            let r = client.get(format!("{}/readyz", server.base)).send().await;
            if r.is_ok_and(|r| r.status() == StatusCode::OK) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!("the server was not ready within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn run(&self, a: &CrashArgs) -> Result<()> {
        let t0 = Instant::now();
        let out = self.command().args(["demo", "--setup-only"]).output()?;
        if !out.status.success() {
            bail!(
                "healthplan demo --setup-only failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let (backend, element, leaves) = {
            let store = Store::open(&self.config()).await?;
            let backend = store.backend().to_string();
            let app = App::open(store).await?;
            let (element, leaves) = target(&app).await?;
            app.store().close().await;
            (backend, element, leaves)
        };
        let client = Client::builder().timeout(Duration::from_secs(30)).build()?;
        let cells: Vec<ValueKey> = (0..a.writers)
            .map(|w| {
                // 1989 and before, after the imports' years (1950–1979).
                let year = YEAR - 30 - (w / leaves.len()) as i32;
                ValueKey::new(
                    &element,
                    leaves[w % leaves.len()].clone(),
                    Period::Year(year),
                )
            })
            .collect();
        let mut acks: Vec<Acks> = vec![Vec::new(); a.writers];
        let mut imports: Vec<Import> = Vec::new();
        let mut tally = Tally::default();
        let mut rng = a.seed.max(1);
        let mut token = String::new();
        let mut checked_imports = 0;
        println!(
            "{backend}: {} rounds, {} writers, imports of {} values; element {element}, {} leaves under {PROVINCE}",
            a.rounds,
            a.writers,
            a.import_size,
            leaves.len()
        );
        for round in 0..=a.rounds {
            let server = self.start(&client).await?;
            if round == 0 {
                token = api_token(&client, &server.base).await?;
            }
            // After a kill: what was acknowledged must be there.
            self.check(&acks, &cells, &imports, checked_imports, &mut tally)
                .await?;
            checked_imports = imports.len();
            // One more write per writer through the restarted engine, then the aggregates.
            let versions = self.versions(&client, &server, &token, &cells).await?;
            for (w, cell) in cells.iter().enumerate() {
                let v = (round * 1_000_000 + 999_999) as f64;
                let got = put(&client, &server.base, &token, cell, versions[w], v).await?;
                acks[w].push((got, v));
                tally.acked_writes += 1;
            }
            tally.aggregates_checked += self
                .aggregates(&client, &server, &token, &element, &cells, &imports)
                .await?;
            if round == a.rounds {
                // Killed too; the last check covers the writes made since the last restart.
                drop(server);
                self.check(&acks, &cells, &imports, checked_imports, &mut tally)
                    .await?;
                break;
            }
            let versions = self.versions(&client, &server, &token, &cells).await?;
            // Writers and an importer run; the kill comes at a random moment.
            let dead = Arc::new(AtomicBool::new(false));
            let mut tasks = Vec::new();
            for (w, cell) in cells.iter().enumerate() {
                let (client, base, token, cell, dead) = (
                    client.clone(),
                    server.base.clone(),
                    token.clone(),
                    cell.clone(),
                    dead.clone(),
                );
                let start = versions[w];
                tasks.push(tokio::spawn(async move {
                    let mut got = Vec::new();
                    let mut version = start;
                    let mut i = 0;
                    while !dead.load(Ordering::SeqCst) {
                        i += 1;
                        let v = (round * 1_000_000 + i) as f64;
                        match put(&client, &base, &token, &cell, version, v).await {
                            Ok(n) => {
                                got.push((n, v));
                                version = Some(n);
                            }
                            // The kill: the connection drops, the answer never comes.
                            Err(_) if dead.load(Ordering::SeqCst) => break,
                            Err(e) => return Err(e),
                        }
                    }
                    Ok::<_, anyhow::Error>(got)
                }));
            }
            let importer = {
                let (client, base, token, dead) = (
                    client.clone(),
                    server.base.clone(),
                    token.clone(),
                    dead.clone(),
                );
                let (element, leaves) = (element.clone(), leaves.clone());
                let first = imports.len();
                let size = a.import_size;
                tokio::spawn(async move {
                    let mut done: Vec<Import> = Vec::new();
                    let mut n = first;
                    while !dead.load(Ordering::SeqCst) {
                        let cells = import_cells(&element, &leaves, n, size)?;
                        let acked = match post_csv(&client, &base, &token, &cells).await {
                            Ok(()) => true,
                            Err(_) if dead.load(Ordering::SeqCst) => false,
                            Err(e) => return Err(e),
                        };
                        done.push(Import { cells, acked });
                        n += 1;
                    }
                    Ok::<_, anyhow::Error>(done)
                })
            };
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let wait = a.min_ms + (rng >> 33) % (a.max_ms - a.min_ms + 1);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            dead.store(true, Ordering::SeqCst);
            drop(server); // SIGKILL, then reaped
            for (w, t) in tasks.into_iter().enumerate() {
                let got = t.await??;
                tally.acked_writes += got.len();
                acks[w].extend(got);
            }
            for i in importer.await?? {
                if i.acked {
                    tally.acked_imports += 1;
                    tally.acked_import_values += i.cells.len();
                }
                imports.push(i);
            }
        }
        let lost = 0; // every check above passed, or the run stopped there
        let text = format!(
            "{backend}: {} rounds of kill -9; {} acknowledged writes, {lost} lost, every one audited ({} audit rows checked); {} imports acknowledged ({} values) all stored; in-flight imports at the kill: {} stored whole, {} absent; integrity and audit chain ok after every restart; {} aggregates equal to the stored values; {:.0} s\n",
            a.rounds,
            tally.acked_writes,
            tally.audit_rows,
            tally.acked_imports,
            tally.acked_import_values,
            tally.in_flight_imports_stored,
            tally.in_flight_imports_absent,
            tally.aggregates_checked,
            t0.elapsed().as_secs_f64()
        );
        crate::print(&text)?;
        if let Some(p) = &a.json {
            let j = json!({
                "backend": backend, "rounds": a.rounds, "writers": a.writers,
                "acked_writes": tally.acked_writes, "lost": lost,
                "audit_rows_checked": tally.audit_rows,
                "acked_imports": tally.acked_imports,
                "acked_import_values": tally.acked_import_values,
                "in_flight_imports_stored": tally.in_flight_imports_stored,
                "in_flight_imports_absent": tally.in_flight_imports_absent,
                "aggregates_checked": tally.aggregates_checked,
            });
            std::fs::write(p, serde_json::to_string_pretty(&j)?)
                .with_context(|| format!("writing {}", p.display()))?;
        }
        Ok(())
    }

    /// Each writer cell's stored version (`None` before its first save).
    async fn versions(
        &self,
        client: &Client,
        server: &Server,
        token: &str,
        cells: &[ValueKey],
    ) -> Result<Vec<Option<i64>>> {
        let mut out = Vec::new();
        for c in cells {
            let r = client
                .get(value_url(&server.base, c))
                .bearer_auth(token)
                .send()
                .await?;
            out.push(match r.status() {
                StatusCode::NOT_FOUND => None,
                StatusCode::OK => Some(etag_version(&r)?),
                s => bail!("GET {}: {s}", value_url(&server.base, c)),
            });
        }
        Ok(out)
    }

    /// The database after a restart: acknowledged writes and imports stored and audited,
    /// the in-flight import whole or absent, integrity and the audit chain.
    async fn check(
        &self,
        acks: &[Acks],
        cells: &[ValueKey],
        imports: &[Import],
        fresh: usize,
        tally: &mut Tally,
    ) -> Result<()> {
        let store = Store::open(&self.config()).await?;
        let result = self
            .check_in(&store, acks, cells, imports, fresh, tally)
            .await;
        store.close().await;
        result?;
        let out = self.command().args(["audit", "verify"]).output()?;
        if !out.status.success() {
            bail!(
                "healthplan audit verify failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// `fresh`: the first import not checked before (the in-flight one is counted once).
    async fn check_in(
        &self,
        store: &Store,
        acks: &[Acks],
        cells: &[ValueKey],
        imports: &[Import],
        fresh: usize,
        tally: &mut Tally,
    ) -> Result<()> {
        let problems = store.integrity_check().await?;
        if !problems.is_empty() {
            bail!("integrity check: {}", problems.join("; "));
        }
        // Every data-value audit row: key → (version, value) of each `after`.
        let mut audited: HashMap<String, Vec<(i64, Value)>> = HashMap::new();
        let mut after_id = None;
        loop {
            let page = store
                .audit_log(&AuditFilter {
                    entity: Some("data_value".into()),
                    after_id,
                    limit: Some(50_000),
                    ..Default::default()
                })
                .await?;
            let Some(last) = page.last() else { break };
            after_id = Some(last.id);
            for e in &page {
                if let Some(after) = &e.after {
                    audited.entry(e.entity_key.clone()).or_default().push((
                        after["version"].as_i64().unwrap_or(-1),
                        after["value"].clone(),
                    ));
                }
            }
        }
        let mut checked = 0;
        let number =
            |v: f64| serde_json::to_value(CoreValue::Number { value: v }).unwrap_or_default();
        let scope = healthplan_access::Caps::local(
            healthplan_app::load_policy(store).await?,
            "crash-check",
        )
        .reader();
        for (cell, acked) in cells.iter().zip(acks) {
            let Some(&(version, value)) = acked.last() else {
                continue;
            };
            let key = cell.to_string();
            let stored = store.data_value(&scope, cell).await?;
            let Some(stored) = stored else {
                bail!("LOST: {key} was acknowledged at version {version} and is not stored");
            };
            if stored.version < version
                || (stored.version == version && stored.value != (CoreValue::Number { value }))
            {
                bail!(
                    "LOST: {key} acknowledged at version {version} = {value}, stored version {} = {:?}",
                    stored.version,
                    stored.value
                );
            }
            let rows = audited.get(&key).map(Vec::as_slice).unwrap_or_default();
            for (version, value) in acked {
                if !rows.contains(&(*version, number(*value))) {
                    bail!("UNAUDITED: {key} version {version} = {value} has no audit row");
                }
            }
            checked += acked.len();
        }
        // Cumulative: the last check covers every acknowledged write.
        tally.audit_rows = checked;
        for (n, import) in imports.iter().enumerate() {
            let keys: Vec<ValueKey> = import.cells.iter().map(|(k, _)| k.clone()).collect();
            let stored: HashMap<String, CoreValue> = store
                .data_values_at(&scope, &keys)
                .await?
                .into_iter()
                .map(|v| (ValueKey::of(&v).to_string(), v.value))
                .collect();
            let mut present = 0;
            for (key, value) in &import.cells {
                let stored = stored.get(&key.to_string());
                let same = stored.is_some_and(|s| *s == CoreValue::Number { value: *value });
                let audit = audited
                    .get(&key.to_string())
                    .is_some_and(|rows| rows.iter().any(|(_, v)| *v == number(*value)));
                if same {
                    present += 1;
                    if !audit {
                        bail!("UNAUDITED: import {n}: {key} = {value} has no audit row");
                    }
                } else if let Some(s) = stored {
                    bail!("import {n}: {key} holds {s:?}, not {value}");
                }
            }
            if import.acked && present != import.cells.len() {
                bail!(
                    "LOST: import {n} was acknowledged; {present} of {} values are stored",
                    import.cells.len()
                );
            }
            if !import.acked && present != 0 && present != import.cells.len() {
                bail!(
                    "import {n} (in flight at the kill) is half stored: {present} of {}",
                    import.cells.len()
                );
            }
            if !import.acked && n >= fresh {
                if present == 0 {
                    tally.in_flight_imports_absent += 1;
                } else {
                    tally.in_flight_imports_stored += 1;
                }
            }
        }
        Ok(())
    }

    /// Served yearly aggregates of the province against sums of the stored values, for each
    /// year the writers and imports wrote; how many were compared.
    async fn aggregates(
        &self,
        client: &Client,
        server: &Server,
        token: &str,
        element: &str,
        cells: &[ValueKey],
        imports: &[Import],
    ) -> Result<usize> {
        let store = Store::open(&self.config()).await?;
        let province = AreaCode::parse(PROVINCE)?;
        let result = async {
            let scope = healthplan_access::Caps::local(
                healthplan_app::load_policy(&store).await?,
                "crash-check",
            )
            .reader();
            let values = store
                .list_data_values(
                    &scope,
                    &DataValueFilter {
                        element: Some(element.to_string()),
                        under: Some(province.clone()),
                        ..Default::default()
                    },
                )
                .await?;
            let mut years: Vec<i32> = cells.iter().map(|c| c.period.year()).collect();
            years.extend(imports.iter().filter_map(|i| i.cells.first()).map(|(k, _)| k.period.year()));
            years.sort();
            years.dedup();
            for &y in &years {
                let want: f64 = values
                    .iter()
                    .filter(|v| v.period.year() == y && matches!(v.period, Period::Year(_) | Period::Day(..)))
                    .filter_map(|v| match v.value {
                        CoreValue::Number { value } => Some(value),
                        _ => None,
                    })
                    .sum();
                let r = client
                    .get(format!(
                        "{}/api/v1/analytics?element={element}&areas={PROVINCE}&periods={y}",
                        server.base
                    ))
                    .bearer_auth(token)
                    .send()
                    .await?;
                if r.status() != StatusCode::OK {
                    bail!("GET analytics {y}: {}", r.status());
                }
                let cells: Vec<Value> = r.json().await?;
                let got = cells
                    .first()
                    .and_then(|c| c["value"].as_f64())
                    .unwrap_or(0.0);
                if (got - want).abs() > 1e-6 * want.abs().max(1.0) {
                    bail!("the served {PROVINCE} {y} aggregate is {got}; the stored values sum to {want}");
                }
            }
            Ok::<_, anyhow::Error>(years.len())
        }
        .await;
        store.close().await;
        result
    }
}

fn value_url(base: &str, k: &ValueKey) -> String {
    format!("{base}/api/v1/values/{}/{}/{}", k.element, k.area, k.period)
}

/// One PUT; the acknowledged version. Anything but 200 with the next version is an error.
async fn put(
    client: &Client,
    base: &str,
    token: &str,
    cell: &ValueKey,
    version: Option<i64>,
    value: f64,
) -> Result<i64> {
    let mut req = client
        .put(value_url(base, cell))
        .bearer_auth(token)
        .json(&json!({ "value": value }));
    if let Some(v) = version {
        req = req.header(IF_MATCH, format!("\"{v}\""));
    }
    let r = req.send().await?;
    let status = r.status();
    if status != StatusCode::OK {
        bail!(
            "PUT {cell}: {status} {}",
            r.text().await.unwrap_or_default()
        );
    }
    let got = etag_version(&r)?;
    r.bytes().await?;
    let want = version.map_or(1, |v| v + 1);
    if got != want {
        bail!("PUT {cell}: version {got}, expected {want}");
    }
    Ok(got)
}

/// The cells of import `n`: its own run of days from 1950 on (before the writers' years),
/// over the leaves.
fn import_cells(
    element: &str,
    leaves: &[AreaCode],
    n: usize,
    size: usize,
) -> Result<Vec<(ValueKey, f64)>> {
    let days = size.div_ceil(leaves.len());
    let mut out = Vec::with_capacity(size);
    for j in 0..size {
        let day = n * days + j / leaves.len();
        let (year, day) = (1950 + (day / 365) as i32, day % 365);
        if year >= 1980 {
            bail!("import {n}: out of days before 1980 (use a smaller --import-size)");
        }
        let period: Period = crate::write::day_string(year, day).parse()?;
        let leaf = leaves[j % leaves.len()].clone();
        out.push((
            ValueKey::new(element, leaf, period),
            (n * 1000 + j % 1000 + 1) as f64,
        ));
    }
    Ok(out)
}

/// Posts the cells as a CSV import (the administrator's bulk load).
async fn post_csv(
    client: &Client,
    base: &str,
    token: &str,
    cells: &[(ValueKey, f64)],
) -> Result<()> {
    // Each import's values jump from the day before; the comment confirms the jump, as an
    // office confirms a real one.
    let mut csv = String::from("element,area_code,period,value,comment\n");
    for (k, v) in cells {
        csv += &format!("{},{},{},{v},crash harness\n", k.element, k.area, k.period);
    }
    let r = client
        .post(format!("{base}/api/v1/exchange/values?format=csv"))
        .bearer_auth(token)
        .body(csv)
        .send()
        .await?;
    let status = r.status();
    let body = r.text().await?;
    if status != StatusCode::OK {
        bail!("import: {status} {body}");
    }
    Ok(())
}
