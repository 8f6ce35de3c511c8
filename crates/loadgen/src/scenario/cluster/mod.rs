//! `cluster`: the same work on each storage/cluster setup, in one run: one node on SQLite,
//! one node on PostgreSQL, three nodes on PostgreSQL + NATS (`--setups`). Each setup gets
//! fresh nodes (a fresh database, distinct node ids, the same admin credential) and fresh
//! users spread round-robin over its nodes, a recipient on another node than its sender and
//! the group's members mostly on other nodes than the group's sender. Per setup:
//! closed-loop one-to-one sends (msg/s, send→ack p50/p99), group fan-out (deliveries/s, time
//! to the last member), server CPU per message summed over the setup's nodes (from /proc),
//! RSS per node and, in cluster mode, NATS publishes per message (a bare subscriber on the
//! cluster's signal subject). Rounds alternate the setups (drift cancels); medians reported.
use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, bail};

mod setup;

use setup::Setup;

use super::{
    ceiling::f64_of,
    fanout::{self, Crowd},
    send,
};
use crate::{
    Ctx,
    ledger::Ledger,
    measure::median,
    nats::{self, Counter},
    postgres::{self, TempDb},
    report::Report,
    server::{APP_KEY, CpuMeter, Roamd},
};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The setups, `sqlite-1`, `postgres-N` or `postgres-N+nats`, run in this order each round.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "sqlite-1,postgres-1,postgres-3+nats"
    )]
    setups: Vec<String>,
    /// Rounds: each runs every setup once; the report has the medians (smoke: 1).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// One-to-one sender/recipient pairs (smoke: 4).
    #[arg(long, default_value_t = 50)]
    pairs: usize,
    /// Sends each sender keeps outstanding.
    #[arg(long, default_value_t = 8)]
    inflight: usize,
    /// Seconds of one-to-one sending per setup and round (smoke: 3).
    #[arg(long, default_value_t = 20.0)]
    secs: f64,
    /// Group members besides the sender (smoke: 20).
    #[arg(long, default_value_t = 200)]
    members: usize,
    /// Messages sent to the group (smoke: 10).
    #[arg(long, default_value_t = 100)]
    messages: u64,
    /// Group sends outstanding at once.
    #[arg(long, default_value_t = 4)]
    group_inflight: u64,
    /// A PostgreSQL URL through which a database per setup is made (and dropped).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
    /// The NATS server of cluster setups.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats: String,
}

/// The sizes of a run.
struct Work {
    pairs: usize,
    inflight: usize,
    secs: f64,
    members: usize,
    messages: u64,
    group_inflight: u64,
}

/// The figures of one setup's round, by name, and its correctness faults.
#[derive(Default)]
struct Figures {
    values: Vec<(&'static str, f64)>,
    lost: u64,
    dup: u64,
    errors: u64,
}

impl Figures {
    fn put(&mut self, name: &'static str, v: f64) {
        self.values.push((name, v));
    }
}

/// Starts a setup's nodes one after another (the first makes the schema).
async fn start(
    ctx: &Ctx,
    setup: &Setup,
    db: Option<&TempDb>,
    nats: &str,
) -> anyhow::Result<Vec<Roamd>> {
    let mut nodes = Vec::with_capacity(setup.nodes);
    for i in 0..setup.nodes {
        let mut launch = ctx.launch.clone();
        let mut set = |k: &str, v: String| launch.settings.push((k.to_owned(), v));
        set("node_id", (i + 1).to_string());
        if let Some(db) = db {
            set("storage", "postgres".into());
            set("database_url", db.url.clone());
        }
        if setup.nats {
            set("nats_url", nats.to_owned());
        }
        let node = Roamd::start(launch)
            .await
            .with_context(|| format!("{}: starting node {}", setup.name, i + 1))?;
        // A roamd without cluster mode ignores `nats_url` and would serve alone: say so.
        if setup.nats && !reports_nats(&node).await? {
            bail!(
                "{}: node {} has no NATS under /health checks: this roamd has no cluster mode",
                setup.name,
                i + 1
            );
        }
        // Nor would one without PostgreSQL storage serve from the database (the same binary
        // for every node: the first one tells).
        if let Some(db) = db.filter(|_| i == 0)
            && db.backend_cpu().await?.is_empty()
        {
            bail!(
                "{}: node 1 has no connection to database {}: does this roamd know \
                 storage = postgres?",
                setup.name,
                db.name
            );
        }
        nodes.push(node);
    }
    Ok(nodes)
}

/// The PostgreSQL backends' CPU now (none without PostgreSQL).
async fn pg_reading(db: Option<&TempDb>) -> anyhow::Result<HashMap<u32, f64>> {
    match db {
        Some(db) => db.backend_cpu().await,
        None => Ok(HashMap::new()),
    }
}

/// Whether `node` reports NATS among its dependencies (`/health` → `checks.nats`).
async fn reports_nats(node: &Roamd) -> anyhow::Result<bool> {
    let health: serde_json::Value = reqwest::get(format!("{}/health", node.url))
        .await?
        .json()
        .await?;
    Ok(health.pointer("/checks/nats").is_some())
}

/// NATS messages per unit of work over a stretch (None outside cluster mode).
fn per(counter: Option<&Counter>, before: u64, units: u64) -> Option<f64> {
    counter.map(|c| f64_of(c.count().saturating_sub(before)) / f64_of(units.max(1)))
}

/// Runs the work on a setup's fresh nodes.
async fn measure(
    ctx: &Ctx,
    setup: &Setup,
    db: Option<&TempDb>,
    a: &Args,
    w: &Work,
) -> anyhow::Result<Figures> {
    let nodes = start(ctx, setup, db, &a.nats).await?;
    let counter = if setup.nats {
        let subject = format!("{}.signal", nats::subject_prefix(APP_KEY));
        Some(Counter::subscribe(&a.nats, &subject).await?)
    } else {
        None
    };
    let count = || counter.as_ref().map_or(0, Counter::count);
    let mut f = Figures::default();
    let ledger = Ledger::new();

    // (a) One-to-one, closed loop.
    let (pairs, receiving) = send::connect(&nodes, w.pairs, &ledger).await?;
    let (meter, before, pg) = (CpuMeter::start_all(&nodes)?, count(), pg_reading(db).await?);
    let c = send::closed_phase(&pairs, w.inflight, w.secs, &ledger, 0).await?;
    let (cpu, _) = meter.read_all(&nodes)?;
    let pg = postgres::cpu_between(&pg, &pg_reading(db).await?);
    f.put("msgs_per_s", c.msgs_per_s);
    f.put("ack_p50_ms", c.ack.p50_ms);
    f.put("ack_p99_ms", c.ack.p99_ms);
    f.put("delivery_p99_ms", c.delivery.p99_ms);
    f.put("cpu_ms_per_msg", 1000.0 * cpu / f64_of(c.acked.max(1)));
    f.put("cpu_share", cpu / c.wall);
    f.put(
        "total_cpu_ms_per_msg",
        1000.0 * (cpu + pg) / f64_of(c.acked.max(1)),
    );
    if let Some(n) = per(counter.as_ref(), before, c.acked) {
        f.put("nats_signals_per_msg", n);
    }
    (f.lost, f.dup, f.errors) = (c.lost, c.dup, c.errors);
    for cl in pairs.iter().map(|(c, _)| c).chain(&receiving) {
        cl.close().await;
    }

    // (b) Group fan-out: one sender, M members over the nodes.
    let crowd = Crowd::connect(&nodes, w.members, &ledger).await?;
    let group = crowd.group(&nodes[0].admin().await?, w.members).await?;
    let (meter, before, pg) = (CpuMeter::start_all(&nodes)?, count(), pg_reading(db).await?);
    let shape = (1, w.members, w.messages, w.group_inflight);
    let g = fanout::group_phase(&ledger, &crowd.sender, &group, shape).await?;
    let (cpu, _) = meter.read_all(&nodes)?;
    let pg = postgres::cpu_between(&pg, &pg_reading(db).await?);
    f.put("deliveries_per_s", g.per_s);
    f.put("to_last_member_p50_ms", g.to_last.p50_ms);
    f.put("to_last_member_p99_ms", g.to_last.p99_ms);
    f.put(
        "cpu_us_per_delivery",
        1e6 * cpu / f64_of(g.deliveries.max(1)),
    );
    let group_msgs = f64_of(g.acked.max(1));
    f.put("cpu_ms_per_group_msg", 1000.0 * cpu / group_msgs);
    f.put(
        "total_cpu_ms_per_group_msg",
        1000.0 * (cpu + pg) / group_msgs,
    );
    if let Some(n) = per(counter.as_ref(), before, g.acked) {
        f.put("nats_publishes_per_group_msg", n);
    }
    (f.lost, f.dup, f.errors) = (f.lost + g.lost, f.dup + g.dup, f.errors + g.errors);

    // (c) Memory, per node, after the work.
    let rss: Vec<f64> = nodes
        .iter()
        .map(|n| n.rss_bytes().map(|b| f64_of(b) / 1e6))
        .collect::<anyhow::Result<_>>()?;
    f.put(
        "rss_mb_per_node_max",
        rss.iter().copied().fold(0.0, f64::max),
    );
    f.put("rss_mb_total", rss.iter().sum());
    crowd.close().await;
    Ok(f)
}

/// One setup's round: a fresh database (PostgreSQL) made, the work run, the database dropped
/// whatever happened.
async fn round(ctx: &Ctx, setup: &Setup, n: usize, a: &Args, w: &Work) -> anyhow::Result<Figures> {
    if !setup.postgres {
        return measure(ctx, setup, None, a, w).await;
    }
    let name = format!("roam_lg_{}_{n}", std::process::id());
    let db = TempDb::create(&a.postgres, &name).await?;
    let r = measure(ctx, setup, Some(&db), a, w).await;
    // The nodes are gone (dropped in `measure`); a failed drop leaves only a stray database.
    if let Err(e) = db.drop_now().await {
        eprintln!("cluster: could not drop database {name}: {e:#}");
    }
    r
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    if ctx.attach.is_some() {
        bail!("cluster starts its own nodes: give --roamd, not --url/--pid");
    }
    let setups = a
        .setups
        .iter()
        .map(|s| Setup::parse(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (w, rounds) = if ctx.smoke {
        let w = Work {
            pairs: 4,
            inflight: a.inflight,
            secs: 3.0,
            members: 20,
            messages: 10,
            group_inflight: a.group_inflight,
        };
        (w, 1)
    } else {
        let w = Work {
            pairs: a.pairs,
            inflight: a.inflight,
            secs: a.secs,
            members: a.members,
            messages: a.messages,
            group_inflight: a.group_inflight,
        };
        (w, a.rounds.max(1))
    };
    let mut r = Report::new("cluster");
    r.param("setups", serde_json::json!(a.setups))
        .param("rounds", u64::try_from(rounds)?)
        .param("pairs", u64::try_from(w.pairs)?)
        .param("inflight", u64::try_from(w.inflight)?)
        .param("secs", w.secs)
        .param("members", u64::try_from(w.members)?)
        .param("messages", w.messages)
        .param("group_inflight", w.group_inflight);
    let (mut lost, mut dup, mut errors) = (0, 0, 0);
    // Every round's figures per setup, by name.
    let mut all: Vec<BTreeMap<&str, Vec<f64>>> = setups.iter().map(|_| BTreeMap::new()).collect();
    let mut n = 0;
    for i in 0..rounds {
        for (s, setup) in setups.iter().enumerate() {
            n += 1;
            eprintln!("cluster: round {} of {rounds}, {}", i + 1, setup.name);
            let f = round(ctx, setup, n, a, &w).await?;
            (lost, dup, errors) = (lost + f.lost, dup + f.dup, errors + f.errors);
            let mut point = vec![
                ("setup", f64_of(u64::try_from(s)?)),
                ("round", f64_of(u64::try_from(i)?)),
            ];
            point.extend(f.values.iter().copied());
            r.point("rounds", &point);
            for (name, v) in f.values {
                all[s].entry(name).or_default().push(v);
            }
        }
    }
    for (setup, figs) in setups.iter().zip(all) {
        for (name, vals) in figs {
            r.metric(&format!("{}/{name}", setup.name), median(vals));
        }
    }
    ratios(&mut r);
    r.fault("lost", lost)
        .fault("duplicated", dup)
        .fault("send_errors", errors);
    r.notes.push(
        "per setup: medians over rounds (series `rounds`: setup = index in params.setups); \
         server CPU summed over the setup's nodes from /proc (total_*: plus the PostgreSQL \
         backends serving the setup's database); goals: postgres-1 cpu_ms_per_msg \
         <= 2x sqlite-1, postgres-3+nats <= 1.2x postgres-1, nats_publishes_per_group_msg = 1 \
         whatever the group size; all nodes share this machine's cores, so msg/s cannot grow \
         with nodes here"
            .into(),
    );
    Ok(r)
}

/// The goals' ratios, for the setups present: `ratio/<a>_over_<b>/<figure>`.
fn ratios(r: &mut Report) {
    let pairs = [
        ("postgres-1", "sqlite-1"),
        ("postgres-3+nats", "postgres-1"),
    ];
    let figures = [
        "cpu_ms_per_msg",
        "total_cpu_ms_per_msg",
        "cpu_us_per_delivery",
        "msgs_per_s",
    ];
    for (top, bottom) in pairs {
        for fig in figures {
            let (t, b) = (
                r.metrics.get(&format!("{top}/{fig}")),
                r.metrics.get(&format!("{bottom}/{fig}")),
            );
            if let (Some(t), Some(b)) = (t.copied(), b.copied()) {
                r.metric(&format!("ratio/{top}_over_{bottom}/{fig}"), t / b);
            }
        }
    }
}
