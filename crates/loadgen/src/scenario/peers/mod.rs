//! `peers`: the same work on Roam and on the peers installed here (tuned Prosody with mod_mam,
//! Synapse; both on SQLite, set up by `scripts/peers/setup.sh`), in alternating rounds.
//!
//! One round: a fresh server (a fresh database), C sender→recipient pairs online, each sending
//! its messages closed loop (180-byte bodies, durable: Roam with `synchronous=FULL`), then 20
//! history pages of 50 of pair 0's conversation. Rounds alternate Roam, peer, Roam, peer, … and
//! each adjacent (Roam, peer) pair gives ratios (Roam/peer msg/s, peer/Roam server CPU per
//! message, peer/Roam history page p50), reported as median, min and max over the pairs: drift
//! on this shared machine hits both halves of a pair alike. The slow peers send fewer messages
//! per round (Synapse does ~60 msg/s); every figure is per message. A peer that is not
//! installed is reported as skipped.
use std::path::PathBuf;

use adapter::{Peer, Round, Work, round};

use crate::{Ctx, measure::median, report::Report};

mod adapter;
mod matrix;
mod roam;
mod xmpp;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Rounds per server (each peer gets as many as Roam's rounds against it).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Concurrent sender→recipient pairs.
    #[arg(long, default_value_t = 4)]
    senders: usize,
    /// Messages per sender in a Roam round.
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    /// Messages per sender in a Prosody round.
    #[arg(long, default_value_t = 500)]
    prosody_messages: usize,
    /// Messages per sender in a Synapse round (it does ~60 msg/s).
    #[arg(long, default_value_t = 75)]
    synapse_messages: usize,
    #[arg(long, default_value_t = 180)]
    body_bytes: usize,
    #[arg(long, default_value_t = 20)]
    pages: usize,
    #[arg(long, default_value_t = 50)]
    page_size: usize,
    /// Where scripts/peers/setup.sh put the peers.
    #[arg(long, default_value = "target/peers")]
    peers_dir: PathBuf,
    #[arg(long, default_value_t = 15222)]
    prosody_port: u16,
    #[arg(long, default_value_t = 18008)]
    synapse_port: u16,
    /// Only these peers (prosody, synapse); default: every one installed.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let scale = |n: usize| if ctx.smoke { n.div_ceil(20).max(2) } else { n };
    let rounds = if ctx.smoke { 1 } else { a.rounds.max(1) };
    let work = |per_sender: usize| Work {
        senders: a.senders,
        per_sender: scale(per_sender),
        body_bytes: a.body_bytes,
        pages: if ctx.smoke { 3 } else { a.pages },
        page_size: a.page_size,
    };
    let mut r = Report::new("peers");
    r.param("rounds", rounds)
        .param("senders", a.senders)
        .param("body_bytes", a.body_bytes)
        .param("pages", a.pages)
        .param("page_size", a.page_size)
        .param("roam_messages_per_sender", scale(a.messages));
    let wanted = |name: &str| a.only.is_empty() || a.only.iter().any(|o| o == name);
    let mut roam = roam::RoamPeer::new(ctx, a.senders);
    let mut skipped = Vec::new();
    // Absolute: Synapse runs in its data directory.
    let peers_dir = std::path::absolute(&a.peers_dir)?;

    if wanted("prosody") {
        match xmpp::XmppPeer::find(peers_dir.join("prosody"), a.prosody_port) {
            Some(mut p) => {
                r.param("prosody_messages_per_sender", scale(a.prosody_messages));
                let w = (work(a.messages), work(a.prosody_messages));
                compare(&mut r, &mut roam, &mut p, w, rounds).await?;
            }
            None => skipped.push("prosody"),
        }
    }
    if wanted("synapse") {
        match matrix::MatrixPeer::find(peers_dir.clone(), a.synapse_port) {
            Some(mut p) => {
                r.param("synapse_messages_per_sender", scale(a.synapse_messages));
                let w = (work(a.messages), work(a.synapse_messages));
                compare(&mut r, &mut roam, &mut p, w, rounds).await?;
            }
            None => skipped.push("synapse"),
        }
    }
    for s in &skipped {
        r.notes.push(format!(
            "{s}: skipped (not installed under {}; run scripts/peers/setup.sh)",
            a.peers_dir.display()
        ));
    }
    r.param("skipped", skipped);
    r.notes.push(
        "signals: Roam = the send ack (stored, synchronous=FULL); Prosody = the recipient's \
         receipt (mod_mam archives before routing; no ack exists); Synapse = the PUT /send answer \
         (event persisted)"
            .to_owned(),
    );
    r.notes.push(
        "history: pair 0's conversation, newest page first, restarting from the newest page \
         when it runs out; Roam over REST, Prosody MAM with RSM before, Synapse /messages dir=b"
            .to_owned(),
    );
    Ok(r)
}

/// Alternating rounds Roam, peer, Roam, peer, …; records both sides and the pair ratios.
async fn compare<P: Peer>(
    r: &mut Report,
    roam: &mut roam::RoamPeer<'_>,
    peer: &mut P,
    (roam_work, peer_work): (Work, Work),
    rounds: usize,
) -> anyhow::Result<()> {
    let name = peer.name();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for i in 0..rounds {
        let a = round(roam, roam_work).await?;
        let b = round(peer, peer_work).await?;
        eprintln!(
            "peers: round {i}: roam {:.0} msg/s, {:.4} ms CPU/msg, history p50 {:.2} ms | {name} {:.0} msg/s, {:.3} ms CPU/msg, history p50 {:.2} ms",
            a.msgs_per_s(),
            a.cpu_ms_per_msg(),
            a.history.summary().p50_ms,
            b.msgs_per_s(),
            b.cpu_ms_per_msg(),
            b.history.summary().p50_ms
        );
        r.point(
            &format!("{name}_rounds"),
            &[
                ("round", i as f64),
                ("roam_msgs_per_s", a.msgs_per_s()),
                ("peer_msgs_per_s", b.msgs_per_s()),
                ("roam_cpu_ms_per_msg", a.cpu_ms_per_msg()),
                ("peer_cpu_ms_per_msg", b.cpu_ms_per_msg()),
                ("roam_history_p50_ms", a.history.summary().p50_ms),
                ("peer_history_p50_ms", b.history.summary().p50_ms),
            ],
        );
        ours.push(a);
        theirs.push(b);
    }
    let pairs = || ours.iter().zip(&theirs);
    spread(
        r,
        &format!("{name}.roam_over_peer_msgs_per_s"),
        pairs()
            .map(|(a, b)| a.msgs_per_s() / b.msgs_per_s())
            .collect(),
    );
    spread(
        r,
        &format!("{name}.peer_over_roam_cpu_per_msg"),
        pairs()
            .map(|(a, b)| b.cpu_ms_per_msg() / a.cpu_ms_per_msg())
            .collect(),
    );
    spread(
        r,
        &format!("{name}.peer_over_roam_history_p50"),
        pairs()
            .map(|(a, b)| b.history.summary().p50_ms / a.history.summary().p50_ms)
            .collect(),
    );
    for (side, runs) in [
        ("roam_vs_".to_owned() + name, &ours),
        (name.to_owned(), &theirs),
    ] {
        absolute(r, &side, runs);
    }
    let empty = theirs
        .iter()
        .chain(&ours)
        .filter(|x| x.history_messages == 0)
        .count();
    r.fault(
        &format!("{name}.rounds_with_empty_history"),
        u64::try_from(empty)?,
    );
    Ok(())
}

/// Median, min and max of the pair ratios `v` under `name`.
fn spread(r: &mut Report, name: &str, v: Vec<f64>) {
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    r.metric(&format!("{name}.median"), median(v))
        .metric(&format!("{name}.min"), min)
        .metric(&format!("{name}.max"), max);
}

/// One side's medians over its rounds, and its latencies over all rounds.
fn absolute(r: &mut Report, side: &str, runs: &[Round]) {
    r.metric(
        &format!("{side}.msgs_per_s"),
        median(runs.iter().map(Round::msgs_per_s).collect()),
    )
    .metric(
        &format!("{side}.cpu_ms_per_msg"),
        median(runs.iter().map(Round::cpu_ms_per_msg).collect()),
    );
    let mut send = crate::measure::Latency::default();
    let mut history = crate::measure::Latency::default();
    for x in runs {
        send.merge(&x.send);
        history.merge(&x.history);
    }
    r.latency.insert(format!("{side}.send"), send.summary());
    r.latency
        .insert(format!("{side}.history_page"), history.summary());
}
