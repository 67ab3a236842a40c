use crate::Globals;

#[derive(clap::Args)]
pub struct EvaluateArgs {}
#[derive(clap::Args)]
pub struct AssessArgs {}
#[derive(clap::Args)]
pub struct AlignArgs {}

pub async fn evaluate(_a: EvaluateArgs, _g: &Globals) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
pub async fn assess(_a: AssessArgs, _g: &Globals) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
pub async fn align(_a: AlignArgs, _g: &Globals) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
