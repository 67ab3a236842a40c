//! `healthplan-bench startup-data` and `startup`: how long `healthplan serve` takes to be ready
//! on a database holding millions of values. `startup-data` makes such a database: the
//! bundled area tree with synthetic towns and villages under each district, Sum elements, and
//! monthly values bulk-inserted straight into `data_values` (COPY on PostgreSQL, multi-row
//! INSERTs in large transactions on SQLite; not through the app, which would audit each).
//! `startup` runs the real `healthplan` binary on it and times from spawning it to the first
//! `200` from `/readyz`, which answers once the analytics engine is built.

use anyhow::{bail, Context, Result};
use clap::Args;
use healthplan_app::App;
use healthplan_core::{Aggregation, Area, AreaCode, AreaLevel, DataElement, ValueType};
use healthplan_store::{Store, StoreConfig};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct DataArgs {
    /// Values to insert (rounded up to whole element × village × month blocks).
    #[arg(long, default_value_t = 10_000_000)]
    pub values: u64,
    /// Towns made under each district, and villages under each town.
    #[arg(long, default_value_t = 20)]
    pub towns: u32,
    #[arg(long, default_value_t = 10)]
    pub villages: u32,
    /// Years of monthly values (ending 2024).
    #[arg(long, default_value_t = 10)]
    pub years: i32,
    /// A SQLite data directory to fill (empty or new) …
    #[arg(long, conflicts_with = "database_url")]
    pub data_dir: Option<PathBuf>,
    /// … or a PostgreSQL database (empty or new).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Args)]
pub struct StartupArgs {
    /// The `healthplan` binary to time (default: beside this one).
    #[arg(long)]
    pub healthplan: Option<PathBuf>,
    #[arg(long, conflicts_with = "database_url")]
    pub data_dir: Option<PathBuf>,
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Start-ups timed.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

fn config(data_dir: &Option<PathBuf>, url: &Option<String>) -> Result<StoreConfig> {
    match (data_dir, url) {
        (Some(d), None) => Ok(StoreConfig::new(d, None)),
        (None, Some(u)) => Ok(StoreConfig::new(".", Some(u.clone()))),
        _ => bail!("give --data-dir (SQLite) or --database-url (PostgreSQL)"),
    }
}

/// The bundled areas plus `towns` × `villages` under each district; the villages (leaves).
fn area_tree(towns: u32, villages: u32) -> Result<(Vec<Area>, Vec<AreaCode>)> {
    let mut areas = healthplan_app::areas_csv::parse_areas_csv(
        "areas.csv",
        healthplan_app::demo::BUNDLED_AREAS_CSV,
        &[],
    )?;
    let counties: Vec<Area> = areas
        .iter()
        .filter(|a| a.level == AreaLevel::County)
        .cloned()
        .collect();
    let mut leaves = Vec::new();
    for county in &counties {
        // Town numbers above the bundled streets' (001–006).
        for t in 0..towns {
            let code = AreaCode::parse(&format!("{}{:03}", county.code, 100 + t))?;
            let town = Area::new(
                code,
                &format!("{}镇{t}", county.name),
                AreaLevel::Town,
                Some(county),
            )?;
            for v in 0..villages {
                let code = AreaCode::parse(&format!("{}{:03}", town.code, 1 + v))?;
                let village = Area::new(
                    code.clone(),
                    &format!("{}村{v}", town.name),
                    AreaLevel::Village,
                    Some(&town),
                )?;
                leaves.push(code);
                areas.push(village);
            }
            areas.push(town);
        }
    }
    // Parents before children.
    areas.sort_by_key(|a| (a.level as u8, a.code.to_string()));
    Ok((areas, leaves))
}

pub async fn data(a: &DataArgs) -> Result<()> {
    let config = config(&a.data_dir, &a.database_url)?;
    let store = Store::open(&config).await?;
    let app = App::open(store).await?;
    let caps = app.local_caps("bench");
    let (areas, leaves) = area_tree(a.towns, a.villages)?;
    app.import_areas(
        &caps.registry_admin().context("no registry rights")?,
        &areas,
    )
    .await?;
    let months = (a.years * 12) as u64;
    let per_element = leaves.len() as u64 * months;
    let n_elements = a.values.div_ceil(per_element).max(1);
    let elements: Vec<DataElement> = (0..n_elements)
        .map(|i| {
            DataElement::new(
                &format!("bench_e{i:04}"),
                &format!("基准指标{i}"),
                ValueType::Number,
                Aggregation::Sum,
            )
        })
        .collect::<std::result::Result<_, _>>()?;
    let caps = app.local_caps("bench");
    app.store()
        .put_data_elements(
            &caps.registry_admin().context("no registry rights")?,
            &elements,
        )
        .await?;
    let total = n_elements * per_element;
    crate::print(&format!(
        "{} areas ({} villages), {n_elements} elements × {months} months: {total} values into {}\n",
        areas.len(),
        leaves.len(),
        app.store().location()
    ))?;
    let pb = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} values {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let first_year = 2025 - a.years;
    // Rows as (element, area, period, value), in element-major order.
    let rows = elements.iter().flat_map(|e| {
        leaves.iter().flat_map(move |l| {
            (0..months).map(move |m| {
                let year = first_year + (m / 12) as i32;
                let period = format!("{year}{:02}", m % 12 + 1);
                // Deterministic, varied, whole numbers.
                let v = ((m * 7919 + l.as_str().len() as u64 * 31) % 1000) as f64;
                (e.code.clone(), l.to_string(), period, v)
            })
        })
    });
    let t = Instant::now();
    let store = app.store().clone();
    healthplan_store::testing::bulk_insert_numbers(&store, rows, &mut |n| pb.set_position(n))
        .await?;
    pb.finish_and_clear();
    crate::print(&format!(
        "inserted {total} values in {:.1} s\n",
        t.elapsed().as_secs_f64()
    ))?;
    store.close().await;
    Ok(())
}

pub async fn startup(a: &StartupArgs) -> Result<()> {
    let exe = match &a.healthplan {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("no directory of this executable")?
            .join("healthplan"),
    };
    let mut times = Vec::new();
    for run in 0..a.runs {
        // A free port: bound, read, released for the server.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut cmd = std::process::Command::new(&exe);
        match (&a.data_dir, &a.database_url) {
            (Some(d), None) => {
                cmd.arg("--data-dir").arg(d);
            }
            (None, Some(u)) => {
                cmd.env("DATABASE_URL", u);
            }
            _ => bail!("give --data-dir (SQLite) or --database-url (PostgreSQL)"),
        }
        let t = Instant::now();
        let mut child = cmd
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .with_context(|| format!("cannot run {}", exe.display()))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        let url = format!("http://127.0.0.1:{port}/readyz");
        let ready = loop {
            if let Ok(r) = client.get(&url).send().await {
                if r.status().is_success() {
                    break t.elapsed();
                }
            }
            if let Some(status) = child.try_wait()? {
                bail!("healthplan serve exited ({status}) before it was ready");
            }
            if t.elapsed() > Duration::from_secs(600) {
                let _ = child.kill();
                bail!("not ready after 10 minutes");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let rss = peak_rss_kib(child.id());
        let _ = child.kill();
        let _ = child.wait();
        crate::print(&format!(
            "run {}: ready after {:.2} s (peak RSS {})\n",
            run + 1,
            ready.as_secs_f64(),
            rss.map_or("?".into(), |k| format!("{} MiB", k / 1024))
        ))?;
        times.push(ready.as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    crate::print(&format!(
        "start-up to /readyz: median {:.2} s, best {:.2} s, worst {:.2} s\n",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    ))?;
    Ok(())
}

/// A process's peak resident memory (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
