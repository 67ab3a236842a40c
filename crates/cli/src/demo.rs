use crate::area::{describe, parse_areas_csv, tree, BUNDLED_AREAS_CSV};
use crate::Globals;

#[derive(clap::Args)]
pub struct DemoArgs {}

/// Sets up a working demo database (by default `./healthplan-data/`) and says what it did.
/// Safe to run again: what is already there is left unchanged.
pub async fn run(_a: DemoArgs, g: &Globals) -> anyhow::Result<()> {
    let fresh = g.database_url.is_none() && !g.data_dir.exists();
    let store = crate::store::open(g).await?;
    let mut out = format!(
        "healthplan demo — {} database {}{}\n",
        store.backend(),
        store.location(),
        if fresh { " (created)" } else { "" }
    );

    let actor = crate::store::actor();
    let known = store.list_areas().await?;
    let areas = parse_areas_csv("bundled areas.csv", BUNDLED_AREAS_CSV, &known)?;
    let n = store.import_areas(&actor, &areas).await?;
    out += &format!("areas: {} bundled; {}\n", areas.len(), describe(n));
    out += &tree(&store.list_areas().await?);

    let plans = store.list_plans().await?;
    out += &format!("plans stored: {}\n", plans.len());
    crate::store::print(&out)
}
