//! SockJS framing over a WebSocket, as the SockJS client bundled in Web SDK 4.7/4.8 speaks it
//! (docs/protocol.md, "Transport"): every message is text.
//!
//! - server → client: `o` once on open, `a[...]` a JSON array of base64 msync frames, `h` a
//!   heartbeat, `c[code,"reason"]` just before the server closes;
//! - client → server: a JSON array of base64 msync frames (`["<base64>",…]`), or one bare JSON
//!   string, which SockJS clients may also send.
use std::time::Duration;

use axum::extract::ws::Message;
use base64::{Engine, engine::general_purpose::STANDARD};

use super::{Farewell, Framing, FramingError, Inbound};
use crate::MAX_FRAME;

/// How often a SockJS server says `h` when it has written nothing else: SockJS servers use
/// 25 s, under the 30 s proxies commonly allow an idle connection.
pub const HEARTBEAT: Duration = Duration::from_secs(25);

/// The longest base64 text of one msync frame of [`MAX_FRAME`] bytes.
const MAX_ENCODED: usize = MAX_FRAME.div_ceil(3) * 4;

/// SockJS text frames carrying base64 msync frames.
pub struct SockJs;

impl SockJs {
    /// `c[code,"reason"]`: SockJS's close frame, which the client reports as the reason.
    fn close(reason: &str) -> Message {
        Message::Text(format!("c[3000,{}]", serde_json::Value::from(reason)).into())
    }
}

impl Framing for SockJs {
    /// One frame's base64 in `["…"]`, with room for JSON whitespace and escapes.
    fn max_message(&self) -> usize {
        MAX_ENCODED + 1024
    }

    fn opening(&self) -> Option<Message> {
        Some(Message::Text("o".into()))
    }

    fn decode(&self, message: Message) -> Result<Inbound, FramingError> {
        let text = match message {
            Message::Text(text) => text,
            Message::Ping(_) | Message::Pong(_) => return Ok(Inbound::Control),
            Message::Close(_) => return Ok(Inbound::Closed),
            Message::Binary(_) => {
                return Err(FramingError::WrongKind("binary", "SockJS text frames"));
            }
        };
        // SockJS servers skip empty messages.
        if text.trim().is_empty() {
            return Ok(Inbound::Frames(vec![]));
        }
        let payloads = match serde_json::from_str(text.as_str()) {
            Ok(serde_json::Value::String(one)) => vec![one],
            Ok(serde_json::Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    serde_json::Value::String(s) => Ok(s),
                    other => Err(FramingError::NotJson(format!("array item {other}"))),
                })
                .collect::<Result<_, _>>()?,
            Ok(other) => return Err(FramingError::NotJson(format!("a JSON {other}"))),
            Err(e) => return Err(FramingError::NotJson(e.to_string())),
        };
        payloads
            .into_iter()
            .map(|b64| {
                if b64.len() > MAX_ENCODED {
                    return Err(FramingError::TooLarge(b64.len() / 4 * 3));
                }
                let frame = STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|e| FramingError::NotBase64(e.to_string()))?;
                if frame.len() > MAX_FRAME {
                    return Err(FramingError::TooLarge(frame.len()));
                }
                Ok(frame)
            })
            .collect::<Result<_, _>>()
            .map(Inbound::Frames)
    }

    fn encode(&self, frames: Vec<Vec<u8>>) -> Vec<Message> {
        if frames.is_empty() {
            return vec![];
        }
        let encoded: Vec<String> = frames.iter().map(|f| STANDARD.encode(f)).collect();
        let array = serde_json::Value::from(encoded);
        vec![Message::Text(format!("a{array}").into())]
    }

    fn heartbeat(&self) -> Option<(Duration, Message)> {
        Some((HEARTBEAT, Message::Text("h".into())))
    }

    fn farewell(&self, why: Farewell) -> Vec<Message> {
        let reason = match why {
            Farewell::ClientLeft => return vec![Message::Close(None)],
            Farewell::Breach => "Broken framing.",
            Farewell::SessionEnded | Farewell::Dead | Farewell::Shutdown => "Go away!",
        };
        vec![SockJs::close(reason), Message::Close(None)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(m: &Message) -> &str {
        match m {
            Message::Text(t) => t.as_str(),
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn frames_go_out_as_one_array_of_base64() {
        let out = SockJs.encode(vec![vec![1, 2, 3], vec![255]]);
        assert_eq!(out.len(), 1);
        assert_eq!(text(&out[0]), r#"a["AQID","/w=="]"#);
        assert!(SockJs.encode(vec![]).is_empty());
    }

    #[test]
    fn an_array_or_a_bare_string_of_base64_comes_in() {
        assert_eq!(
            SockJs.decode(Message::Text(r#"["AQID","/w=="]"#.into())),
            Ok(Inbound::Frames(vec![vec![1, 2, 3], vec![255]]))
        );
        assert_eq!(
            SockJs.decode(Message::Text(r#""AQID""#.into())),
            Ok(Inbound::Frames(vec![vec![1, 2, 3]]))
        );
        assert_eq!(
            SockJs.decode(Message::Text("".into())),
            Ok(Inbound::Frames(vec![]))
        );
    }

    #[test]
    fn garbage_is_refused() {
        for bad in ["not json", "[1]", "{}", r#"["***"]"#, "42"] {
            assert!(
                SockJs.decode(Message::Text(bad.into())).is_err(),
                "{bad} accepted"
            );
        }
        assert!(SockJs.decode(Message::Binary(vec![1].into())).is_err());
        let huge = format!(r#"["{}"]"#, STANDARD.encode(vec![0u8; MAX_FRAME + 1]));
        assert!(matches!(
            SockJs.decode(Message::Text(huge.into())),
            Err(FramingError::TooLarge(_))
        ));
        let largest = format!(r#"["{}"]"#, STANDARD.encode(vec![0u8; MAX_FRAME]));
        assert!(largest.len() <= SockJs.max_message());
        assert!(SockJs.decode(Message::Text(largest.into())).is_ok());
    }

    #[test]
    fn closing_says_why() {
        let bye = SockJs.farewell(Farewell::SessionEnded);
        assert_eq!(text(&bye[0]), r#"c[3000,"Go away!"]"#);
        let broken = SockJs.farewell(Farewell::Breach);
        assert_eq!(text(&broken[0]), r#"c[3000,"Broken framing."]"#);
        assert_eq!(SockJs.farewell(Farewell::ClientLeft).len(), 1);
    }
}
