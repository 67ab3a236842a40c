use crate::Globals;

#[derive(clap::Args)]
pub struct DemoArgs {}

pub async fn run(_a: DemoArgs, _g: &Globals) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
