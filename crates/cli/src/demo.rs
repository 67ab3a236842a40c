use crate::area::{describe, parse_areas_csv, tree, BUNDLED_AREAS_CSV};
use crate::Globals;

/// The published plans bundled with the binary, so the demo works offline.
const BUNDLED_PLANS: [(&str, &str); 3] = [
    (
        "001_1089f704d02fb494.txt",
        include_str!("../../../fixtures/seeds/001_1089f704d02fb494.txt"),
    ),
    (
        "002_7e66034cdb9a4942.txt",
        include_str!("../../../fixtures/seeds/002_7e66034cdb9a4942.txt"),
    ),
    (
        "004_761ed102bf2849c9.txt",
        include_str!("../../../fixtures/seeds/004_761ed102bf2849c9.txt"),
    ),
];

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

    let stored = store.list_plans().await?;
    for (file, text) in BUNDLED_PLANS {
        let imported = healthplan_importer::import_text(text, file)?;
        let plan = &imported.plan;
        if stored.iter().any(|s| s.title == plan.title) {
            out += &format!("plan already stored: {}\n", plan.title);
            continue;
        }
        let id = store.save_plan(&actor, plan, Some(&imported.text)).await?;
        out += &format!(
            "plan {id} imported from {file}: {} — {} tasks, {} indicators, {} target statements\n",
            plan.title,
            plan.tasks.len(),
            plan.indicators.len(),
            plan.target_statements.len()
        );
    }
    out += &format!("plans stored: {}\n", store.list_plans().await?.len());
    crate::store::print(&out)
}
