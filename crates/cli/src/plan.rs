use crate::Globals;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum PlanCmd {
    /// Read a plan document (.txt or .docx) into a structured plan.
    Import(crate::import::ImportArgs),
    /// Store a plan given as interchange JSON.
    Load { file: PathBuf },
    /// Print a stored plan.
    Export {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// List stored plans.
    List,
}

pub async fn run(cmd: PlanCmd, g: &Globals) -> anyhow::Result<()> {
    match cmd {
        PlanCmd::Import(a) => crate::import::run(a, g).await,
        _ => anyhow::bail!("not implemented yet"),
    }
}
