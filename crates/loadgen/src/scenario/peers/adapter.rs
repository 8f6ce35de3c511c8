//! The same work for every server: the [`Peer`] adapter trait, one round of work through it, and
//! the peer servers' processes (started fresh per round, CPU read from `/proc/<pid>`).
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures::future::join_all;

use crate::{measure::Latency, server::cpu_seconds_of};

/// One server under comparison, driven the same way: `senders` pairs (sender `s{i}` → recipient
/// `r{i}`, both online), each sending closed loop (one message in flight per pair), then
/// paging back through pair 0's conversation.
pub trait Peer {
    /// A logged-in pair: the sender's and the recipient's connections.
    type Pair;
    /// The opaque cursor of a history page (the next page is older).
    type Cursor: Clone;

    fn name(&self) -> &'static str;
    /// Starts the server on a fresh database; returns its pid (for `/proc`).
    async fn start(&mut self) -> anyhow::Result<u32>;
    /// Logs in pair `i` (and opens its conversation when the server needs one).
    async fn pair(&self, i: usize) -> anyhow::Result<Self::Pair>;
    /// Sends one message from the pair's sender to its recipient; returns when the server has
    /// made it durable (its ack) or, without an ack, when the recipient has it.
    async fn send(&self, pair: &mut Self::Pair, body: &str) -> anyhow::Result<()>;
    /// One history page of `page` messages, newest first, older than `before` (the newest page
    /// for `None`): how many it held and the cursor of the next older page (`None` at the end).
    async fn history(
        &self,
        pair: &mut Self::Pair,
        before: Option<Self::Cursor>,
        page: usize,
    ) -> anyhow::Result<(usize, Option<Self::Cursor>)>;
    /// Stops the server (SIGKILL: the next round starts from a fresh copy anyway).
    fn stop(&mut self);
}

/// The work of one round.
#[derive(Debug, Clone, Copy)]
pub struct Work {
    pub senders: usize,
    /// Messages per sender.
    pub per_sender: usize,
    pub body_bytes: usize,
    pub pages: usize,
    pub page_size: usize,
}

/// What one round measured.
pub struct Round {
    pub messages: usize,
    pub send_wall_s: f64,
    pub send_cpu_s: f64,
    pub send: Latency,
    pub history: Latency,
    /// Messages the history pages held (a check that the pages were full).
    pub history_messages: usize,
}

impl Round {
    pub fn msgs_per_s(&self) -> f64 {
        self.messages as f64 / self.send_wall_s
    }

    pub fn cpu_ms_per_msg(&self) -> f64 {
        1000.0 * self.send_cpu_s / self.messages as f64
    }
}

/// Runs one round on a freshly started server and stops it.
pub async fn round<P: Peer>(peer: &mut P, work: Work) -> anyhow::Result<Round> {
    let pid = peer.start().await?;
    let result = drive(peer, pid, work).await;
    peer.stop();
    result.with_context(|| format!("{} round", peer.name()))
}

async fn drive<P: Peer>(peer: &P, pid: u32, work: Work) -> anyhow::Result<Round> {
    let mut pairs = Vec::with_capacity(work.senders);
    for i in 0..work.senders {
        pairs.push(peer.pair(i).await?);
    }
    let body: String = "x".repeat(work.body_bytes);
    let cpu0 = cpu_seconds_of(pid)?;
    let t0 = Instant::now();
    let lanes = join_all(pairs.iter_mut().map(|pair| {
        let body = body.as_str();
        async move {
            let mut lat = Latency::default();
            for _ in 0..work.per_sender {
                let t = Instant::now();
                peer.send(pair, body).await?;
                lat.record(t.elapsed());
            }
            anyhow::Ok(lat)
        }
    }))
    .await;
    let send_wall_s = t0.elapsed().as_secs_f64();
    let send_cpu_s = cpu_seconds_of(pid)? - cpu0;
    let mut send = Latency::default();
    for lane in lanes {
        send.merge(&lane?);
    }
    // History: pair 0's conversation, newest first; back to the newest page when it runs out.
    let pair = pairs.first_mut().context("no senders")?;
    let mut history = Latency::default();
    let mut history_messages = 0;
    let mut cursor = None;
    for _ in 0..work.pages {
        let t = Instant::now();
        let (n, next) = peer.history(pair, cursor.take(), work.page_size).await?;
        history.record(t.elapsed());
        history_messages += n;
        cursor = next;
    }
    Ok(Round {
        messages: work.senders * work.per_sender,
        send_wall_s,
        send_cpu_s,
        send,
        history,
        history_messages,
    })
}

/// A peer server process, on a fresh copy of its seeded database.
pub struct PeerProcess {
    child: Option<Child>,
}

impl PeerProcess {
    /// Copies `seed` over `db` (dropping any WAL left from the last round), starts `cmd`, and
    /// waits until `port` accepts connections.
    pub async fn start(
        seed: &Path,
        db: &Path,
        cmd: &mut Command,
        port: u16,
    ) -> anyhow::Result<PeerProcess> {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
        std::fs::copy(seed, db).with_context(|| format!("copying {}", seed.display()))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {cmd:?}"))?;
        let mut p = PeerProcess { child: Some(child) };
        let until = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(child) = &mut p.child
                && let Some(status) = child.try_wait()?
            {
                bail!("{cmd:?} exited at start: {status}");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(p);
            }
            if Instant::now() > until {
                bail!("{cmd:?}: nothing listens on port {port} after 120 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
