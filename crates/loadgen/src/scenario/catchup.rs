//! placeholder
use crate::{Ctx, report::Report};
#[derive(clap::Args, Debug)]
pub struct Args {}
pub async fn run(_a: &Args, _ctx: &Ctx) -> anyhow::Result<Report> {
    anyhow::bail!("not yet")
}
