//! The `healthplan` binary: argument parsing and wiring only; the work lives in the crates.

mod area;
mod audit;
mod backup;
mod config;
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
    /// Configuration file; every flag can be set there (default: /etc/healthplan/healthplan.toml
    /// when it exists). Flags and environment variables win over it.
    #[arg(
        long = "config",
        global = true,
        env = "HEALTHPLAN_CONFIG",
        value_name = "FILE"
    )]
    pub config_file: Option<PathBuf>,
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
    /// Write a backup (database, settings, evidence) while the server keeps serving.
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty data dir or database.
    Restore(backup::RestoreArgs),
    /// The configuration file: check it.
    #[command(subcommand)]
    Config(config::ConfigCmd),
    /// The audit log: verify its hash chain.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
}

/// Parses the command line over the configuration file's settings.
fn parse_from(
    args: Vec<std::ffi::OsString>,
    file: Option<&std::path::Path>,
) -> anyhow::Result<Cli> {
    use clap::{CommandFactory, FromArgMatches};
    let mut cmd = Cli::command();
    if let Some(path) = file {
        cmd = config::apply(cmd, path)?;
    }
    let matches = cmd.try_get_matches_from(args).unwrap_or_else(|e| e.exit());
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    cli.globals.config_file = file.map(std::path::Path::to_path_buf);
    Ok(cli)
}

fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let file = config::locate(&args);
    let cli = match parse_from(args, file.as_deref()) {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
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
            Command::Backup(a) => backup::backup(a, &cli.globals).await,
            Command::Restore(a) => backup::restore(a, &cli.globals).await,
            Command::Config(c) => config::run(c, &cli.globals).await,
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
