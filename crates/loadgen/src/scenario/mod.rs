//! The scenarios, one module each; `run` dispatches.
use clap::Subcommand;

use crate::{Ctx, report::Report};

pub mod ceiling;
mod crash;
mod fanout;
mod idle;
mod probe;
mod send;

#[derive(Subcommand, Debug)]
pub enum Scenario {
    /// Start (or attach to) roamd and report its idle CPU and memory over a few seconds.
    Probe(probe::Args),
    /// Same-run ceilings: raw SQLite batched inserts and keyset reads, a loopback WebSocket echo.
    Ceiling(ceiling::Args),
    /// One-to-one sends: closed-loop maximum, then an open-loop latency sweep.
    Send(send::Args),
    /// Group fan-out: one sender, M online members; deliveries/s and time to the last member.
    Fanout(fanout::Args),
    /// Idle authenticated connections: RSS per connection, connect rate, idle CPU.
    Idle(idle::Args),
    /// SIGKILL under load, restart, read back every acked message.
    Crash(crash::Args),
}

pub async fn run(scenario: &Scenario, ctx: &Ctx) -> anyhow::Result<Report> {
    match scenario {
        Scenario::Probe(a) => probe::run(a, ctx).await,
        Scenario::Ceiling(a) => ceiling::run(a, ctx).await,
        Scenario::Send(a) => send::run(a, ctx).await,
        Scenario::Fanout(a) => fanout::run(a, ctx).await,
        Scenario::Idle(a) => idle::run(a, ctx).await,
        Scenario::Crash(a) => crash::run(a, ctx).await,
    }
}
