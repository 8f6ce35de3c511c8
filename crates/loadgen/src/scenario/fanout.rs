//! `fanout`: one sender, a group of M online members (each a user with its own device(s)).
//! The sender sends K messages, `inflight` outstanding at once; every member device must get
//! each acked message exactly once. Reports deliveries/s (as a percentage of the same-run
//! WebSocket echo ceiling), server CPU per delivery, and the time from a send being due to
//! its LAST member getting it (p50/p99 over the messages).
use std::time::{Duration, Instant};

use anyhow::Context;
use roam_sdk::{Admin, ChatType, Client, NewGroup, Outgoing};

use super::ceiling::{self, f64_of};
use crate::{
    Ctx,
    ledger::{self, Key, Ledger, Tag},
    measure::{Latency, Percentiles},
    population,
    report::Report,
    server::{CpuMeter, Roamd},
};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Group sizes to run, online members besides the sender (smoke: 20).
    #[arg(long, value_delimiter = ',', default_value = "500,1000")]
    members: Vec<usize>,
    /// Messages sent to each group (smoke: 10).
    #[arg(long, default_value_t = 100)]
    messages: u64,
    /// Sends outstanding at once.
    #[arg(long, default_value_t = 4)]
    inflight: u64,
}

/// Users added to a group per call (the server's batch limit is 60).
const ADD_PER_CALL: usize = 50;

/// Sends `k` tagged messages of `phase` to `group`, `inflight` at once; answers the acked
/// keys and the number of failed sends.
async fn send_all(
    sender: &Client,
    group: &str,
    phase: u32,
    k: u64,
    inflight: u64,
    base: Instant,
) -> anyhow::Result<(Vec<Key>, u64)> {
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..inflight.max(1) {
        let (sender, group) = (sender.clone(), group.to_owned());
        tasks.spawn(async move {
            let (mut acked, mut errors) = (Vec::new(), 0u64);
            let mut seq = lane;
            while seq < k {
                let tag = Tag {
                    phase,
                    sender: 0,
                    seq,
                    due_us: Tag::micros(base, Instant::now()),
                };
                match sender
                    .send(&Outgoing::text(ChatType::Group, &group, tag.text()))
                    .await
                {
                    Ok(_) => acked.push((0, seq)),
                    Err(_) => errors += 1,
                }
                seq += inflight.max(1);
            }
            (acked, errors)
        });
    }
    let (mut acked, mut errors) = (Vec::new(), 0);
    while let Some(r) = tasks.join_next().await {
        let (a, e) = r?;
        acked.extend(a);
        errors += e;
    }
    Ok((acked, errors))
}

/// A group's people: M members with a device each (their deliveries go to the ledger) and
/// the owner, whose one device sends.
pub struct Crowd {
    pub members: Vec<String>,
    pub owner: String,
    pub sender: Client,
    devices: Vec<Client>,
}

impl Crowd {
    /// Registers `m` members and the owner; the owner's device on the first of `nodes`, the
    /// members' round-robin from the next one (so mostly on other nodes when there are several).
    pub async fn connect(nodes: &[Roamd], m: usize, ledger: &Ledger) -> anyhow::Result<Crowd> {
        let admin = nodes.first().context("no node")?.admin().await?;
        let members = population::register(&admin, "m", m).await?;
        let owner = population::register(&admin, "owner", 1).await?;
        let mut devices = Vec::with_capacity(m);
        for d in population::login_spread(nodes, &members, 1).await? {
            ledger.receive(d.events);
            devices.push(d.client);
        }
        let d = population::login_spread(nodes, &owner, 0)
            .await?
            .pop()
            .context("no sender device")?;
        // The sending device's own events are read and dropped.
        let mut events = d.events;
        tokio::spawn(async move { while events.recv().await.is_some() {} });
        let owner = owner.into_iter().next().context("no owner")?;
        Ok(Crowd {
            members,
            owner,
            sender: d.client,
            devices,
        })
    }

    /// Makes a group of the owner and the first `m` members.
    pub async fn group(&self, admin: &Admin, m: usize) -> anyhow::Result<String> {
        let names: Vec<&str> = self.members[..m].iter().map(String::as_str).collect();
        let mut g = NewGroup::new(&format!("fanout-{m}"), &self.owner);
        g.max_users = Some(u32::try_from(m + 1)?);
        let id = admin.create_group(&g).await?;
        for chunk in names.chunks(ADD_PER_CALL) {
            admin.add_members(&id, chunk).await?;
        }
        Ok(id)
    }

    pub async fn close(&self) {
        for c in self.devices.iter().chain(std::iter::once(&self.sender)) {
            c.close().await;
        }
    }
}

/// What sending to a group of `m` came to.
pub struct GroupPhase {
    /// Messages the server acked.
    pub acked: u64,
    pub deliveries: u64,
    pub per_s: f64,
    pub to_last: Percentiles,
    pub delivery: Percentiles,
    pub lost: u64,
    pub dup: u64,
    pub errors: u64,
}

/// Sends `k` messages of `phase` to `group` (of `m` members besides the sender), `inflight`
/// at once, and waits for every member's deliveries.
pub async fn group_phase(
    ledger: &Ledger,
    sender: &Client,
    group: &str,
    (phase, m, k, inflight): (u32, usize, u64, u64),
) -> anyhow::Result<GroupPhase> {
    let began = Instant::now();
    let (acked, errors) = send_all(sender, group, phase, k, inflight, ledger.base()).await?;
    let expected = u64::try_from(acked.len() * m)?;
    ledger
        .settle(phase, expected, Duration::from_secs(30))
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = ledger.take(phase);
    let (lost, dup) = ledger::check(&log, &acked, u32::try_from(m)?);
    let end = log.last.values().map(|(_, at)| *at).max().unwrap_or(began);
    let wall = end.saturating_duration_since(began).as_secs_f64().max(1e-6);
    let mut to_last = Latency::default();
    for (due, at) in log.last.values() {
        to_last.record(at.saturating_duration_since(*due));
    }
    Ok(GroupPhase {
        acked: u64::try_from(acked.len())?,
        deliveries: log.deliveries,
        per_s: f64_of(log.deliveries) / wall,
        to_last: to_last.summary(),
        delivery: log.delivery.summary(),
        lost,
        dup,
        errors,
    })
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let (sizes, k) = if ctx.smoke {
        (vec![20], 10)
    } else {
        (a.members.clone(), a.messages)
    };
    let most = sizes.iter().copied().max().unwrap_or(0);
    let server = ctx.server(&[]).await?;
    let echo = ceiling::echo_rate(
        100,
        Duration::from_secs_f64(if ctx.smoke { 0.5 } else { 5.0 }),
    )
    .await?;
    let admin = server.admin().await?;
    let ledger = Ledger::new();
    let crowd = Crowd::connect(std::slice::from_ref(&server), most, &ledger).await?;

    let mut r = Report::new("fanout");
    r.param("members", serde_json::json!(sizes))
        .param("messages", k)
        .param("inflight", a.inflight);
    r.ceilings.insert("ws_echo_per_s".into(), echo);
    let (mut lost, mut dup, mut errors) = (0, 0, 0);
    for (i, &m) in sizes.iter().enumerate() {
        let phase = u32::try_from(i + 1)?;
        let group = crowd.group(&admin, m).await?;
        let meter = CpuMeter::start(&server)?;
        let g = group_phase(&ledger, &crowd.sender, &group, (phase, m, k, a.inflight)).await?;
        let (cpu, _) = meter.read(&server)?;
        (lost, dup, errors) = (lost + g.lost, dup + g.dup, errors + g.errors);
        let cpu_us = 1e6 * cpu / f64_of(g.deliveries.max(1));
        r.point(
            "fanout",
            &[
                ("members", f64_of(u64::try_from(m)?)),
                ("deliveries_per_s", g.per_s),
                ("server_cpu_us_per_delivery", cpu_us),
                ("to_last_member_p50_ms", g.to_last.p50_ms),
                ("to_last_member_p99_ms", g.to_last.p99_ms),
                ("of_echo_ceiling_pct", 100.0 * g.per_s / echo),
            ],
        );
        r.metric(&format!("deliveries_per_s_{m}"), g.per_s)
            .metric(&format!("server_cpu_us_per_delivery_{m}"), cpu_us)
            .against(&format!("deliveries_per_s_{m}"), "ws_echo_per_s", echo);
        r.latency.insert(format!("to_last_member_{m}"), g.to_last);
        r.latency.insert(format!("delivery_{m}"), g.delivery);
    }
    r.fault("lost", lost)
        .fault("duplicated", dup)
        .fault("send_errors", errors);
    r.notes.push(
        "one device per member; deliveries/s from the first send to the last delivery; \
         server CPU from /proc over the same stretch"
            .into(),
    );
    crowd.close().await;
    Ok(r)
}
