//! The `healthplan` binary: argument parsing and wiring only; the work lives in the crates.

mod area;
mod audit;
mod csvin;
mod data;
mod demo;
mod evaluate;
mod exchange;
mod import;
mod plan;
mod report;
mod serve;
mod store;
mod user;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "healthplan",
    version,
    about = "Run a Healthy-X action plan: import, collect, evaluate, report"
)]
struct Cli {
    #[command(flatten)]
    globals: Globals,
    #[command(subcommand)]
    command: Command,
}

/// Options every command honours.
#[derive(clap::Args, Clone, Debug)]
pub struct Globals {
    /// Where the embedded SQLite database and files live.
    #[arg(
        long,
        global = true,
        env = "HEALTHPLAN_DATA_DIR",
        default_value = "healthplan-data"
    )]
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL instead of the embedded SQLite file.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Plans: import a document, load/export interchange JSON, list.
    #[command(subcommand)]
    Plan(plan::PlanCmd),
    /// Areas: import the administrative tree.
    #[command(subcommand)]
    Area(area::AreaCmd),
    /// Reported values: import and export files, collection templates, aggregates.
    #[command(subcommand)]
    Data(data::DataCmd),
    /// Set up ./healthplan-data with the bundled areas, plans, accounts and demo data, then
    /// serve it.
    Demo(demo::DemoArgs),
    /// Serve the web pages and the API.
    Serve(serve::ServeArgs),
    /// Accounts: add, list, grant, disable, enable, password, token.
    #[command(subcommand)]
    User(user::UserCmd),
    /// Evaluate indicator progress against a plan's targets.
    Evaluate(evaluate::EvaluateArgs),
    /// Score areas and lead departments (考核).
    Assess(evaluate::AssessArgs),
    /// Compare a child plan's targets with its parent's.
    Align(evaluate::AlignArgs),
    /// Write the annual monitoring and evaluation report (年度监测评估报告): DOCX, HTML or PDF.
    Report(report::ReportArgs),
    /// Export values, evaluation results or the assessment working as XLSX.
    Export(report::ExportArgs),
    /// The audit log: verify its hash chain.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = rt.block_on(async {
        match cli.command {
            Command::Plan(c) => plan::run(c, &cli.globals).await,
            Command::Area(c) => area::run(c, &cli.globals).await,
            Command::Data(c) => data::run(c, &cli.globals).await,
            Command::Demo(a) => demo::run(a, &cli.globals).await,
            Command::Serve(a) => serve::run(a, &cli.globals).await,
            Command::User(c) => user::run(c, &cli.globals).await,
            Command::Evaluate(a) => evaluate::evaluate(a, &cli.globals).await,
            Command::Assess(a) => evaluate::assess(a, &cli.globals).await,
            Command::Align(a) => evaluate::align(a, &cli.globals).await,
            Command::Report(a) => report::report(a, &cli.globals).await,
            Command::Export(a) => report::export(a, &cli.globals).await,
            Command::Audit(c) => audit::run(c, &cli.globals).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
