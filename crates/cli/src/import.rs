use crate::Globals;
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

pub async fn run(_a: ImportArgs, _g: &Globals) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
