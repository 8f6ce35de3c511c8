//! The WebSocket loop: one task per connection owns the socket, so frames are handled in order
//! (a send is acked before the next frame of the same device is read, as the SDK expects), and
//! the hub's pushes are written between requests.
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::extract::ws::{Message, WebSocket};
use futures::{SinkExt, StreamExt};
use roam_domain::now_ms;
use roam_protocol::msync;
use roam_wire::msync::{kick_frame, target_jid};

use super::{Next, Session};
use crate::{
    Gateway,
    framing::{Farewell, Framing, Inbound},
    hub::Push,
};

/// How often a connection's liveness is checked.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// How long a kicked device gets to read its kick before the server closes the socket. The
/// SDK handles the kick meta asynchronously (right after a login it may still be busy with its
/// own start-up), and a close that overtakes it makes the SDK reconnect with its void token
/// instead of reporting why it was logged out; so the server waits for the SDK to close by
/// itself (it does, once it has read the kick), up to this long.
const KICK_GRACE: Duration = Duration::from_secs(2);

/// Drives one WebSocket until the client leaves, breaks the protocol, is kicked, goes
/// silent, stops reading, outlives its token, or the server shuts down. `framing` says how
/// msync frames travel in the socket's messages (binary, or SockJS text); everything else is
/// the same for every endpoint.
pub async fn serve<F: Framing>(socket: WebSocket, gw: Arc<Gateway>, framing: F) {
    let mut shutdown = gw.shutdown.clone();
    let (sink, mut stream) = socket.split();
    let mut session = Session::new(gw);
    let limits = session.gw.limits.clone();
    let mut out = Writer {
        sink,
        timeout: limits.write_timeout,
        last_sent: Instant::now(),
    };
    let opened = Instant::now();
    let mut last_heard = Instant::now();
    let mut last_ping = Instant::now();
    let mut check =
        tokio::time::interval_at(tokio::time::Instant::now() + CHECK_EVERY, CHECK_EVERY);
    if let Some(hello) = framing.opening()
        && out.write(vec![hello]).await.is_err()
    {
        return;
    }
    let mut kicked = false;
    let farewell = loop {
        let outgoing: Vec<Message>;
        let mut close = false;
        tokio::select! {
            incoming = stream.next() => {
                last_heard = Instant::now();
                let message = match incoming {
                    Some(Ok(message)) => message,
                    // Over the size limit, or not WebSocket at all; a reset peer reads nothing.
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "closing a connection whose socket failed");
                        break Farewell::Breach;
                    }
                    None => break Farewell::ClientLeft,
                };
                match framing.decode(message) {
                    Ok(Inbound::Frames(frames)) => {
                        let mut answers = Vec::new();
                        for frame in frames {
                            // Boxed: the use-cases' futures are large and live only while a
                            // request is handled, so an idle connection does not keep their
                            // room in its task (see `crate::accept` on memory per connection).
                            let (out, next) = Box::pin(session.handle(&frame)).await;
                            answers.extend(out);
                            if next == Next::Close {
                                close = true;
                                break;
                            }
                        }
                        outgoing = framing.encode(answers);
                    }
                    Ok(Inbound::Control) => continue,
                    Ok(Inbound::Closed) => break Farewell::ClientLeft,
                    Err(e) => {
                        tracing::debug!(error = %e, "closing a connection that broke its framing");
                        break Farewell::Breach;
                    }
                }
            },
            push = session.next_push() => {
                let Some(frames) = Box::pin(session.on_push(push)).await else {
                    break Farewell::SessionEnded;
                };
                // A kick is told to the device, then the connection closes.
                close = frames.kick;
                kicked = frames.kick;
                outgoing = framing.encode(frames.frames);
            },
            _ = check.tick() => {
                let silent = last_heard.elapsed() > limits.idle_timeout;
                let never_logged_in = session.online.is_none() && opened.elapsed() > limits.login_timeout;
                if silent || never_logged_in {
                    tracing::debug!(silent, never_logged_in, "closing a dead connection");
                    break Farewell::Dead;
                }
                if session.token_expired(now_ms()) {
                    // The SDK closes by itself at its token's expiry (it was told the expiry
                    // at login); a client that does not is closed here, and a new login with
                    // the expired token is refused with "token expired".
                    tracing::info!("closing a session whose token expired");
                    break Farewell::SessionEnded;
                }
                let mut due = Vec::new();
                // Ping what has been quiet for a third of the limit: browsers answer by
                // themselves, so a live client is heard from well before the limit.
                if last_heard.elapsed() >= limits.idle_timeout / 3 && last_ping.elapsed() >= limits.idle_timeout / 3 {
                    last_ping = Instant::now();
                    due.push(Message::Ping(Default::default()));
                }
                if let Some((every, beat)) = framing.heartbeat()
                    && out.last_sent.elapsed() >= every
                {
                    due.push(beat);
                }
                outgoing = due;
            },
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break Farewell::Shutdown,
        }
        if out.write(outgoing).await.is_err() {
            return;
        }
        if close {
            break Farewell::SessionEnded;
        }
    };
    if kicked {
        // The device is logged out: free its place among the user's devices at once, then
        // give it time to read the kick (see KICK_GRACE), ignoring anything it still sends.
        drop(session);
        let _ = tokio::time::timeout(KICK_GRACE, async {
            while let Some(Ok(_)) = stream.next().await {}
        })
        .await;
    }
    let _ = out.write(framing.farewell(farewell)).await;
}

/// The writing half of a connection. Every write is bounded by the write timeout: a client
/// that stops reading fills its buffers, and a write that cannot complete in time ends the
/// connection (the idle check cannot see a session blocked in a write). Answers are written
/// before the next request is read, and pushes are coalesced in the hub, so what waits to be
/// written per session is bounded: one answer, or one notice per queue.
struct Writer<S> {
    sink: S,
    timeout: Duration,
    /// When something was last written (SockJS sends a heartbeat after a quiet period).
    last_sent: Instant,
}

/// The write did not complete; the connection must end (the reason is logged).
struct WriteFailed;

impl<S> Writer<S>
where
    S: futures::Sink<Message, Error = axum::Error> + Unpin,
{
    /// Writes `messages` in order, each flushed, all within the write timeout.
    async fn write(&mut self, messages: Vec<Message>) -> Result<(), WriteFailed> {
        if messages.is_empty() {
            return Ok(());
        }
        self.last_sent = Instant::now();
        let count = messages.len();
        let bytes: usize = messages.iter().map(crate::framing::size).sum();
        let sink = &mut self.sink;
        let written = tokio::time::timeout(self.timeout, async move {
            for message in messages {
                sink.send(message).await?;
            }
            Ok::<_, axum::Error>(())
        })
        .await;
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, count, bytes, "a socket write failed; closing the connection");
                Err(WriteFailed)
            }
            Err(_) => {
                tracing::warn!(
                    timeout = ?self.timeout,
                    count,
                    bytes,
                    "a socket write did not complete in time (the client does not read); closing the connection"
                );
                Err(WriteFailed)
            }
        }
    }
}

/// The frames for one push, and whether the session ends after them.
struct PushFrames {
    frames: Vec<Vec<u8>>,
    kick: bool,
}

impl Session {
    /// The frames for a hub push, or None to close: a notice names a queue with news, a kick
    /// tells the device it is logged out, an overflow (too many queues waiting) or a newer
    /// session of the same device closes, a resync notices every queue the store has news in.
    async fn on_push(&self, push: Push) -> Option<PushFrames> {
        let online = self.online.as_ref()?;
        let me = &online.device.user;
        match push {
            Push::Notices(targets) => Some(PushFrames {
                frames: targets
                    .iter()
                    .map(|t| msync::notice(target_jid(self.app_key(), me, t)))
                    .collect(),
                kick: false,
            }),
            Push::Kick(reason) => {
                tracing::debug!(?reason, "kicking a session");
                Some(PushFrames {
                    frames: vec![kick_frame(self.app_key(), me, reason, now_ms())],
                    kick: true,
                })
            }
            Push::Overflow => None,
            Push::Replaced => {
                tracing::debug!("closing a session replaced by a newer one of the same device");
                None
            }
            Push::Resync => {
                let queues = match self.gw.roam.pending(&online.device).await {
                    Ok(q) => q,
                    Err(e) => {
                        // The device's next heartbeat (UNREAD) asks again.
                        tracing::warn!(error = %e, "resync: the store does not answer");
                        Vec::new()
                    }
                };
                Some(PushFrames {
                    frames: queues
                        .iter()
                        .map(|q| msync::notice(target_jid(self.app_key(), me, &q.target)))
                        .collect(),
                    kick: false,
                })
            }
        }
    }

    /// Pushes for this session; pending forever before login (no registration yet).
    async fn next_push(&self) -> Push {
        match self.online.as_ref() {
            Some(o) => o.registration.mailbox.next().await,
            None => std::future::pending().await,
        }
    }
}
