//! `probe`: the server at rest — its RSS and the CPU it spends with nothing to do.
use std::time::Duration;

use crate::{Ctx, report::Report, server::CpuMeter};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Seconds to watch.
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let server = ctx.server(&[]).await?;
    let meter = CpuMeter::start(&server)?;
    tokio::time::sleep(Duration::from_secs_f64(if ctx.smoke {
        0.5
    } else {
        a.secs
    }))
    .await;
    let (cpu, wall) = meter.read(&server)?;
    let mut r = Report::new("probe");
    r.param("secs", wall)
        .metric("server_cpu_share", cpu / wall)
        .metric("server_rss_bytes", server.rss_bytes()? as f64);
    Ok(r)
}
