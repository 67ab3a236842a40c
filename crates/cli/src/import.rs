//! `healthplan plan import FILE [--json] [--store]`: the importer crate does the reading; this
//! module only reads the file, prints and stores.

use crate::Globals;
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    /// Print the interchange JSON.
    #[arg(long)]
    pub json: bool,
    /// Save the plan (with its source text and spans).
    #[arg(long)]
    pub store: bool,
}

pub async fn run(a: ImportArgs, g: &Globals) -> anyhow::Result<()> {
    let name = a.file.display().to_string();
    let bytes = std::fs::read(&a.file).with_context(|| format!("cannot read {name}"))?;
    let imported = healthplan_importer::import_bytes(&bytes, &name)?;
    for w in &imported.warnings {
        eprintln!("warning: {name}: {w}");
    }
    let p = &imported.plan;
    if a.json {
        crate::store::print(&(p.to_json_pretty() + "\n"))?;
    }
    let summary = format!(
        "{name}: {} {} [{}] — {} top sections, {} tasks ({} with responsible units), {} indicators, {} target statements",
        p.title,
        p.area,
        imported.encoding,
        p.sections.len(),
        p.tasks.len(),
        p.tasks.iter().filter(|t| t.responsible.is_some()).count(),
        p.indicators.len(),
        p.target_statements.len()
    );
    if !a.json {
        crate::store::print(&(summary + "\n"))?;
    }
    if a.store {
        let store = crate::store::open(g).await?;
        let local = crate::store::Local::of(&store).await?;
        // The cleaned text is what every span points into.
        let id = store
            .save_plan(&local.editor()?, p, Some(&imported.text))
            .await
            .with_context(|| format!("{name}: nothing was stored"))?;
        let msg = format!("plan {id} stored from {name} ({})", store.location());
        if a.json {
            eprintln!("{msg}");
        } else {
            crate::store::print(&(msg + "\n"))?;
        }
    }
    Ok(())
}
