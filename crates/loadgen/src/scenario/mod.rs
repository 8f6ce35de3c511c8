//! The scenarios, one module each; `run` dispatches.
use clap::Subcommand;

use crate::{Ctx, report::Report};

mod peers;
mod probe;

#[derive(Subcommand, Debug)]
pub enum Scenario {
    /// Start (or attach to) roamd and report its idle CPU and memory over a few seconds.
    Probe(probe::Args),
    /// The same work on Roam and on the installed peers (Prosody, Synapse), alternating rounds.
    Peers(peers::Args),
}

pub async fn run(scenario: &Scenario, ctx: &Ctx) -> anyhow::Result<Report> {
    match scenario {
        Scenario::Probe(a) => probe::run(a, ctx).await,
        Scenario::Peers(a) => peers::run(a, ctx).await,
    }
}
