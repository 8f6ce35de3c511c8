//! `idle`: N authenticated connections doing nothing. Reports roamd's memory per connection
//! (RSS growth over the connections opened), the rate connections were opened at, and the
//! CPU the server spends holding them. A few users log in with a password (argon2, costly);
//! every other connection is another device of one of them, opened with its token.
use std::time::{Duration, Instant};

use roam_sdk::Client;

use super::ceiling::f64_of;
use crate::{Ctx, population, report::Report, server::CpuMeter};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Connection counts to reach, in order (smoke: 50). The fd limit (20,000 per process)
    /// puts the top near 10,000.
    #[arg(long, value_delimiter = ',', default_value = "1000,2000,5000,10000")]
    connections: Vec<usize>,
    /// Devices per user (roamd's `max_devices` is raised to this).
    #[arg(long, default_value_t = 100)]
    per_user: usize,
    /// Seconds the server's idle CPU is watched at each count (smoke: 0.5).
    #[arg(long, default_value_t = 5.0)]
    idle_secs: f64,
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let (targets, idle_secs) = if ctx.smoke {
        (vec![50], 0.5)
    } else {
        (a.connections.clone(), a.idle_secs)
    };
    let per_user = a.per_user.max(1);
    let most = targets.iter().copied().max().unwrap_or(0);
    let users = most.div_ceil(per_user).max(1);
    let max_devices = per_user.to_string();
    let server = ctx.server(&[("max_devices", max_devices.as_str())]).await?;
    let admin = server.admin().await?;
    let names = population::register(&admin, "idle", users).await?;
    // The first device of each user (password logins), then the baseline.
    let mut devices = population::login(&server, &names).await?;
    let firsts: Vec<Client> = devices.iter().map(|d| d.client.clone()).collect();
    let mut per: Vec<usize> = vec![1; users];
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss0 = server.rss_bytes()?;
    let base_count = users;

    let mut r = Report::new("idle");
    r.param("connections", serde_json::json!(targets))
        .param("per_user", u64::try_from(per_user)?)
        .param("idle_secs", idle_secs)
        .metric("server_rss_bytes_baseline", f64_of(rss0));
    for &target in &targets {
        let need = target.saturating_sub(devices.len());
        let began = Instant::now();
        let mut left = need;
        for (u, first) in firsts.iter().enumerate() {
            if left == 0 {
                break;
            }
            let take = per_user.saturating_sub(per[u]).min(left);
            if take == 0 {
                continue;
            }
            devices.extend(population::more_devices(&server, first, take).await?);
            per[u] += take;
            left -= take;
        }
        let open_secs = began.elapsed().as_secs_f64();
        let rate = f64_of(u64::try_from(need)?) / open_secs.max(1e-6);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = server.rss_bytes()?;
        let meter = CpuMeter::start(&server)?;
        tokio::time::sleep(Duration::from_secs_f64(idle_secs)).await;
        let (cpu, wall) = meter.read(&server)?;
        let n = devices.len();
        let added = f64_of(u64::try_from(n.saturating_sub(base_count))?).max(1.0);
        let per_conn = (f64_of(rss) - f64_of(rss0)) / added;
        r.point(
            "rss_vs_connections",
            &[
                ("connections", f64_of(u64::try_from(n)?)),
                ("rss_bytes", f64_of(rss)),
                ("bytes_per_connection", per_conn),
                ("connects_per_s", rate),
                ("idle_server_cpu_share", cpu / wall),
            ],
        );
        r.metric(&format!("bytes_per_connection_{n}"), per_conn)
            .metric(&format!("connects_per_s_{n}"), rate)
            .metric(&format!("idle_server_cpu_share_{n}"), cpu / wall);
    }
    r.notes.push(
        "bytes per connection = (RSS now - RSS with one device per user) / devices added; \
         connects/s = token logins over the WebSocket (no password hashing), 128 at once"
            .into(),
    );
    drop(devices);
    Ok(r)
}
