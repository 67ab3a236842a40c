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

pub async fn run(a: ImportArgs, _g: &Globals) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let name = a.file.display().to_string();
    let imported = healthplan_importer::import_bytes(&bytes, &name)?;
    for w in &imported.warnings {
        eprintln!("warning: {name}: {w}");
    }
    if a.json {
        println!("{}", imported.plan.to_json_pretty());
    } else {
        let p = &imported.plan;
        let with_units = p.tasks.iter().filter(|t| t.responsible.is_some()).count();
        println!(
            "{name}: 《{}》 {} ({}): {} sections, {} tasks ({} with responsible units), {} indicators, {} target statements",
            p.title,
            p.area,
            imported.encoding,
            p.sections.len(),
            p.tasks.len(),
            with_units,
            p.indicators.len(),
            p.target_statements.len()
        );
    }
    if a.store {
        anyhow::bail!("--store: saving imported plans is not available yet");
    }
    Ok(())
}
