//! Multi-device conversation events: what a user did to a conversation (pin, mark, delete…),
//! stored in the user's own log so their other devices apply it, including those that were
//! away.
//!
//! The stored payload is versioned JSON, `{"v":1,"op":"mark","mark":3,"target":"g:123"}`
//! (`target` in [`Target::encode`]'s form), so a later server can change the layout and still
//! read what an older one wrote. Servers before it stored a text form (`mark:3 g:123`); rows
//! of that form are still read, so databases need no migration.
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Mark;
use crate::conversation::{EVENT_VERSION, Target, UndecodableEvent, decode_versioned};

/// What a user did to a conversation, told to their other devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationOp {
    Pinned,
    Unpinned,
    Deleted,
    Marked(Mark),
    Unmarked(Mark),
    /// Some of its messages were deleted one-way.
    MessagesDeleted,
}

/// A multi-device event, stored in the user's own log as a message of kind
/// [`crate::message::MessageKind::ConversationEvent`] (the message's sender resource is the
/// device that acted, its timestamp the time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationEvent {
    pub op: ConversationOp,
    pub target: Target,
}

/// [`ConversationOp`] as the stored payload names it; marks by their index.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum StoredOp {
    Pin,
    Unpin,
    Delete,
    Mark { mark: u8 },
    Unmark { mark: u8 },
    DeleteMessages,
}

/// The layout of version 1 of the stored payload.
#[derive(Debug, Serialize, Deserialize)]
struct StoredV1 {
    v: u64,
    #[serde(flatten)]
    op: StoredOp,
    target: String,
}

impl ConversationEvent {
    /// The payload to store: versioned JSON (see the module documentation).
    pub fn encode(&self) -> Vec<u8> {
        let op = match self.op {
            ConversationOp::Pinned => StoredOp::Pin,
            ConversationOp::Unpinned => StoredOp::Unpin,
            ConversationOp::Deleted => StoredOp::Delete,
            ConversationOp::Marked(m) => StoredOp::Mark { mark: m.index() },
            ConversationOp::Unmarked(m) => StoredOp::Unmark { mark: m.index() },
            ConversationOp::MessagesDeleted => StoredOp::DeleteMessages,
        };
        let stored = StoredV1 {
            v: EVENT_VERSION,
            op,
            target: self.target.encode(),
        };
        serde_json::to_vec(&stored).expect("plain structs always serialise")
    }

    /// Reads a stored payload: the versioned JSON [`ConversationEvent::encode`] writes, or the
    /// text form older servers wrote.
    pub fn decode(payload: &[u8]) -> Result<ConversationEvent, UndecodableEvent> {
        if payload.first() != Some(&b'{') {
            return decode_text(payload);
        }
        let stored: StoredV1 = decode_versioned(payload)?;
        let mark = |n: u8| {
            Mark::from_index(n).ok_or_else(|| UndecodableEvent::Malformed(format!("mark {n}")))
        };
        let op = match stored.op {
            StoredOp::Pin => ConversationOp::Pinned,
            StoredOp::Unpin => ConversationOp::Unpinned,
            StoredOp::Delete => ConversationOp::Deleted,
            StoredOp::Mark { mark: n } => ConversationOp::Marked(mark(n)?),
            StoredOp::Unmark { mark: n } => ConversationOp::Unmarked(mark(n)?),
            StoredOp::DeleteMessages => ConversationOp::MessagesDeleted,
        };
        let target = Target::decode(&stored.target).ok_or_else(|| {
            UndecodableEvent::Malformed(format!("conversation {:?}", stored.target))
        })?;
        Ok(ConversationEvent { op, target })
    }
}

/// The text form older servers stored, which also reads well in logs and tests: `op target`,
/// with `op` one of `top`, `not_top`, `del`, `mark:N`, `unmark:N`, `roaming_delete` and
/// `target` in [`Target::encode`]'s form.
impl fmt::Display for ConversationEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            ConversationOp::Pinned => f.write_str("top")?,
            ConversationOp::Unpinned => f.write_str("not_top")?,
            ConversationOp::Deleted => f.write_str("del")?,
            ConversationOp::Marked(m) => write!(f, "mark:{}", m.index())?,
            ConversationOp::Unmarked(m) => write!(f, "unmark:{}", m.index())?,
            ConversationOp::MessagesDeleted => f.write_str("roaming_delete")?,
        }
        write!(f, " {}", self.target.encode())
    }
}

/// Reads the text form of [`ConversationEvent`]'s `Display`.
fn decode_text(payload: &[u8]) -> Result<ConversationEvent, UndecodableEvent> {
    let malformed = || {
        UndecodableEvent::Malformed(format!(
            "not a conversation event: {:?}",
            String::from_utf8_lossy(payload)
        ))
    };
    let text = std::str::from_utf8(payload).map_err(|_| malformed())?;
    let (op, target) = text.split_once(' ').ok_or_else(malformed)?;
    let mark = |n: &str| {
        n.parse()
            .ok()
            .and_then(Mark::from_index)
            .ok_or_else(malformed)
    };
    let op = match op.split_once(':') {
        None => match op {
            "top" => ConversationOp::Pinned,
            "not_top" => ConversationOp::Unpinned,
            "del" => ConversationOp::Deleted,
            "roaming_delete" => ConversationOp::MessagesDeleted,
            _ => return Err(malformed()),
        },
        Some(("mark", n)) => ConversationOp::Marked(mark(n)?),
        Some(("unmark", n)) => ConversationOp::Unmarked(mark(n)?),
        Some(_) => return Err(malformed()),
    };
    let target = Target::decode(target).ok_or_else(malformed)?;
    Ok(ConversationEvent { op, target })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{group::GroupId, user::UserId};

    fn every_event() -> Vec<ConversationEvent> {
        let mut events = vec![];
        for op in [
            ConversationOp::Pinned,
            ConversationOp::Unpinned,
            ConversationOp::Deleted,
            ConversationOp::Marked(Mark::parse("mark_3").unwrap()),
            ConversationOp::Unmarked(Mark::parse("mark_19").unwrap()),
            ConversationOp::MessagesDeleted,
        ] {
            for target in [
                Target::User(UserId::parse("bob").unwrap()),
                Target::Group(GroupId::parse("123").unwrap()),
            ] {
                events.push(ConversationEvent { op, target });
            }
        }
        events
    }

    #[test]
    fn events_round_trip() {
        for e in every_event() {
            assert_eq!(ConversationEvent::decode(&e.encode()), Ok(e));
        }
    }

    #[test]
    fn the_payload_is_versioned_json() {
        let e = ConversationEvent {
            op: ConversationOp::Marked(Mark::parse("mark_3").unwrap()),
            target: Target::Group(GroupId::parse("123").unwrap()),
        };
        let payload: serde_json::Value = serde_json::from_slice(&e.encode()).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({"v": 1, "op": "mark", "mark": 3, "target": "g:123"})
        );
    }

    #[test]
    fn the_text_form_of_older_servers_is_still_read() {
        for e in every_event() {
            let text = e.to_string();
            assert_eq!(ConversationEvent::decode(text.as_bytes()), Ok(e), "{text}");
        }
        assert_eq!(
            ConversationEvent::decode(b"mark:3 g:123")
                .unwrap()
                .to_string(),
            "mark:3 g:123"
        );
    }

    #[test]
    fn bad_payloads_are_errors_not_panics() {
        for bad in [
            &b"bogus"[..],
            b"",
            b"mark:20 bob",
            b"top a b",
            b"\xff",
            b"{}",
            br#"{"v":1,"op":"mark","mark":20,"target":"bob"}"#,
            br#"{"v":1,"op":"fly","target":"bob"}"#,
            br#"{"v":1,"op":"pin","target":"g:"}"#,
        ] {
            assert!(
                matches!(
                    ConversationEvent::decode(bad),
                    Err(UndecodableEvent::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            ConversationEvent::decode(br#"{"v":7}"#),
            Err(UndecodableEvent::UnknownVersion(7))
        );
    }
}
