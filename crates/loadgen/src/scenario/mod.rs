//! The scenarios, one module each; `run` dispatches.
use clap::Subcommand;

use crate::{Ctx, report::Report};

mod abuse;
mod catchup;
pub mod ceiling;
mod cluster;
mod crash;
mod fanout;
mod history;
mod idle;
mod list;
mod peers;
mod probe;
mod seeding;
mod send;
mod soak;

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
    /// Make (or find cached) a seeded data directory of many stored messages.
    Seed(seeding::Args),
    /// History pages (50) up and down from random cursors at 10M stored: store and REST.
    History(history::Args),
    /// A 500-conversation list paged 50 at a time to the end: store and REST.
    List(list::Args),
    /// An offline user gets 1,000 messages over 50 conversations, then connects.
    Catchup(catchup::Args),
    /// Half the maximum load for a long time with abusers mixed in: drift and losses.
    Soak(soak::Args),
    /// The same work on one SQLite node, one PostgreSQL node, three PostgreSQL nodes + NATS.
    Cluster(cluster::Args),
    /// The same work on Roam and on the installed peers (Prosody, Synapse), alternating rounds.
    Peers(peers::Args),
}

pub async fn run(scenario: &Scenario, ctx: &Ctx) -> anyhow::Result<Report> {
    match scenario {
        Scenario::Probe(a) => probe::run(a, ctx).await,
        Scenario::Ceiling(a) => ceiling::run(a, ctx).await,
        Scenario::Send(a) => send::run(a, ctx).await,
        Scenario::Fanout(a) => fanout::run(a, ctx).await,
        Scenario::Idle(a) => idle::run(a, ctx).await,
        Scenario::Crash(a) => crash::run(a, ctx).await,
        Scenario::Seed(a) => seeding::run(a, ctx).await,
        Scenario::History(a) => history::run(a, ctx).await,
        Scenario::List(a) => list::run(a, ctx).await,
        Scenario::Catchup(a) => catchup::run(a, ctx).await,
        Scenario::Soak(a) => soak::run(a, ctx).await,
        Scenario::Peers(a) => peers::run(a, ctx).await,
        Scenario::Cluster(a) => cluster::run(a, ctx).await,
    }
}
