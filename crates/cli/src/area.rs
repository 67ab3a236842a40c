use crate::Globals;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AreaCmd {
    /// Import areas from a CSV with columns code,name,level,parent_code.
    Import { file: PathBuf },
}

pub async fn run(_cmd: AreaCmd, _g: &Globals) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
