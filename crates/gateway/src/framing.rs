//! How msync frames travel inside WebSocket messages. The session loop
//! ([`crate::session::serve`]) is the same for every endpoint; only this changes:
//!
//! - [`Binary`] (`/websocket`, SDK 4.13 on): one binary message = one msync frame.
//! - [`SockJs`] (`/ws/{server}/{session}/websocket`, SDK 4.7/4.8): SockJS text frames whose
//!   payloads are base64 msync frames (docs/protocol.md, "Transport").
//!
//! A framing only translates; every rule about what a frame may do stays in the session.
use axum::extract::ws::Message;

use crate::MAX_FRAME;

mod sockjs;

pub use sockjs::SockJs;

/// What a client's WebSocket message carries.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    /// msync frames, in order (a SockJS message may carry several, or none).
    Frames(Vec<Vec<u8>>),
    /// A WebSocket ping or pong: proof of life, nothing to handle.
    Control,
    /// The client closed the connection.
    Closed,
}

/// Why a client's message was refused; the connection is closed, as for any breach.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FramingError {
    #[error("a {0} message on a connection that takes {1}")]
    WrongKind(&'static str, &'static str),
    #[error("SockJS frame is not a JSON string or array of strings: {0}")]
    NotJson(String),
    #[error("SockJS payload is not base64: {0}")]
    NotBase64(String),
    #[error("msync frame of {0} bytes, over the {MAX_FRAME}-byte limit")]
    TooLarge(usize),
}

/// Why the server ends a connection; a framing may tell the client before closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Farewell {
    /// The client closed, or its socket failed: nothing more can be said.
    ClientLeft,
    /// The session ended it: a logout, a kick, a login that failed, a request before login.
    SessionEnded,
    /// The client sent a message that is not valid framing.
    Breach,
    /// The connection never logged in in time, or went silent.
    Dead,
    /// The server is shutting down.
    Shutdown,
}

/// One way of carrying msync frames in WebSocket messages.
pub trait Framing: Send + 'static {
    /// Largest WebSocket message a client may send: [`MAX_FRAME`] once encoded.
    fn max_message(&self) -> usize;

    /// What to send as soon as the socket opens (SockJS `o`).
    fn opening(&self) -> Option<Message>;

    /// The msync frames in a client's message, or why it is not valid framing.
    fn decode(&self, message: Message) -> Result<Inbound, FramingError>;

    /// The messages carrying server frames, in order; none for no frames.
    fn encode(&self, frames: Vec<Vec<u8>>) -> Vec<Message>;

    /// A message sent whenever the server has written nothing for the period (SockJS `h`),
    /// besides the WebSocket pings the loop sends to every quiet connection.
    fn heartbeat(&self) -> Option<(std::time::Duration, Message)>;

    /// The messages that end the connection, sent before the socket is dropped.
    fn farewell(&self, why: Farewell) -> Vec<Message>;
}

/// The bytes of a message's payload (for logs and size checks).
pub fn size(message: &Message) -> usize {
    match message {
        Message::Binary(b) => b.len(),
        Message::Text(t) => t.len(),
        Message::Ping(p) | Message::Pong(p) => p.len(),
        Message::Close(_) => 0,
    }
}

/// `/websocket`: one binary message per msync frame; a text message is a breach.
pub struct Binary;

impl Framing for Binary {
    fn max_message(&self) -> usize {
        MAX_FRAME
    }

    fn opening(&self) -> Option<Message> {
        None
    }

    fn decode(&self, message: Message) -> Result<Inbound, FramingError> {
        match message {
            Message::Binary(frame) => Ok(Inbound::Frames(vec![frame.into()])),
            Message::Ping(_) | Message::Pong(_) => Ok(Inbound::Control),
            Message::Close(_) => Ok(Inbound::Closed),
            // Web SDKs from 4.13 on send binary; a text message is not msync.
            Message::Text(_) => Err(FramingError::WrongKind("text", "binary msync frames")),
        }
    }

    fn encode(&self, frames: Vec<Vec<u8>>) -> Vec<Message> {
        frames
            .into_iter()
            .map(|f| Message::Binary(f.into()))
            .collect()
    }

    fn heartbeat(&self) -> Option<(std::time::Duration, Message)> {
        None
    }

    fn farewell(&self, why: Farewell) -> Vec<Message> {
        match why {
            // 1001 Going Away: the client may reconnect (to another node, or later).
            Farewell::Shutdown => vec![Message::Close(Some(axum::extract::ws::CloseFrame {
                code: axum::extract::ws::close_code::AWAY,
                reason: "server shutting down".into(),
            }))],
            _ => vec![Message::Close(None)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_carries_one_frame_per_message_and_refuses_text() {
        assert_eq!(
            Binary.decode(Message::Binary(vec![1, 2].into())),
            Ok(Inbound::Frames(vec![vec![1, 2]]))
        );
        assert_eq!(
            Binary.decode(Message::Ping(Default::default())),
            Ok(Inbound::Control)
        );
        assert!(Binary.decode(Message::Text("x".into())).is_err());
        assert_eq!(Binary.encode(vec![vec![1], vec![2]]).len(), 2);
    }
}
