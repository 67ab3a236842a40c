//! `healthplan-bench`: the benchmarks, kept apart from the shipped `healthplan` binary. Each
//! subcommand prints its figures (and writes them as JSON with `--json`); none asserts a
//! timing. `bench/README.md` describes what each measures and the figures of record.

mod api;
mod cluster;
mod crash;
mod detect;
mod engine;
mod load;
mod pages;
mod serve;
mod startup;
mod write;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "healthplan-bench",
    version,
    about = "Benchmarks of healthplan: the analytics engine, the outbreak detectors, the API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a synthetic province as CSV files.
    Gen(engine::GenArgs),
    /// Load generated files, time the full build, the workload and updates; print checksums.
    Run(engine::RunArgs),
    /// The XL run: generate ~1 B values in memory (no files), time the build, report memory.
    Xl(engine::XlArgs),
    /// Outbreak detectors on synthetic daily surveillance counts: accuracy and speed.
    Detect(detect::DetectArgs),
    /// Over HTTP: PUT a value, read the province's yearly aggregate back; latency of each.
    Api(api::ApiArgs),
    /// Every page × demo role: p50/p95/max server time.
    Pages(pages::PagesArgs),
    /// Mixed read/write load over HTTP: per-endpoint throughput, latency, errors, memory.
    Load(load::LoadArgs),
    /// Over HTTP: single-value PUTs from concurrent clients, then batches; writes per second.
    Write(write::WriteArgs),
    /// kill -9 the server during concurrent writes and imports; check nothing acknowledged
    /// was lost, everything is audited and intact after each restart.
    Crash(crash::CrashArgs),
    /// Two server processes on one PostgreSQL: write via A, read via B; kill A mid-run.
    Cluster(cluster::ClusterArgs),
    /// A database with millions of values for `startup` (bulk-inserted straight into SQL).
    StartupData(startup::DataArgs),
    /// Time `healthplan serve` from spawn to a ready `/readyz` on a database.
    Startup(startup::StartupArgs),
    /// One server process of `cluster` (started by it).
    #[command(hide = true)]
    ClusterNode(cluster::NodeArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Gen(a) => engine::gen(&a),
        Command::Run(a) => engine::run_files(&a),
        Command::Xl(a) => engine::xl(&a),
        Command::Detect(a) => detect::run(&a),
        Command::Api(a) => runtime().and_then(|rt| rt.block_on(api::run(&a))),
        Command::Pages(a) => runtime().and_then(|rt| rt.block_on(pages::run(&a))),
        Command::Load(a) => runtime().and_then(|rt| rt.block_on(load::run(&a))),
        Command::Write(a) => runtime().and_then(|rt| rt.block_on(write::run(&a))),
        Command::Crash(a) => runtime().and_then(|rt| rt.block_on(crash::run(&a))),
        Command::Cluster(a) => runtime().and_then(|rt| rt.block_on(cluster::run(&a))),
        Command::StartupData(a) => runtime().and_then(|rt| rt.block_on(startup::data(&a))),
        Command::Startup(a) => runtime().and_then(|rt| rt.block_on(startup::startup(&a))),
        Command::ClusterNode(a) => runtime().and_then(|rt| rt.block_on(cluster::node(&a))),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
}

/// Prints to stdout; a closed pipe (`| head`) ends the output quietly.
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
