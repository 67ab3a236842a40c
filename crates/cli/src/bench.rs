use crate::Globals;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Generate a synthetic province.
    Gen,
}

pub async fn run(_cmd: BenchCmd, _g: &Globals) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
