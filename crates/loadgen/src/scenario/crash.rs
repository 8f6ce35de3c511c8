//! `crash`: senders send one-to-one messages and wait for each ack; after T seconds roamd is
//! killed with SIGKILL (no shutdown, no flush) and started again on the same data, while the
//! senders keep going (the SDK reconnects and sends again what was not acked). After R rounds
//! every acked message is read back from the history (REST) and from what the recipients
//! received: `lost` = acked but not stored (or never delivered), `duplicated` = stored (or
//! delivered) more than once. Also reports how long a restart took.
use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use roam_sdk::{Body, ChatType, Client, Direction, HistoryQuery, Outgoing};

use super::{ceiling::f64_of, send};
use crate::{
    Ctx,
    ledger::{self, Key, Ledger, Tag},
    report::Report,
};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Sender/recipient pairs (smoke: 2).
    #[arg(long, default_value_t = 20)]
    pairs: usize,
    /// Seconds of sending before each kill (smoke: 1).
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// Kill/restart rounds (smoke: 1).
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Sends each sender keeps outstanding.
    #[arg(long, default_value_t = 4)]
    inflight: usize,
}

/// How long one send may wait for its ack (over a restart) before it counts as unacked.
const SEND_LIMIT: Duration = Duration::from_secs(30);

/// Sends until `stop`: the acked keys, and sends that failed or timed out.
fn spawn_senders(
    pairs: &[(Client, String)],
    inflight: usize,
    seqs: &[Arc<AtomicU64>],
    stop: &Arc<AtomicBool>,
    base: Instant,
) -> anyhow::Result<tokio::task::JoinSet<(Vec<Key>, u64)>> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, ((client, to), seqs)) in pairs.iter().zip(seqs).enumerate() {
        let sender = u32::try_from(i)?;
        for _ in 0..inflight {
            let (client, to, seqs, stop) = (client.clone(), to.clone(), seqs.clone(), stop.clone());
            tasks.spawn(async move {
                let (mut acked, mut failed) = (Vec::new(), 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let tag = Tag {
                        phase: 0,
                        sender,
                        seq: seqs.fetch_add(1, Ordering::Relaxed),
                        due_us: Tag::micros(base, Instant::now()),
                    };
                    let msg = Outgoing::text(ChatType::Single, &to, tag.text());
                    match tokio::time::timeout(SEND_LIMIT, client.send(&msg)).await {
                        Ok(Ok(_)) => acked.push((sender, tag.seq)),
                        _ => {
                            failed += 1;
                            // Down for a moment: do not spin on a closed connection.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
                (acked, failed)
            });
        }
    }
    Ok(tasks)
}

/// Every tagged message of each pair's conversation, read back from the server's history
/// as the sender sees it: how many times each key is stored.
async fn stored(
    admin: &roam_sdk::Admin,
    pairs: &[(Client, String)],
) -> anyhow::Result<HashMap<Key, u32>> {
    let mut seen: HashMap<Key, u32> = HashMap::new();
    for (client, to) in pairs {
        let as_sender = admin.as_user(client.user()).await?;
        let mut q = HistoryQuery::new(ChatType::Single, to)
            .direction(Direction::Down)
            .page_size(50);
        loop {
            let page = as_sender.get_history_messages(&q).await?;
            for m in &page.messages {
                if let Body::Text(t) = &m.body
                    && let Some(tag) = Tag::parse(t)
                {
                    *seen.entry((tag.sender, tag.seq)).or_default() += 1;
                }
            }
            match (page.is_last, page.cursor) {
                (false, Some(c)) => q = q.after(c),
                _ => break,
            }
        }
    }
    Ok(seen)
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let (n, secs, rounds) = if ctx.smoke {
        (2, 1.0, 1)
    } else {
        (a.pairs, a.secs, a.rounds)
    };
    let mut server = ctx.server(&[]).await?;
    let ledger = Ledger::new();
    let base = ledger.base();
    let (pairs, receiving) = send::connect(std::slice::from_ref(&server), n, &ledger).await?;
    let seqs: Vec<Arc<AtomicU64>> = (0..n).map(|_| Arc::default()).collect();
    let (mut acked, mut failed) = (Vec::new(), 0u64);
    let mut restarts = Vec::new();
    for _ in 0..rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = spawn_senders(&pairs, a.inflight, &seqs, &stop, base)?;
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        server.kill9()?;
        restarts.push(server.restart().await?.as_secs_f64());
        // Keep sending a moment after the restart: the clients come back by themselves.
        tokio::time::sleep(Duration::from_secs(1)).await;
        stop.store(true, Ordering::Relaxed);
        while let Some(r) = tasks.join_next().await {
            let (k, f) = r?;
            acked.extend(k);
            failed += f;
        }
    }
    let admin = server.admin().await?;
    let seen = stored(&admin, &pairs).await?;
    let lost = acked.iter().filter(|k| !seen.contains_key(k)).count();
    let duplicated: u64 = seen.values().map(|c| u64::from(c.saturating_sub(1))).sum();
    let expected = u64::try_from(acked.len())?;
    ledger.settle(0, expected, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (delivery_lost, delivery_dup) = ledger::check(&ledger.take(0), &acked, 1);

    let mut r = Report::new("crash");
    r.param("pairs", u64::try_from(n)?)
        .param("secs_before_kill", secs)
        .param("rounds", rounds)
        .param("inflight", u64::try_from(a.inflight)?)
        .metric("acked", f64_of(expected))
        .metric("sends_unacked", f64_of(failed))
        .metric(
            "stored_tagged",
            f64_of(seen.values().map(|c| u64::from(*c)).sum()),
        )
        .metric(
            "restart_secs_max",
            restarts.iter().copied().fold(0.0, f64::max),
        )
        .metric(
            "restart_secs_median",
            crate::measure::median(restarts.clone()),
        );
    r.params
        .insert("restart_secs".into(), serde_json::json!(restarts));
    r.fault("lost", u64::try_from(lost)?)
        .fault("duplicated", duplicated)
        .fault("delivery_lost", delivery_lost)
        .fault("delivery_duplicated", delivery_dup);
    r.notes.push(
        "restart = spawn to /health answering on the same data; stored = the sender's REST \
         history of each pair; unacked sends (failed or timed out around the kill) may or may \
         not be stored and are not faults"
            .into(),
    );
    for c in pairs.iter().map(|(c, _)| c).chain(&receiving) {
        c.close().await;
    }
    Ok(r)
}
