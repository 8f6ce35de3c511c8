//! What nodes tell each other, as JSON on two subjects: `<prefix>.signal` (deliveries and
//! kicks, see [`Signal`]) and `<prefix>.presence` (who is online where, see [`PresenceMsg`]).
//! Ids travel as their text forms and are parsed on arrival; a message that does not parse
//! is dropped (signals are hints).
use roam_domain::fanout::KickReason;
use serde::{Deserialize, Serialize};

/// The node a message comes from: its configured id (for people reading logs) and a random
/// instance number drawn at start (unique even if two nodes share an id, or a node restarts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub node: u16,
    pub instance: u64,
}

/// One message on either subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub from: Origin,
    pub body: T,
}

/// A live signal for the devices of other nodes: one per [`roam_domain::fanout::Fanout`] call,
/// whatever the number of users it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// The queue `target` (a [`roam_domain::conversation::Target::encode`]) of each of `users`
    /// has news; not for the device `except` of `sender`.
    Notify {
        users: Vec<String>,
        target: String,
        sender: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        except: Option<String>,
    },
    /// Disconnect every device of `user`.
    Kick { user: String, reason: Reason },
}

/// [`KickReason`] on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    PasswordChanged,
    UserRemoved,
}

impl From<KickReason> for Reason {
    fn from(r: KickReason) -> Reason {
        match r {
            KickReason::PasswordChanged => Reason::PasswordChanged,
            KickReason::UserRemoved => Reason::UserRemoved,
        }
    }
}

impl From<Reason> for KickReason {
    fn from(r: Reason) -> KickReason {
        match r {
            Reason::PasswordChanged => KickReason::PasswordChanged,
            Reason::UserRemoved => KickReason::UserRemoved,
        }
    }
}

/// Presence: the sender's sessions, as events and as periodic snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PresenceMsg {
    /// A session of `user` on `resource` registered at `since_ms`: any older session of that
    /// device on another node closes.
    Join {
        user: String,
        resource: String,
        since_ms: u64,
    },
    /// The sender's last session of `user` on `resource` ended.
    Leave { user: String, resource: String },
    /// The sender is alive (its presence stays counted).
    Beat,
    /// Part `part` of the sender's snapshot number `epoch`: every device online on it, by
    /// user. The parts of one snapshot are published back to back; the receiver replaces what
    /// it knew of the sender once it has them all (`last`).
    Snapshot {
        epoch: u64,
        part: u32,
        last: bool,
        devices: Vec<(String, Vec<String>)>,
    },
    /// The sender has just started, or reconnected: every node answers with its snapshot.
    Hello,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back() {
        let from = Origin {
            node: 3,
            instance: 42,
        };
        let e = Envelope {
            from,
            body: Signal::Notify {
                users: vec!["a".into(), "b".into()],
                target: "g:1".into(),
                sender: "a".into(),
                except: None,
            },
        };
        let text = serde_json::to_string(&e).unwrap();
        assert!(text.contains(r#""kind":"notify""#), "{text}");
        assert_eq!(serde_json::from_str::<Envelope<Signal>>(&text).unwrap(), e);
        let p = Envelope {
            from,
            body: PresenceMsg::Snapshot {
                epoch: 1,
                part: 0,
                last: true,
                devices: vec![("a".into(), vec!["r1".into()])],
            },
        };
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(
            serde_json::from_str::<Envelope<PresenceMsg>>(&text).unwrap(),
            p
        );
    }
}
