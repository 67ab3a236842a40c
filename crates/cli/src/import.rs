//! `healthplan plan import FILE [--json] [--store]`: `healthplan_office::import_plan_file`
//! reads the file in whatever format it is; this module reads the bytes, prints (what to
//! check first) and stores.

use crate::Globals;
use anyhow::Context;
use healthplan_core::{Doubt, PlanDocument};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// A plan document: .txt, .docx, .pdf, or .doc/.wps/.rtf/.odt (with LibreOffice).
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
    let imported = healthplan_office::import_plan_file(&bytes, &name)?;
    for w in &imported.warnings {
        eprintln!("warning: {name}: {w}");
    }
    let p = &imported.plan;
    let doubts = doubt_lines(p);
    if a.json {
        crate::store::print(&(p.to_json_pretty() + "\n"))?;
        if !doubts.is_empty() {
            eprintln!(
                "{name}: {} 项需要核对（见 JSON 中的 doubts） / {} items to check",
                doubts.len(),
                doubts.len()
            );
        }
    } else {
        let mut out = String::new();
        if !doubts.is_empty() {
            out.push_str(&format!("需要核对 / to check first ({}):\n", doubts.len()));
            for d in &doubts {
                out.push_str(&format!("  {d}\n"));
            }
        }
        out.push_str(&format!(
            "{name}: {} {} [{}] — {} top sections, {} tasks ({} with responsible units), {} indicators, {} target statements\n",
            p.title,
            p.area,
            imported.encoding,
            p.sections.len(),
            p.tasks.len(),
            p.tasks.iter().filter(|t| t.responsible.is_some()).count(),
            p.indicators.len(),
            p.target_statements.len()
        ));
        crate::store::print(&out)?;
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

/// One line per doubt, the document's own first, then indicators, tasks and targets.
fn doubt_lines(p: &PlanDocument) -> Vec<String> {
    let line = |what: String, d: &Doubt| format!("{what} [{}] {}", d.code, d.detail);
    let mut out: Vec<String> = p
        .doubts
        .iter()
        .map(|d| line("文档 / document".into(), d))
        .collect();
    for ind in &p.indicators {
        out.extend(
            ind.doubts
                .iter()
                .map(|d| line(format!("指标「{}」", ind.name), d)),
        );
    }
    for t in &p.tasks {
        let start: String = t.text.chars().take(16).collect();
        out.extend(
            t.doubts
                .iter()
                .map(|d| line(format!("任务 {}「{start}…」", t.id), d)),
        );
    }
    for s in &p.target_statements {
        out.extend(
            s.doubts
                .iter()
                .map(|d| line(format!("目标「{}」{}年", s.subject, s.year), d)),
        );
    }
    out
}
