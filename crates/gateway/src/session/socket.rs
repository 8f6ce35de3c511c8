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
/// silent, or the server shuts down. `framing` says how msync frames travel in the socket's
/// messages (binary, or SockJS text); everything else is the same for every endpoint.
pub async fn serve<F: Framing>(socket: WebSocket, gw: Arc<Gateway>, framing: F) {
    let mut shutdown = gw.shutdown.clone();
    let (mut sink, mut stream) = socket.split();
    let mut session = Session::new(gw);
    let limits = session.gw.limits.clone();
    let opened = Instant::now();
    let mut last_heard = Instant::now();
    let mut last_ping = Instant::now();
    let mut last_sent = Instant::now();
    let mut check =
        tokio::time::interval_at(tokio::time::Instant::now() + CHECK_EVERY, CHECK_EVERY);
    if let Some(hello) = framing.opening()
        && sink.send(hello).await.is_err()
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
                            let (out, next) = session.handle(&frame).await;
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
                // A kick is told to the device, then the connection closes.
                close = matches!(push, Some(Push::Kick(_)));
                kicked = close;
                match push.and_then(|p| session.on_push(p)) {
                    Some(frame) => outgoing = framing.encode(vec![frame]),
                    None => break Farewell::SessionEnded,
                }
            },
            _ = check.tick() => {
                let silent = last_heard.elapsed() > limits.idle_timeout;
                let never_logged_in = session.online.is_none() && opened.elapsed() > limits.login_timeout;
                if silent || never_logged_in {
                    tracing::debug!(silent, never_logged_in, "closing a dead connection");
                    break Farewell::Dead;
                }
                let mut due = Vec::new();
                // Ping what has been quiet for a third of the limit: browsers answer by
                // themselves, so a live client is heard from well before the limit.
                if last_heard.elapsed() >= limits.idle_timeout / 3 && last_ping.elapsed() >= limits.idle_timeout / 3 {
                    last_ping = Instant::now();
                    due.push(Message::Ping(Default::default()));
                }
                if let Some((every, beat)) = framing.heartbeat()
                    && last_sent.elapsed() >= every
                {
                    due.push(beat);
                }
                outgoing = due;
            },
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break Farewell::Shutdown,
        }
        if !outgoing.is_empty() {
            last_sent = Instant::now();
        }
        for message in outgoing {
            if sink.send(message).await.is_err() {
                return;
            }
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
    for message in framing.farewell(farewell) {
        if sink.send(message).await.is_err() {
            return;
        }
    }
}

impl Session {
    /// The frame for a hub push, or None to close: a notice names the queue with news, a
    /// kick tells the device it is logged out.
    fn on_push(&self, push: Push) -> Option<Vec<u8>> {
        let online = self.online.as_ref()?;
        let me = &online.device.user;
        match push {
            Push::Notice(target) => Some(msync::notice(target_jid(self.app_key(), me, &target))),
            Push::Kick(reason) => {
                tracing::debug!(?reason, "kicking a session");
                Some(kick_frame(self.app_key(), me, reason, now_ms()))
            }
        }
    }

    /// Pushes for this session; pending forever before login (no registration yet).
    async fn next_push(&mut self) -> Option<Push> {
        match self.online.as_mut() {
            Some(o) => o.registration.pushes.recv().await,
            None => std::future::pending().await,
        }
    }
}
