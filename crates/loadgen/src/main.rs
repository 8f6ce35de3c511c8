//! `loadgen`: drives a separately started roamd and reports what it cost the server.
//!
//! Each scenario starts its own roamd (`--roamd PATH`, a fresh data directory, rate limits off)
//! or attaches to a running one (`--url` + `--pid`), runs its work from this process through the
//! Rust SDK, reads the server's CPU and memory from `/proc/<pid>`, and prints one JSON report
//! (also written to `--out`). `--smoke` runs the scenario at small sizes for CI (seconds); a
//! smoke run fails (exit 1) if a correctness check (`faults`) is non-zero.
mod ledger;
mod measure;
mod nats;
mod population;
mod postgres;
mod report;
mod scenario;
mod scrape;
mod seed;
mod server;

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

use crate::{
    report::Report,
    server::{Launch, Roamd},
};

#[derive(Parser)]
#[command(name = "loadgen", about = "Roam's load generator")]
struct Cli {
    /// The roamd binary to start for the scenario (default: target/release/roamd).
    #[arg(long, global = true)]
    roamd: Option<PathBuf>,
    /// A running roamd to drive instead (with `--pid`).
    #[arg(long, global = true, requires = "pid")]
    url: Option<String>,
    /// The pid of the running roamd at `--url` (its CPU and memory are read from /proc).
    #[arg(long, global = true)]
    pid: Option<u32>,
    /// Extra roamd settings for a roamd started here, `key=value` (`ROAM_<KEY>`).
    #[arg(long = "set", global = true, value_parser = parse_setting)]
    settings: Vec<(String, String)>,
    /// Small sizes, for CI: seconds, not minutes.
    #[arg(long, global = true)]
    smoke: bool,
    /// Also write the JSON report here.
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    #[command(subcommand)]
    scenario: scenario::Scenario,
}

fn parse_setting(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .ok_or_else(|| format!("`{s}`: expected key=value"))
}

impl Cli {
    fn launch(&self) -> Launch {
        Launch {
            bin: self
                .roamd
                .clone()
                .unwrap_or_else(|| PathBuf::from("target/release/roamd")),
            settings: self.settings.clone(),
        }
    }
}

/// What a scenario gets: how to reach (or start) the server, and the run's size.
pub struct Ctx {
    pub launch: Launch,
    pub attach: Option<(String, u32)>,
    pub smoke: bool,
}

impl Ctx {
    /// The server for a scenario: the attached one, or a fresh roamd with `extra` settings on
    /// top of `--set`.
    pub async fn server(&self, extra: &[(&str, &str)]) -> anyhow::Result<Roamd> {
        if let Some((url, pid)) = &self.attach {
            return Ok(Roamd::attach(url, *pid));
        }
        let mut launch = self.launch.clone();
        for (k, v) in extra {
            launch.settings.push(((*k).to_owned(), (*v).to_owned()));
        }
        Roamd::start(launch).await
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let ctx = Ctx {
        launch: cli.launch(),
        attach: cli.url.clone().zip(cli.pid),
        smoke: cli.smoke,
    };
    let report: Report = scenario::run(&cli.scenario, &ctx).await?;
    let json = serde_json::to_string_pretty(&report)?;
    println!("{json}");
    if let Some(out) = &cli.out {
        std::fs::write(out, &json).with_context(|| format!("writing {}", out.display()))?;
    }
    if !report.sound() {
        anyhow::bail!("correctness checks failed: {:?}", report.faults);
    }
    Ok(())
}
