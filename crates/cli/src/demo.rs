//! `healthplan demo`: set up the demonstration database, then serve it.

use crate::Globals;
use healthplan_app::demo::{self, ACCOUNTS};
use healthplan_app::App;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Only set up the database, do not start the server (for scripts and tests).
    #[arg(long)]
    pub setup_only: bool,
    /// Where the server listens.
    #[arg(long, default_value = "127.0.0.1:8080", env = "HEALTHPLAN_LISTEN")]
    pub listen: String,
    #[command(flatten)]
    pub options: crate::serve::ServerOptions,
}

/// Sets up a working demo database (by default `./healthplan-data/`), says what it did and
/// which accounts to sign in with, then serves it. Safe to run again: what is already there
/// is left unchanged.
pub async fn run(mut a: DemoArgs, g: &Globals) -> anyhow::Result<()> {
    a.options.config_file = g.config_file.clone();
    let fresh = g.database_url.is_none() && !g.data_dir.exists();
    let store = crate::store::open(g).await?;
    let mut out = format!(
        "healthplan demo — {} database {}{}\n",
        store.backend(),
        store.location(),
        if fresh { " (created)" } else { "" }
    );
    let app = App::open(store).await?;
    let report = demo::setup(&app, &crate::store::actor()).await?;
    for line in &report.lines {
        out += line;
        out += "\n";
    }
    out += &healthplan_app::areas_csv::tree(&app.store().list_areas().await?);
    out += &format!(
        "plans stored: {}\n\nDemo accounts (演示账号; for this machine only):\n",
        report.plans.len()
    );
    for acc in ACCOUNTS {
        out += &format!(
            "  {:<20} {:<26} {:<8} {} {}\n",
            acc.username,
            acc.password,
            acc.role.as_str(),
            acc.area,
            acc.departments.join("、")
        );
    }
    crate::store::print(&out)?;
    if a.setup_only {
        return Ok(());
    }
    crate::serve::serve(app, &a.listen, &a.options).await
}
