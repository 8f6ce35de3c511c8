//! `soak` (issue 14): one-to-one sends, open loop, at half the maximum load (a quick
//! closed-loop maximum measured first on a roamd with the limits off, unless `--rate`) for
//! `--minutes`, against a roamd with the default send and login limits on, while abusers run
//! (`abuse`: oversize messages, a flooding connection, a slow reader, failed logins). Per
//! window: server RSS, send p50/p99 (from the due time), server CPU, and from roamd's
//! `/metrics` and data directory the writer's commits (count, mean time, share over 25 ms)
//! and the database and WAL sizes. Drift = last window vs the
//! first after warm-up. Faults: legit messages lost (acked, not delivered; or not in history)
//! or duplicated, legit sends refused, abuse that got through, and (not smoke) drift over
//! 5% RSS / 20% p99.
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use roam_sdk::{ChatType, Client, Error, Event, HistoryQuery, Options, Outgoing};

use super::abuse::{self, Seen};
use crate::{
    Ctx,
    measure::{Latency, Schedule, median},
    report::Report,
    scrape::Commits,
    server::{APP_KEY, CpuMeter, Roamd},
};

const PW: &str = "soak-pw";
/// Each legit sender's rate: under the per-connection limit (50/s) with room for jitter.
const PER_SENDER: f64 = 25.0;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Legit messages per second (default: half a quick closed-loop maximum).
    #[arg(long)]
    rate: Option<f64>,
    #[arg(long, default_value_t = 30.0)]
    minutes: f64,
    /// Seconds per sampling window.
    #[arg(long, default_value_t = 60.0)]
    window: f64,
    /// The flooder's attempted sends per second.
    #[arg(long, default_value_t = 500.0)]
    flood_rate: f64,
}

/// Messages a second through a roamd with the limits off, closed loop, 16 senders × 4 in flight.
async fn closed_loop_max(server: &Roamd, secs: f64) -> anyhow::Result<f64> {
    let admin = server.admin().await?;
    let mut pairs = Vec::new();
    for i in 0..16 {
        let (s, r) = (format!("max-s{i}"), format!("max-r{i}"));
        admin.create_user(&s, PW, None).await?;
        admin.create_user(&r, PW, None).await?;
        let (rc, ev) = Client::open(Options::password(&server.url, APP_KEY, &r, PW)).await?;
        let (sc, _) = Client::open(Options::password(&server.url, APP_KEY, &s, PW)).await?;
        pairs.push((sc, r, rc, ev));
    }
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = tokio::task::JoinSet::new();
    for (sc, r, _, _) in &pairs {
        for _ in 0..4 {
            let (sc, r, done) = (sc.clone(), r.clone(), done.clone());
            tasks.spawn(async move {
                while Instant::now() < until {
                    if sc
                        .send(&Outgoing::text(ChatType::Single, &r, "max"))
                        .await
                        .is_ok()
                    {
                        done.fetch_add(1, Relaxed);
                    }
                }
            });
        }
    }
    let t = Instant::now();
    while tasks.join_next().await.is_some() {}
    Ok(done.load(Relaxed) as f64 / t.elapsed().as_secs_f64())
}

/// What the legit traffic records.
#[derive(Default)]
struct Legit {
    window: Mutex<Latency>,
    total: Mutex<Latency>,
    /// Acked message ids, by receiver.
    acked: Mutex<Vec<(usize, u64)>>,
    /// Delivered message ids and how often.
    delivered: Mutex<HashMap<u64, u32>>,
    refused: AtomicU64,
    errors: AtomicU64,
}

/// A non-negative whole number held in an f64, as a count (clamped to 0..=1e9).
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "clamped to a small non-negative whole number first"
)]
fn whole_count(x: f64) -> usize {
    x.clamp(0.0, 1e9) as usize
}

/// Bytes of the server's database files and of its write-ahead logs (0 when not started here).
fn files(server: &Roamd) -> (f64, f64) {
    let (mut db, mut wal) = (0u64, 0u64);
    let entries = server.data_dir().and_then(|d| std::fs::read_dir(d).ok());
    for e in entries.into_iter().flatten().flatten() {
        let len = e.metadata().map_or(0, |m| m.len());
        if e.file_name().to_string_lossy().ends_with("-wal") {
            wal += len;
        } else {
            db += len;
        }
    }
    (db as f64, wal as f64)
}

fn pct(last: f64, first: f64) -> f64 {
    100.0 * (last - first) / first
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let (minutes, window) = if ctx.smoke {
        (0.25, 3.0)
    } else {
        (a.minutes, a.window)
    };
    let mut r = Report::new("soak");
    let rate = match a.rate {
        Some(rate) => rate,
        None => {
            let probe = ctx.server(&[]).await?;
            let max = closed_loop_max(&probe, if ctx.smoke { 1.0 } else { 5.0 }).await?;
            r.metric("closed_loop_max_per_s", max);
            max / 2.0
        }
    };
    let mut limits = vec![
        ("send_rate_per_connection", "50"),
        ("send_rate_per_user", "100"),
        ("send_burst", "200"),
        ("login_limit_per_ip", "30"),
        ("login_limit_per_account", "10"),
    ];
    if ctx.smoke {
        limits.push(("write_timeout_secs", "2"));
    }
    let server = ctx.server(&limits).await?;
    let admin = server.admin().await?;
    let senders = whole_count((rate / PER_SENDER).ceil()).max(2);
    let mut names: Vec<String> = (0..senders)
        .flat_map(|i| [format!("s{i}"), format!("r{i}")])
        .collect();
    let feeders: Vec<String> = (0..6).map(|i| format!("feed{i}")).collect();
    names.extend(feeders.iter().cloned());
    names.extend(["sink", "abuse-big", "abuse-flood", "slow", "victim"].map(String::from));
    let created: Vec<_> = futures::stream::iter(&names)
        .map(|n| admin.create_user(n, PW, None))
        .buffer_unordered(4)
        .collect()
        .await;
    for c in created {
        c?;
    }
    let opts = |u: &str| Options::password(&server.url, APP_KEY, u, PW);
    let legit = Arc::new(Legit::default());
    let mut receivers = Vec::new();
    for i in 0..senders {
        let (c, mut ev) = Client::open(opts(&format!("r{i}"))).await?;
        let legit = legit.clone();
        tokio::spawn(async move {
            while let Some(e) = ev.recv().await {
                if let Event::Message(m) = e {
                    *legit
                        .delivered
                        .lock()
                        .expect("unpoisoned")
                        .entry(m.id)
                        .or_default() += 1;
                }
            }
        });
        receivers.push(c);
    }
    let mut clients = Vec::new();
    for i in 0..senders {
        clients.push(Client::open(opts(&format!("s{i}"))).await?.0);
    }

    // Abusers.
    let (stop, seen) = (Arc::new(AtomicBool::new(false)), Arc::new(Seen::default()));
    let url = server.url.clone();
    let mut abusers = tokio::task::JoinSet::new();
    abusers.spawn(abuse::oversize(
        url.clone(),
        PW.into(),
        "sink".into(),
        stop.clone(),
        seen.clone(),
    ));
    abusers.spawn(abuse::flood(
        url.clone(),
        PW.into(),
        "sink".into(),
        a.flood_rate,
        stop.clone(),
        seen.clone(),
    ));
    abusers.spawn(abuse::failed_logins(
        url.clone(),
        "victim".into(),
        stop.clone(),
        seen.clone(),
    ));
    let slow = tokio::spawn(abuse::slow_reader(
        url.clone(),
        PW.into(),
        "slow".into(),
        feeders,
        stop.clone(),
        seen.clone(),
    ));

    // Legit senders, open loop, staggered.
    let per = rate / senders as f64;
    let mut sending = tokio::task::JoinSet::new();
    for (i, c) in clients.iter().enumerate() {
        let lead = Duration::from_secs_f64(i as f64 / rate);
        let (c, to, stop, legit) = (c.clone(), format!("r{i}"), stop.clone(), legit.clone());
        sending.spawn(async move {
            let sched = Schedule::new(per, lead);
            let mut inflight = tokio::task::JoinSet::new();
            let mut k = 0u64;
            while !stop.load(Relaxed) {
                let due = sched.wait(k).await;
                k += 1;
                let (c, to, legit) = (c.clone(), to.clone(), legit.clone());
                inflight.spawn(async move {
                    match c.send(&Outgoing::text(ChatType::Single, &to, "soak")).await {
                        Ok(sent) => {
                            let took = due.elapsed();
                            legit.window.lock().expect("unpoisoned").record(took);
                            legit.acked.lock().expect("unpoisoned").push((i, sent.id));
                        }
                        Err(Error::SendRefused { .. }) => _ = legit.refused.fetch_add(1, Relaxed),
                        Err(_) => _ = legit.errors.fetch_add(1, Relaxed),
                    }
                });
                while inflight.try_join_next().is_some() {}
            }
            while inflight.join_next().await.is_some() {}
        });
    }

    // Windows.
    let whole = CpuMeter::start(&server)?;
    let began = Instant::now();
    let windows = whole_count((minutes * 60.0 / window).round()).max(2);
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut commits = Commits::read(&server, admin.token()).await?;
    for w in 0..windows {
        let meter = CpuMeter::start(&server)?;
        tokio::time::sleep_until((began + Duration::from_secs_f64(window * (w + 1) as f64)).into())
            .await;
        let lat = std::mem::take(&mut *legit.window.lock().expect("unpoisoned"));
        legit.total.lock().expect("unpoisoned").merge(&lat);
        let (cpu, wall) = meter.read(&server)?;
        let (rss, p99) = (server.rss_bytes()? as f64, lat.summary().p99_ms);
        points.push((rss, p99));
        let now = Commits::read(&server, admin.token()).await?;
        let (n, commit_ms, slow) = now.since(&commits);
        commits = now;
        let (db, wal) = files(&server);
        r.point(
            "windows",
            &[
                ("t_s", began.elapsed().as_secs_f64()),
                ("rss_bytes", rss),
                ("p99_ms", p99),
                ("p50_ms", lat.summary().p50_ms),
                ("sends", lat.summary().count as f64),
                ("server_cpu_share", cpu / wall),
                ("commits", n),
                ("commit_mean_ms", commit_ms),
                ("commits_over_25ms_share", slow),
                ("db_bytes", db),
                ("wal_bytes", wal),
            ],
        );
    }
    stop.store(true, Relaxed);
    while sending.join_next().await.is_some() {}
    while abusers.join_next().await.is_some() {}
    let (cpu, wall) = whole.read(&server)?;
    let slow_closed = slow.await??;

    // Every acked message delivered once (wait for stragglers).
    let acked = std::mem::take(&mut *legit.acked.lock().expect("unpoisoned"));
    let drain_until = Instant::now() + Duration::from_secs(15);
    let missing = || {
        let d = legit.delivered.lock().expect("unpoisoned");
        acked.iter().filter(|(_, id)| !d.contains_key(id)).count()
    };
    while missing() > 0 && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lost = missing();
    let dup: u64 = legit
        .delivered
        .lock()
        .expect("unpoisoned")
        .values()
        .map(|n| u64::from(n.saturating_sub(1)))
        .sum();
    // And in history: pair 0's conversation, end to end.
    let want0 = acked.iter().filter(|(i, _)| *i == 0).count();
    let mut q = HistoryQuery::new(ChatType::Single, "s0").page_size(50);
    let mut in_history = 0usize;
    loop {
        let page = receivers[0].get_history_messages(&q).await?;
        in_history += page.messages.len();
        match (page.is_last, page.cursor) {
            (false, Some(c)) => q = q.after(c),
            _ => break,
        }
    }

    let total = legit.total.lock().expect("unpoisoned").summary();
    let skip = usize::from(points.len() > 2);
    let (first, last) = (points[skip], points[points.len() - 1]);
    let (rss_drift, p99_drift) = (pct(last.0, first.0), pct(last.1, first.1));
    r.param("rate_per_s", rate)
        .param("minutes", minutes)
        .param("window_s", window)
        .param("senders", senders)
        .param("flood_rate_per_s", a.flood_rate);
    r.latency.insert("send".into(), total);
    r.metric("sent_acked", acked.len() as f64)
        .metric(
            "server_cpu_ms_per_message",
            1000.0 * cpu / acked.len().max(1) as f64,
        )
        .metric("server_cpu_share", cpu / wall)
        .metric(
            "window_p99_median_ms",
            median(points.iter().map(|p| p.1).collect()),
        )
        .metric("rss_drift_pct", rss_drift)
        .metric("p99_drift_pct", p99_drift)
        .metric("flood_accepted", seen.flood_accepted.load(Relaxed) as f64)
        .metric("flood_limited", seen.flood_limited.load(Relaxed) as f64)
        .metric(
            "oversize_refused",
            seen.oversize_refused.load(Relaxed) as f64,
        )
        .metric("logins_refused", seen.logins_refused.load(Relaxed) as f64)
        .metric(
            "logins_throttled",
            seen.logins_throttled.load(Relaxed) as f64,
        )
        .metric("slow_reader_fed", seen.feeder_sent.load(Relaxed) as f64)
        .metric("slow_reader_disconnected", f64::from(u8::from(slow_closed)));
    r.fault("lost", u64::try_from(lost)?)
        .fault("duplicated", dup)
        .fault("not_in_history", u64::try_from(want0.abs_diff(in_history))?)
        .fault("legit_refused", legit.refused.load(Relaxed))
        .fault("legit_errors", legit.errors.load(Relaxed))
        .fault("oversize_accepted", seen.oversize_accepted.load(Relaxed))
        .fault(
            "flood_never_limited",
            u64::from(seen.flood_limited.load(Relaxed) == 0),
        )
        .fault("failed_login_accepted", seen.logins_accepted.load(Relaxed))
        .fault("slow_reader_kept", u64::from(!slow_closed));
    if !ctx.smoke {
        r.fault("rss_drift_over_5pct", u64::from(rss_drift > 5.0))
            .fault("p99_drift_over_20pct", u64::from(p99_drift > 20.0));
    }
    for c in clients.iter().chain(&receivers) {
        c.close().await;
    }
    Ok(r)
}
