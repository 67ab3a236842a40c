use crate::Globals;
use anyhow::Context;
use clap::Subcommand;
use healthplan_app::areas_csv::{parse_areas_csv, tree};
use healthplan_app::store::ImportCount;
use healthplan_app::text::decode_text;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AreaCmd {
    /// Import areas from a CSV with columns code,name,level,parent_code (all or nothing).
    Import { file: PathBuf },
    /// Print the stored area tree.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: AreaCmd, g: &Globals) -> anyhow::Result<()> {
    match cmd {
        AreaCmd::Import { file } => {
            let name = file.display().to_string();
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {name}"))?;
            let text = decode_text(&name, &bytes)?;
            let store = crate::store::open(g).await?;
            let known = store.list_areas().await?;
            let areas = parse_areas_csv(&name, &text, &known)?;
            let local = crate::store::Local::of(&store).await?;
            let n = store
                .import_areas(&local.registry()?, &areas)
                .await
                .with_context(|| format!("{name}: nothing was imported"))?;
            crate::store::print(&format!(
                "{name}: {} areas read; {}\nstored in {} ({})\n",
                areas.len(),
                describe(n),
                store.location(),
                store.backend()
            ))
        }
        AreaCmd::List { json } => {
            let store = crate::store::open(g).await?;
            let areas = store.list_areas().await?;
            if json {
                crate::store::print(&(serde_json::to_string_pretty(&areas)? + "\n"))
            } else {
                crate::store::print(&tree(&areas))
            }
        }
    }
}

/// `3 new, 1 changed, 2 unchanged`.
pub fn describe(n: ImportCount) -> String {
    format!(
        "{} new, {} changed, {} unchanged",
        n.inserted, n.updated, n.unchanged
    )
}
