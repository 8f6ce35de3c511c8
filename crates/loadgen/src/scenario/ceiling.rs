//! `ceiling`: what this machine can do at best, measured in the same run as the scenarios
//! that compare with it, on the same disk as roamd's data: raw SQLite batched inserts (WAL,
//! synchronous=FULL, so every commit is an fsync, as roamd's), keyset reads, and a bare
//! loopback WebSocket echo. `send` reports its msg/s as a percentage of the insert ceiling,
//! `fanout` its deliveries/s as a percentage of the echo ceiling ([`measure`]).
use std::{
    net::SocketAddr,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::Context;
use futures::{SinkExt, StreamExt};
use rusqlite::{Connection, params};
use tokio_tungstenite::tungstenite::Message;

use crate::{Ctx, measure::Latency, report::Report};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Commits (each an fsync) timed per batch size: rows = commits x batch.
    #[arg(long, default_value_t = 200)]
    commits: u64,
    /// Keyset reads timed.
    #[arg(long, default_value_t = 20_000)]
    reads: u64,
    /// WebSocket echo connections.
    #[arg(long, default_value_t = 100)]
    connections: usize,
    /// Seconds of echoing.
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            commits: 200,
            reads: 20_000,
            connections: 100,
            secs: 5.0,
        }
    }
}

/// The same-run ceilings.
#[derive(Clone)]
pub struct Ceilings {
    /// Rows/s inserted in batches of 100.
    pub insert_batch100: f64,
    /// Rows/s inserted in batches of 1000.
    pub insert_batch1000: f64,
    /// Keyset reads of 50 rows.
    pub reads: Latency,
    /// 64-byte WebSocket frames echoed per second over 100 loopback connections.
    pub echo: f64,
}

impl Ceilings {
    /// The best batched-insert rate: what a store of messages could reach at most.
    pub fn insert(&self) -> f64 {
        self.insert_batch100.max(self.insert_batch1000)
    }

    /// Writes these ceilings into `r`.
    pub fn record(&self, r: &mut Report) {
        r.ceilings.insert(
            "sqlite_insert_batch100_rows_per_s".into(),
            self.insert_batch100,
        );
        r.ceilings.insert(
            "sqlite_insert_batch1000_rows_per_s".into(),
            self.insert_batch1000,
        );
        r.ceilings.insert("ws_echo_per_s".into(), self.echo);
        let s = self.reads.summary();
        r.ceilings
            .insert("sqlite_keyset_read_p50_ms".into(), s.p50_ms);
        r.ceilings
            .insert("sqlite_keyset_read_p99_ms".into(), s.p99_ms);
    }
}

/// Measures every ceiling with the sizes of `a` (smaller for a smoke run), SQLite in a fresh
/// directory under `near` (the directory that holds roamd's data).
pub async fn measure(a: &Args, smoke: bool, near: &Path) -> anyhow::Result<Ceilings> {
    let (commits, reads, secs) = if smoke {
        (20, 500, 0.5)
    } else {
        (a.commits, a.reads, a.secs)
    };
    let dir = tempfile::Builder::new()
        .prefix("roam-ceiling-")
        .tempdir_in(near)?;
    let path = dir.path().join("ceiling.db");
    let (insert_batch100, insert_batch1000, reads) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let b100 = insert_rate(&path.with_extension("100.db"), commits * 100, 100)?;
            let b1000 = insert_rate(&path, commits * 1000, 1000)?;
            let lat = keyset_reads(&path, commits * 1000, reads)?;
            Ok((b100, b1000, lat))
        })
        .await??;
    let echo = echo_rate(a.connections, Duration::from_secs_f64(secs)).await?;
    Ok(Ceilings {
        insert_batch100,
        insert_batch1000,
        reads,
        echo,
    })
}

/// Conversations the rows are spread over.
const CONVERSATIONS: u64 = 1000;

fn open(path: &Path) -> anyhow::Result<Connection> {
    let c = Connection::open(path)?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "FULL")?;
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS messages (conv INTEGER NOT NULL, id INTEGER NOT NULL, \
         body BLOB NOT NULL, PRIMARY KEY (id));
         CREATE INDEX IF NOT EXISTS messages_conv_id ON messages (conv, id);",
    )?;
    Ok(c)
}

/// Inserts `rows` 200-byte rows, `batch` per transaction; answers rows/s.
fn insert_rate(path: &Path, rows: u64, batch: usize) -> anyhow::Result<f64> {
    let mut c = open(path)?;
    let body = [b'x'; 200];
    let began = Instant::now();
    let mut id = 0u64;
    while id < rows {
        let tx = c.transaction()?;
        {
            let mut st =
                tx.prepare_cached("INSERT INTO messages (conv, id, body) VALUES (?, ?, ?)")?;
            for _ in 0..batch {
                if id >= rows {
                    break;
                }
                st.execute(params![
                    i64::try_from(id % CONVERSATIONS)?,
                    i64::try_from(id)?,
                    &body[..]
                ])?;
                id += 1;
            }
        }
        tx.commit()?;
    }
    Ok(f64_of(rows) / began.elapsed().as_secs_f64())
}

/// Times `n` keyset pages (`conv = ? AND id < ? ORDER BY id DESC LIMIT 50`) at spread-out
/// conversations and cursors over the `rows` inserted at `path`.
fn keyset_reads(path: &Path, rows: u64, n: u64) -> anyhow::Result<Latency> {
    let c = open(path)?;
    let mut st = c.prepare_cached(
        "SELECT id, body FROM messages WHERE conv = ? AND id < ? ORDER BY id DESC LIMIT 50",
    )?;
    let mut lat = Latency::default();
    // A fixed-step walk (no RNG crate): step coprime with the sizes spreads the probes.
    let mut x = 7u64;
    for _ in 0..n {
        x = (x.wrapping_mul(6_364_136_223_846_793_005)).wrapping_add(1_442_695_040_888_963_407);
        let conv = (x >> 33) % CONVERSATIONS;
        let cursor = (x >> 13) % rows.max(1) + 1;
        let began = Instant::now();
        let got = st
            .query_map(params![i64::try_from(conv)?, i64::try_from(cursor)?], |r| {
                r.get::<_, i64>(0)
            })?
            .count();
        lat.record(began.elapsed());
        std::hint::black_box(got);
    }
    Ok(lat)
}

/// Echoes 64-byte binary frames over `connections` loopback WebSockets for `secs` (each
/// connection sends the next frame when the last came back); answers echoes/s. The echo
/// server runs on its own thread and runtime, as a separate server would.
pub async fn echo_rate(connections: usize, secs: Duration) -> anyhow::Result<f64> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || -> anyhow::Result<()> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        rt.block_on(echo_server(listener, stop_rx))
    });
    let until = Instant::now() + secs;
    let clients: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(echo_client(addr, until)))
        .collect();
    let began = Instant::now();
    let mut total = 0u64;
    for c in clients {
        total += c.await??;
    }
    let wall = began.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    server
        .join()
        .map_err(|_| anyhow::anyhow!("echo server panicked"))??;
    Ok(f64_of(total) / wall)
}

async fn echo_server(
    listener: std::net::TcpListener,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            accepted = listener.accept() => {
                let (tcp, _) = accepted?;
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                        return;
                    };
                    while let Some(Ok(m)) = ws.next().await {
                        if (m.is_binary() || m.is_text()) && ws.send(m).await.is_err() {
                            return;
                        }
                    }
                });
            }
        }
    }
}

async fn echo_client(addr: SocketAddr, until: Instant) -> anyhow::Result<u64> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .context("connecting to the echo server")?;
    let frame = Message::binary(vec![7u8; 64]);
    let mut n = 0u64;
    while Instant::now() < until {
        ws.send(frame.clone()).await?;
        match ws.next().await {
            Some(Ok(_)) => n += 1,
            Some(Err(e)) => return Err(e.into()),
            None => anyhow::bail!("echo server closed"),
        }
    }
    let _ = ws.close(None).await;
    Ok(n)
}

/// A count as a float, for rates (exact up to 2^53; counts here stay far below).
pub fn f64_of(n: u64) -> f64 {
    n as f64
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let mut r = Report::new("ceiling");
    let near = std::env::temp_dir();
    let c = measure(a, ctx.smoke, &near).await?;
    c.record(&mut r);
    r.param("commits", a.commits)
        .param("connections", u64::try_from(a.connections)?)
        .param("dir", near.display().to_string());
    r.latency
        .insert("sqlite_keyset_read".into(), c.reads.summary());
    r.notes.push(
        "SQLite: WAL, synchronous=FULL, 200-byte rows, (conv,id) index; echo: 64-byte binary \
         frames, one in flight per connection, tokio-tungstenite server on its own runtime"
            .into(),
    );
    Ok(r)
}
