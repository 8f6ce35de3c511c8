//! `send`: one-to-one messages between C sender devices and C recipient devices (distinct
//! users, one device each, so each message is delivered exactly once). First closed loop
//! (each sender keeps `inflight` sends outstanding) for the most msg/s the server acks, then
//! open loop at fractions of that rate: send→ack and send→delivery percentiles per rate,
//! measured from each send's due time. Every acked message must be delivered exactly once.
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use roam_sdk::{ChatType, Client, Outgoing};

use super::ceiling::{self, f64_of};
use crate::{
    Ctx,
    ledger::{self, Key, Ledger, Tag},
    measure::{Latency, Percentiles, Schedule},
    population,
    report::Report,
    server::{CpuMeter, Roamd},
};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Sender/recipient pairs (smoke: 4).
    #[arg(long, default_value_t = 50)]
    pairs: usize,
    /// Sends each sender keeps outstanding in the closed-loop phase.
    #[arg(long, default_value_t = 8)]
    inflight: usize,
    /// Seconds per phase (smoke: 1).
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    /// Open-loop rates, as fractions of the closed-loop maximum.
    #[arg(long, value_delimiter = ',', default_value = "0.25,0.5,0.75,0.9")]
    fractions: Vec<f64>,
}

/// What the senders of one phase got back.
#[derive(Default)]
struct Sent {
    acked: Vec<Key>,
    ack: Latency,
    errors: u64,
}

impl Sent {
    fn merge(&mut self, o: Sent) {
        self.acked.extend(o.acked);
        self.ack.merge(&o.ack);
        self.errors += o.errors;
    }

    /// One send's outcome: acked now (latency from its due time) or failed.
    fn record(&mut self, acked: bool, tag: Tag, base: Instant) {
        if acked {
            self.ack.record(tag.due(base).elapsed());
            self.acked.push((tag.sender, tag.seq));
        } else {
            self.errors += 1;
        }
    }
}

async fn send_one(client: &Client, to: &str, tag: Tag, base: Instant, out: &mut Sent) {
    let acked = client
        .send(&Outgoing::text(ChatType::Single, to, tag.text()))
        .await
        .is_ok();
    out.record(acked, tag, base);
}

/// Closed loop: every sender keeps `inflight` sends outstanding until `until`.
async fn closed_loop(
    pairs: &[(Client, String)],
    inflight: usize,
    until: Instant,
    base: Instant,
    phase: u32,
) -> anyhow::Result<Sent> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (client, to)) in pairs.iter().enumerate() {
        let seqs = Arc::new(AtomicU64::new(0));
        let sender = u32::try_from(i)?;
        for _ in 0..inflight {
            let (client, to, seqs) = (client.clone(), to.clone(), seqs.clone());
            tasks.spawn(async move {
                let mut out = Sent::default();
                while Instant::now() < until {
                    let tag = Tag {
                        phase,
                        sender,
                        seq: seqs.fetch_add(1, Ordering::Relaxed),
                        due_us: Tag::micros(base, Instant::now()),
                    };
                    send_one(&client, &to, tag, base, &mut out).await;
                }
                out
            });
        }
    }
    let mut all = Sent::default();
    while let Some(r) = tasks.join_next().await {
        all.merge(r?);
    }
    Ok(all)
}

/// Open loop: `rate` sends/s over all senders for `secs`, each issued when due whatever the
/// outstanding ones (a task per send).
async fn open_loop(
    pairs: &[(Client, String)],
    phase: u32,
    rate: f64,
    secs: f64,
    base: Instant,
) -> anyhow::Result<Sent> {
    let per_sender = rate / f64_of(u64::try_from(pairs.len())?);
    let n = (per_sender * secs).ceil().max(1.0);
    let mut senders = tokio::task::JoinSet::new();
    for (i, (client, to)) in pairs.iter().enumerate() {
        let (client, to, sender) = (client.clone(), to.clone(), u32::try_from(i)?);
        // Staggered by 1/rate: together the senders make one even stream at `rate`, not a
        // burst of one send per sender every 1/per_sender seconds.
        let lead =
            Duration::from_millis(50) + Duration::from_secs_f64(f64_of(u64::from(sender)) / rate);
        let schedule = Schedule::new(per_sender, lead);
        senders.spawn(async move {
            // One record per sender, shared by its sends: a `Sent` holds a latency histogram
            // (~170 KB zeroed), too much to make per send at thousands of sends a second.
            let out = Arc::new(Mutex::new(Sent::default()));
            let mut sends = tokio::task::JoinSet::new();
            let mut seq = 0u64;
            while f64_of(seq) < n {
                let due = schedule.wait(seq).await;
                let tag = Tag {
                    phase,
                    sender,
                    seq,
                    due_us: Tag::micros(base, due),
                };
                let (client, to, out) = (client.clone(), to.clone(), out.clone());
                sends.spawn(async move {
                    let ok = client
                        .send(&Outgoing::text(ChatType::Single, &to, tag.text()))
                        .await
                        .is_ok();
                    let mut out = out.lock().expect("unpoisoned");
                    out.record(ok, tag, base);
                });
                // Reap finished sends as they go, so the set holds only those in flight.
                while sends.try_join_next().is_some() {}
                seq += 1;
            }
            while sends.join_next().await.is_some() {}
            std::mem::take(&mut *out.lock().expect("unpoisoned"))
        });
    }
    let mut all = Sent::default();
    while let Some(r) = senders.join_next().await {
        all.merge(r?);
    }
    Ok(all)
}

/// Waits for a phase's deliveries and checks them: (lost, duplicated, delivery latency).
async fn settle(ledger: &Ledger, phase: u32, sent: &Sent) -> (u64, u64, Latency) {
    let expected = u64::try_from(sent.acked.len()).unwrap_or(u64::MAX);
    ledger
        .settle(phase, expected, Duration::from_secs(10))
        .await;
    // A moment more for any duplicate still on its way.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = ledger.take(phase);
    let (lost, dup) = ledger::check(&log, &sent.acked, 1);
    (lost, dup, log.delivery)
}

/// Registers and logs in `n` senders and `n` recipients (`s{i}` sends to `r{i}`), round-robin
/// over `nodes` with each recipient on the node after its sender's (so on another node when
/// there are several); the recipients' deliveries go to `ledger`, the senders' own events are
/// read and dropped.
pub async fn connect(
    nodes: &[Roamd],
    n: usize,
    ledger: &Ledger,
) -> anyhow::Result<(Vec<(Client, String)>, Vec<Client>)> {
    let admin = nodes.first().context("no node")?.admin().await?;
    let senders = population::register(&admin, "s", n).await?;
    let recipients = population::register(&admin, "r", n).await?;
    let mut receiving = Vec::with_capacity(n);
    for d in population::login_spread(nodes, &recipients, 1).await? {
        ledger.receive(d.events);
        receiving.push(d.client);
    }
    let mut pairs = Vec::with_capacity(n);
    for (d, to) in population::login_spread(nodes, &senders, 0)
        .await?
        .into_iter()
        .zip(recipients)
    {
        tokio::spawn(drain(d.events));
        pairs.push((d.client, to));
    }
    Ok((pairs, receiving))
}

/// What a closed-loop phase came to: the acked rate, its latencies and faults.
pub struct ClosedPhase {
    pub acked: u64,
    pub msgs_per_s: f64,
    /// Seconds of sending.
    pub wall: f64,
    pub ack: Percentiles,
    pub delivery: Percentiles,
    pub lost: u64,
    pub dup: u64,
    pub errors: u64,
}

/// Runs closed-loop phase `phase` for `secs` (each sender keeping `inflight` sends
/// outstanding) and waits for its deliveries.
pub async fn closed_phase(
    pairs: &[(Client, String)],
    inflight: usize,
    secs: f64,
    ledger: &Ledger,
    phase: u32,
) -> anyhow::Result<ClosedPhase> {
    let began = Instant::now();
    let until = began + Duration::from_secs_f64(secs);
    let sent = closed_loop(pairs, inflight, until, ledger.base(), phase).await?;
    let wall = began.elapsed().as_secs_f64();
    let (lost, dup, delivery) = settle(ledger, phase, &sent).await;
    let acked = u64::try_from(sent.acked.len())?;
    Ok(ClosedPhase {
        acked,
        msgs_per_s: f64_of(acked) / wall,
        wall,
        ack: sent.ack.summary(),
        delivery: delivery.summary(),
        lost,
        dup,
        errors: sent.errors,
    })
}

async fn drain(mut events: roam_sdk::Events) {
    while events.recv().await.is_some() {}
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let (n, secs) = if ctx.smoke {
        (4, 0.5)
    } else {
        (a.pairs, a.secs)
    };
    let fractions = if ctx.smoke {
        vec![0.5]
    } else {
        a.fractions.clone()
    };
    let server = ctx.server(&[]).await?;
    let near = server
        .data_dir()
        .and_then(std::path::Path::parent)
        .map_or_else(std::env::temp_dir, std::path::Path::to_path_buf);
    let ceilings = ceiling::measure(&ceiling::Args::default(), ctx.smoke, &near).await?;
    let ledger = Ledger::new();
    let base = ledger.base();
    let (pairs, receiving) = connect(std::slice::from_ref(&server), n, &ledger).await?;

    let mut r = Report::new("send");
    r.param("pairs", u64::try_from(n)?)
        .param("inflight", u64::try_from(a.inflight)?)
        .param("secs_per_phase", secs);
    ceilings.record(&mut r);

    // Closed loop: the most the server acks.
    let meter = CpuMeter::start(&server)?;
    let closed = closed_phase(&pairs, a.inflight, secs, &ledger, 0).await?;
    let (cpu, _) = meter.read(&server)?;
    let max = closed.msgs_per_s;
    let (mut lost, mut dup, mut errors) = (closed.lost, closed.dup, closed.errors);
    r.metric("max_msgs_per_s", max)
        .metric(
            "server_cpu_ms_per_msg",
            1000.0 * cpu / f64_of(closed.acked.max(1)),
        )
        .metric("server_cpu_share_at_max", cpu / closed.wall)
        .against(
            "max_msgs_per_s",
            "sqlite_insert_rows_per_s",
            ceilings.insert(),
        );
    r.latency.insert("max_ack".into(), closed.ack);
    r.latency.insert("max_delivery".into(), closed.delivery);

    // Open loop at fractions of the maximum.
    for (i, f) in fractions.iter().enumerate() {
        let phase = u32::try_from(i + 1)?;
        let rate = f * max;
        let meter = CpuMeter::start(&server)?;
        let began = Instant::now();
        let sent = open_loop(&pairs, phase, rate, secs, base).await?;
        let send_wall = began.elapsed().as_secs_f64();
        let (l, d, delivery) = settle(&ledger, phase, &sent).await;
        let (cpu, _) = meter.read(&server)?;
        (lost, dup, errors) = (lost + l, dup + d, errors + sent.errors);
        let (ack, del) = (sent.ack.summary(), delivery.summary());
        let achieved = f64_of(u64::try_from(sent.acked.len())?) / send_wall;
        r.point(
            "throughput_latency",
            &[
                ("fraction_of_max", *f),
                ("offered_per_s", rate),
                ("acked_per_s", achieved),
                ("ack_p50_ms", ack.p50_ms),
                ("ack_p99_ms", ack.p99_ms),
                ("delivery_p50_ms", del.p50_ms),
                ("delivery_p99_ms", del.p99_ms),
                ("server_cpu_share", cpu / send_wall),
            ],
        );
        if (f - 0.5).abs() < 1e-9 {
            r.latency.insert("half_max_ack".into(), ack);
            r.latency.insert("half_max_delivery".into(), del);
            r.metric("half_max_msgs_per_s", achieved);
        }
    }
    r.fault("lost", lost)
        .fault("duplicated", dup)
        .fault("send_errors", errors);
    r.notes.push(
        "latency from each send's due time (open loop: no coordinated omission); server CPU \
         from /proc over sending and delivery; goal at half max: p50 <= 2 ms, p99 <= 10 ms"
            .into(),
    );
    for c in pairs.iter().map(|(c, _)| c).chain(&receiving) {
        c.close().await;
    }
    Ok(r)
}
