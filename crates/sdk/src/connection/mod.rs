//! The msync connection: one task per client owns the WebSocket, logs in, pulls what the
//! server announces, acknowledges it, answers sends, sends heartbeats and reconnects.
//!
//! Why one task: the socket, the sends waiting for their acks and the queues being pulled are
//! one piece of state; a task that owns them needs no locks, and the client talks to it over
//! a channel. Delivery is exactly-once towards the app: a batch is acknowledged (the next pull
//! carries its key) only after its events were handed over, a batch seen again after a
//! reconnect is dropped by message id, and a send not yet acked is sent again after a
//! reconnect under the same meta id, which the server stores once.
//!
//! This file holds the task's life (connect, log in, the socket loop, reconnects);
//! `inbound.rs` what it does with each server frame.
use std::{
    collections::{BTreeMap, HashMap},
    time::Duration,
};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use prost::Message as _;
use roam_protocol::{
    jid,
    msync::{self, ClientFrame},
    pb::{CommSyncUl, Jid, Logout, Meta, Provision, m_sync::Command as Cmd, meta::NameSpace},
};
use tokio::{
    net::TcpStream,
    sync::{mpsc, oneshot},
};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message as WsMessage};

use crate::{Error, event::Event};

mod inbound;

use inbound::Seen;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The SDK's heartbeat (the official SDK's period): an UNREAD, whose answer also shows the
/// connection is alive.
const HEARTBEAT: Duration = Duration::from_secs(30);
/// Silence after which the connection is taken for dead (two missed heartbeat answers).
const SILENCE: Duration = Duration::from_secs(75);
/// Time a connect plus login may take.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How the client retries after losing its connection: `initial`, doubling up to `max`.
///
/// ```
/// use std::time::Duration;
/// let mut options = roam_sdk::Options::password("http://h:1", "o#a", "alice", "pw");
/// options.reconnect = roam_sdk::Reconnect { initial: Duration::from_millis(100), max: Duration::from_secs(30) };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconnect {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(10),
        }
    }
}

impl Reconnect {
    /// The wait before attempt `n` (0 = right after the loss).
    fn delay(&self, n: u32) -> Duration {
        self.initial.saturating_mul(1u32 << n.min(16)).min(self.max)
    }
}

/// Who logs in where.
pub(crate) struct Login {
    pub ws_url: String,
    pub app_key: String,
    pub user: String,
    pub resource: String,
    pub token: String,
}

/// What the client asks of the connection task.
pub(crate) enum Command {
    /// Send a meta (`ns`, to `to`); answered with (server id, server time) once acked.
    Send {
        to: Jid,
        ns: NameSpace,
        payload: Vec<u8>,
        done: oneshot::Sender<Result<(u64, u64), Error>>,
    },
    /// Log out and stop.
    Close { done: oneshot::Sender<()> },
}

/// A send waiting for its ack.
struct Pending {
    frame: Vec<u8>,
    done: oneshot::Sender<Result<(u64, u64), Error>>,
}

enum End {
    /// The client closed: stop.
    Closed,
    /// The connection was lost: reconnect.
    Lost(String),
    /// The server logged this device out for good (password changed, user deleted): stop.
    Kicked(String),
}

/// Starts the connection task. The returned receiver answers once the first login is done
/// (or refused: then the task has stopped).
pub(crate) fn spawn(
    login: Login,
    reconnect: Reconnect,
    events: mpsc::UnboundedSender<Event>,
) -> (
    mpsc::UnboundedSender<Command>,
    oneshot::Receiver<Result<(), Error>>,
) {
    let (commands, rx) = mpsc::unbounded_channel();
    let (first, logged_in) = oneshot::channel();
    let task = Task {
        next_meta: roam_protocol_time_seed(),
        login,
        reconnect,
        events,
        pending: BTreeMap::new(),
        seen: Seen::default(),
    };
    tokio::spawn(task.run(rx, first));
    (commands, logged_in)
}

/// Meta ids start at the current time in ms, shifted like a snowflake, so a restarted client
/// never reuses the ids of an earlier run (the server drops a repeated meta id as a resend).
fn roam_protocol_time_seed() -> u64 {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    ms << 12
}

struct Task {
    login: Login,
    reconnect: Reconnect,
    events: mpsc::UnboundedSender<Event>,
    /// Sends not acked yet, by meta id (in send order): sent again after a reconnect.
    pending: BTreeMap<u64, Pending>,
    next_meta: u64,
    seen: Seen,
}

impl Task {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        first: oneshot::Sender<Result<(), Error>>,
    ) {
        let mut first = Some(first);
        let mut failures = 0u32;
        loop {
            match tokio::time::timeout(LOGIN_TIMEOUT, self.connect()).await {
                Ok(Ok(ws)) => {
                    failures = 0;
                    match first.take() {
                        Some(f) => {
                            let _ = f.send(Ok(()));
                        }
                        None => self.emit(Event::Reconnected),
                    }
                    match self.session(ws, &mut commands).await {
                        End::Closed => return,
                        End::Lost(reason) => self.emit(Event::Disconnected {
                            reason,
                            will_retry: true,
                        }),
                        End::Kicked(reason) => {
                            self.emit(Event::Disconnected {
                                reason,
                                will_retry: false,
                            });
                            self.fail_pending();
                            return;
                        }
                    }
                }
                Ok(Err(e)) if first.is_some() || is_final(&e) => {
                    match first.take() {
                        Some(f) => {
                            let _ = f.send(Err(e));
                        }
                        None => self.emit(Event::Disconnected {
                            reason: chain(&e),
                            will_retry: false,
                        }),
                    }
                    self.fail_pending();
                    return;
                }
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "reconnect failed");
                    failures += 1;
                }
                Err(_) => {
                    if let Some(f) = first.take() {
                        let _ = f.send(Err(Error::Protocol("login timed out".into())));
                        return;
                    }
                    failures += 1;
                }
            }
            // Wait before the next attempt; sends made meanwhile wait for the connection.
            let sleep = tokio::time::sleep(self.reconnect.delay(failures));
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    cmd = commands.recv() => match cmd {
                        None => return,
                        Some(Command::Close { done }) => {
                            self.fail_pending();
                            let _ = done.send(());
                            return;
                        }
                        Some(Command::Send { to, ns, payload, done }) => {
                            self.queue(to, ns, payload, done);
                        }
                    },
                }
            }
        }
    }

    fn emit(&self, event: Event) {
        // Nobody listening is fine: the app dropped its event stream.
        let _ = self.events.send(event);
    }

    fn fail_pending(&mut self) {
        for (_, p) in std::mem::take(&mut self.pending) {
            let _ = p.done.send(Err(Error::Closed));
        }
    }

    /// Records a send and returns its frame.
    fn queue(
        &mut self,
        to: Jid,
        ns: NameSpace,
        payload: Vec<u8>,
        done: oneshot::Sender<Result<(u64, u64), Error>>,
    ) -> Vec<u8> {
        self.next_meta += 1;
        let id = self.next_meta;
        let frame = ClientFrame::Sync(CommSyncUl {
            meta: Some(Meta {
                id: Some(id),
                to: Some(to),
                ns: Some(ns as i32),
                payload: Some(Bytes::from(payload)),
                ..Default::default()
            }),
            ..Default::default()
        })
        .encode();
        self.pending.insert(
            id,
            Pending {
                frame: frame.clone(),
                done,
            },
        );
        frame
    }

    /// Connects and logs in.
    async fn connect(&self) -> Result<Ws, Error> {
        let l = &self.login;
        // Nagle off: a chat frame is small and wanted now; with Nagle on, a send written while
        // the previous one is unacknowledged waits for the server's (possibly delayed) TCP ACK.
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(l.ws_url.as_str(), None, true).await?;
        let frame = ClientFrame::Provision {
            guid: Some(jid::user(&l.app_key, &l.user, Some(&l.resource))),
            auth: Some(format!("$t${}", l.token)),
            provision: Provision {
                resource: Some(l.resource.clone()),
                ..Default::default()
            },
        };
        ws.send(WsMessage::Binary(frame.encode().into())).await?;
        while let Some(m) = ws.next().await {
            let WsMessage::Binary(b) = m? else { continue };
            let (cmd, payload) = msync::decode_server(&b).map_err(protocol)?;
            if cmd != Cmd::Provision {
                continue;
            }
            let status = Provision::decode(payload)
                .map_err(protocol)?
                .status
                .unwrap_or_default();
            return match status.error_code.unwrap_or(0) {
                0 => Ok(ws),
                code => {
                    let reason = status.reason.unwrap_or_default();
                    Err(if reason.contains("token") || reason.contains("password") {
                        Error::Unauthorized(reason)
                    } else {
                        Error::LoginRefused { code, reason }
                    })
                }
            };
        }
        Err(Error::Protocol("closed during login".into()))
    }

    /// Serves one logged-in connection until it is lost or the client closes.
    async fn session(&mut self, ws: Ws, commands: &mut mpsc::UnboundedReceiver<Command>) -> End {
        let (mut sink, mut stream) = ws.split();
        // Queues being pulled, by name@domain; `true` = announced again meanwhile.
        let mut pulls: HashMap<String, bool> = HashMap::new();
        let mut out: Vec<Vec<u8>> = self.pending.values().map(|p| p.frame.clone()).collect();
        out.push(ClientFrame::Unread.encode());
        let mut heartbeat =
            tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
        loop {
            for frame in out.drain(..) {
                if let Err(e) = sink.send(WsMessage::Binary(frame.into())).await {
                    return End::Lost(e.to_string());
                }
            }
            tokio::select! {
                m = tokio::time::timeout(SILENCE, stream.next()) => {
                    let bytes = match m {
                        Err(_) => return End::Lost("no answer from the server".into()),
                        Ok(None) => return End::Lost("connection closed".into()),
                        Ok(Some(Err(e))) => return End::Lost(e.to_string()),
                        Ok(Some(Ok(WsMessage::Binary(b)))) => b,
                        Ok(Some(Ok(WsMessage::Close(_)))) => {
                            return End::Lost("closed by the server".into())
                        }
                        Ok(Some(Ok(_))) => continue,
                    };
                    match self.on_frame(&bytes, &mut pulls) {
                        Ok(frames) => out.extend(frames),
                        Err(end) => return end,
                    }
                }
                cmd = commands.recv() => match cmd {
                    Some(Command::Send { to, ns, payload, done }) => {
                        out.push(self.queue(to, ns, payload, done));
                    }
                    Some(Command::Close { done }) => {
                        let logout = ClientFrame::Logout(Logout::default()).encode();
                        let _ = sink.send(WsMessage::Binary(logout.into())).await;
                        let _ = sink.close().await;
                        self.fail_pending();
                        let _ = done.send(());
                        return End::Closed;
                    }
                    None => {
                        let _ = sink.close().await;
                        return End::Closed;
                    }
                },
                _ = heartbeat.tick() => out.push(ClientFrame::Unread.encode()),
            }
        }
    }
}

/// Errors after which reconnecting cannot help.
fn is_final(e: &Error) -> bool {
    match e {
        Error::Unauthorized(_) => true,
        Error::LoginRefused { reason, .. } => !reason.contains("internal server error"),
        _ => false,
    }
}

/// An error with its causes, `a: b: c`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn protocol(e: impl std::fmt::Display) -> Error {
    Error::Protocol(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let r = Reconnect {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        let d: Vec<u64> = (0..6)
            .map(|n| u64::try_from(r.delay(n).as_millis()).unwrap())
            .collect();
        assert_eq!(d, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(r.delay(100), Duration::from_secs(1));
    }
}
