//! `seed`: makes (or finds in the cache) a seeded roamd data directory and says what it holds.
use std::path::PathBuf;

use crate::{Ctx, report::Report, seed};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Stored messages in all.
    #[arg(long, default_value_t = 10_000_000)]
    messages: u64,
    /// One-to-one conversations the bulk is spread over.
    #[arg(long, default_value_t = 1000)]
    conversations: usize,
    /// Where (default: the cache, target/loadgen-seed/m{messages}-c{conversations}).
    #[arg(long)]
    dir: Option<PathBuf>,
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let (messages, convs) = if ctx.smoke {
        (10_000, 20)
    } else {
        (a.messages, a.conversations)
    };
    let (dir, m) = seed::seeded(messages, convs, a.dir.as_deref()).await?;
    let mut r = Report::new("seed");
    r.param("dir", dir.display().to_string())
        .param("messages", m.messages)
        .param("conversations", m.conversations)
        .metric("seed_seconds", m.seed_seconds)
        .metric("messages_per_second", m.messages as f64 / m.seed_seconds)
        .metric("db_bytes", seed::dir_bytes(&dir) as f64);
    Ok(r)
}
