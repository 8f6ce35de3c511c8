//! The soak's abusers, each a task that runs until told to stop and then says what it saw:
//! oversize messages (must be refused, none stored), a flooding connection (must meet the
//! traffic limit), a slow reader (a raw WebSocket that logs in and never reads while messages
//! pour in: must be disconnected), failed logins (wrong passwords: refused, then throttled).
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use futures::{SinkExt, StreamExt};
use roam_protocol::{
    jid,
    msync::ClientFrame,
    pb::{CommSyncUl, Provision},
};
use roam_sdk::{ChatType, Client, Error, Options, Outgoing};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::{measure::Schedule, server::APP_KEY};

/// Counters the abusers fill.
#[derive(Default)]
pub struct Seen {
    pub oversize_refused: AtomicU64,
    pub oversize_accepted: AtomicU64,
    pub flood_accepted: AtomicU64,
    pub flood_limited: AtomicU64,
    pub flood_other_errors: AtomicU64,
    pub feeder_sent: AtomicU64,
    pub logins_refused: AtomicU64,
    pub logins_throttled: AtomicU64,
    pub logins_accepted: AtomicU64,
}

/// Over the 5 KiB text limit, well under the frame limit.
const OVERSIZE_TEXT: usize = 8 * 1024;

fn opts(url: &str, user: &str, pw: &str) -> Options {
    Options::password(url, APP_KEY, user, pw)
}

/// Sends an oversize text to `sink` twice a second.
pub async fn oversize(
    url: String,
    pw: String,
    sink: String,
    stop: Arc<AtomicBool>,
    seen: Arc<Seen>,
) {
    let Ok((c, _ev)) = Client::open(opts(&url, "abuse-big", &pw)).await else {
        return;
    };
    let text = "x".repeat(OVERSIZE_TEXT);
    while !stop.load(Relaxed) {
        match c
            .send(&Outgoing::text(ChatType::Single, &sink, &text))
            .await
        {
            Ok(_) => seen.oversize_accepted.fetch_add(1, Relaxed),
            Err(_) => seen.oversize_refused.fetch_add(1, Relaxed),
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    c.close().await;
}

/// One connection sending to `sink` at `rate` a second (far over the per-connection limit),
/// open loop: the sends do not wait for each other.
pub async fn flood(
    url: String,
    pw: String,
    sink: String,
    rate: f64,
    stop: Arc<AtomicBool>,
    seen: Arc<Seen>,
) {
    let Ok((c, _ev)) = Client::open(opts(&url, "abuse-flood", &pw)).await else {
        return;
    };
    let sched = Schedule::new(rate, Duration::ZERO);
    let mut i = 0u64;
    let mut tasks = tokio::task::JoinSet::new();
    while !stop.load(Relaxed) {
        sched.wait(i).await;
        i += 1;
        let (c, sink, seen) = (c.clone(), sink.clone(), seen.clone());
        tasks.spawn(async move {
            match c
                .send(&Outgoing::text(ChatType::Single, &sink, "flood"))
                .await
            {
                Ok(_) => seen.flood_accepted.fetch_add(1, Relaxed),
                Err(Error::SendRefused { reason, .. }) if reason.contains("traffic limit") => {
                    seen.flood_limited.fetch_add(1, Relaxed)
                }
                Err(_) => seen.flood_other_errors.fetch_add(1, Relaxed),
            };
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    c.close().await;
}

/// Logs `user` in over a raw WebSocket with a tiny receive buffer, then never reads, while
/// `feeders` send it 4 KiB texts at 40/s each and it keeps asking for them (pulls it never
/// reads the answers of). Answers whether the server closed it.
pub async fn slow_reader(
    url: String,
    pw: String,
    user: String,
    feeders: Vec<String>,
    stop: Arc<AtomicBool>,
    seen: Arc<Seen>,
) -> anyhow::Result<bool> {
    let token = Client::open_rest(opts(&url, &user, &pw))
        .await?
        .token()
        .to_owned();
    let addr = url.trim_start_matches("http://");
    let sock = TcpSocket::new_v4()?;
    sock.set_recv_buffer_size(4096)?;
    let stream = sock.connect(addr.parse()?).await?;
    let (mut ws, _) =
        tokio_tungstenite::client_async(format!("ws://{addr}/websocket"), stream).await?;
    let login = ClientFrame::Provision {
        guid: Some(jid::user(APP_KEY, &user, Some("slow"))),
        auth: Some(format!("$t${token}")),
        provision: Provision {
            resource: Some("slow".into()),
            ..Default::default()
        },
    };
    ws.send(WsMessage::Binary(login.encode().into())).await?;
    // The login answer is read; nothing after it.
    let _ = tokio::time::timeout(Duration::from_secs(5), ws.next()).await;
    let mut feeding = tokio::task::JoinSet::new();
    let feeder_names = feeders.clone();
    for f in feeders {
        let (url, pw, to, stop, seen) = (
            url.clone(),
            pw.clone(),
            user.clone(),
            stop.clone(),
            seen.clone(),
        );
        feeding.spawn(async move {
            let Ok((c, _ev)) = Client::open(opts(&url, &f, &pw)).await else {
                return;
            };
            let text = "s".repeat(4000);
            while !stop.load(Relaxed) {
                if c.send(&Outgoing::text(ChatType::Single, &to, &text))
                    .await
                    .is_ok()
                {
                    seen.feeder_sent.fetch_add(1, Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            c.close().await;
        });
    }
    // Pull the feeders' queues again and again without ever reading an answer: the server's
    // writes to this socket back up.
    let queues: Vec<Vec<u8>> = feeder_names
        .iter()
        .map(|f| {
            ClientFrame::Sync(CommSyncUl {
                queue: Some(jid::user(APP_KEY, f, None)),
                ..Default::default()
            })
            .encode()
        })
        .collect();
    let mut closed = false;
    'pull: while !stop.load(Relaxed) {
        for q in &queues {
            let sent = tokio::time::timeout(
                Duration::from_secs(5),
                ws.send(WsMessage::Binary(q.clone().into())),
            )
            .await;
            if !matches!(sent, Ok(Ok(()))) {
                closed = true;
                break 'pull;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    while feeding.join_next().await.is_some() {}
    if closed {
        return Ok(true);
    }
    // Now read: everything buffered, then either the server's close (disconnected) or silence.
    loop {
        match tokio::time::timeout(Duration::from_secs(3), ws.next()).await {
            Ok(Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None) => return Ok(true),
            Ok(Some(Ok(_))) => {}
            Err(_) => return Ok(false),
        }
    }
}

/// Wrong passwords for `victim`, five a second.
pub async fn failed_logins(url: String, victim: String, stop: Arc<AtomicBool>, seen: Arc<Seen>) {
    while !stop.load(Relaxed) {
        match Client::open_rest(opts(&url, &victim, "not-the-password")).await {
            Ok(_) => seen.logins_accepted.fetch_add(1, Relaxed),
            Err(Error::Server { status: 429, .. }) => seen.logins_throttled.fetch_add(1, Relaxed),
            Err(_) => seen.logins_refused.fetch_add(1, Relaxed),
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
