//! msync frames: one WebSocket binary message carries one serialized [`MSync`], no extra framing.
//!
//! Client frames are decoded into [`ClientFrame`], one variant per command the server handles;
//! server frames are built by the functions below, which always fill the sub-messages the SDK
//! dereferences without checking (`status`, and `queue` on pull answers; `docs/protocol.md`, "Fields the SDK requires").
use bytes::Bytes;
use prost::Message;

use crate::pb::{
    CommNotice, CommSyncDl, CommSyncUl, CommUnreadDl, Jid, Logout, MSync, Meta, MetaQueue,
    Provision, Status, m_sync::Command, status::ErrorCode,
};

/// Why a client frame could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not an `MSync`, or its payload is not the message its command names.
    #[error("undecodable msync frame: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// `MSync.command` holds a value the protocol does not define for clients.
    #[error("unknown msync command {0}")]
    UnknownCommand(i32),
}

/// A frame from a client, by command.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientFrame {
    /// Login: the frame's `guid` names the user and device, `auth` carries `"$t$" + token`.
    Provision {
        guid: Option<Jid>,
        auth: Option<String>,
        provision: Provision,
    },
    /// "What is waiting for me?": sent after login and as the heartbeat.
    Unread,
    /// A message to send (`meta`), or a pull of `queue` acknowledging everything up to `key`.
    Sync(CommSyncUl),
    /// The client is closing the session.
    Logout(Logout),
}

impl ClientFrame {
    /// Decodes one binary WebSocket message.
    pub fn decode(frame: &[u8]) -> Result<ClientFrame, DecodeError> {
        let msync = MSync::decode(frame)?;
        let payload = msync.payload.unwrap_or_default();
        match Command::try_from(msync.command.unwrap_or(0)) {
            Ok(Command::Sync) => Ok(ClientFrame::Sync(CommSyncUl::decode(payload)?)),
            Ok(Command::Unread) => Ok(ClientFrame::Unread),
            Ok(Command::Provision) => Ok(ClientFrame::Provision {
                guid: msync.guid,
                auth: msync.auth,
                provision: Provision::decode(payload)?,
            }),
            Ok(Command::Logout) => Ok(ClientFrame::Logout(Logout::decode(payload)?)),
            Ok(Command::Notice) | Err(_) => Err(DecodeError::UnknownCommand(
                msync.command.unwrap_or_default(),
            )),
        }
    }

    /// Encodes the frame as a client would send it (used by the Rust SDK and by tests).
    pub fn encode(&self) -> Vec<u8> {
        let (command, guid, auth, payload) = match self {
            ClientFrame::Provision {
                guid,
                auth,
                provision,
            } => (
                Command::Provision,
                guid.clone(),
                auth.clone(),
                provision.encode_to_vec(),
            ),
            ClientFrame::Unread => (Command::Unread, None, None, Vec::new()),
            ClientFrame::Sync(ul) => (Command::Sync, None, None, ul.encode_to_vec()),
            ClientFrame::Logout(l) => (Command::Logout, None, None, l.encode_to_vec()),
        };
        MSync {
            command: Some(command as i32),
            guid,
            auth,
            payload: (command != Command::Unread).then(|| Bytes::from(payload)),
            ..Default::default()
        }
        .encode_to_vec()
    }
}

/// A status with `code` and an optional reason (the SDK maps reasons to error types).
pub fn status(code: ErrorCode, reason: Option<&str>) -> Status {
    Status {
        error_code: Some(code as i32),
        reason: reason.map(str::to_owned),
        redirect_info: Vec::new(),
    }
}

/// The OK status. Sent even when nothing else is: the SDK dereferences it unconditionally.
pub fn ok() -> Status {
    status(ErrorCode::Ok, None)
}

fn frame(command: Command, payload: impl Message) -> Vec<u8> {
    MSync {
        command: Some(command as i32),
        payload: Some(Bytes::from(payload.encode_to_vec())),
        ..Default::default()
    }
    .encode_to_vec()
}

/// The answer to a PROVISION. On success `resource` must echo the client's resource (the SDK
/// adopts it) and `expires_at_ms` is the token's *absolute* expiry in epoch ms.
pub fn provision_reply(
    status: Status,
    resource: Option<&str>,
    expires_at_ms: Option<u64>,
) -> Vec<u8> {
    frame(
        Command::Provision,
        Provision {
            status: Some(status),
            resource: resource.map(str::to_owned),
            auth_token: expires_at_ms.map(|ms| format!("{{\"expires_in\":{ms}}}")),
            ..Default::default()
        },
    )
}

/// The answer to UNREAD: the queues holding something for this device, with counts.
pub fn unread_reply(queues: Vec<(Jid, u32)>, now_ms: u64) -> Vec<u8> {
    frame(
        Command::Unread,
        CommUnreadDl {
            status: Some(ok()),
            unread: queues
                .into_iter()
                .map(|(queue, n)| MetaQueue {
                    queue: Some(queue),
                    n: Some(n),
                })
                .collect(),
            timestamp: Some(now_ms),
        },
    )
}

/// A live notice: "queue has something new, pull it".
pub fn notice(queue: Jid) -> Vec<u8> {
    frame(Command::Notice, CommNotice { queue: Some(queue) })
}

/// The acknowledgement of a sent meta (`meta_id` echoes the client's id).
pub fn send_ack(meta_id: u64, server_id: u64, timestamp_ms: u64) -> Vec<u8> {
    frame(
        Command::Sync,
        CommSyncDl {
            status: Some(ok()),
            meta_id: Some(meta_id),
            server_id: Some(server_id),
            timestamp: Some(timestamp_ms),
            ..Default::default()
        },
    )
}

/// The rejection of a sent meta; the SDK maps `code` and `reason` to its error types.
pub fn send_error(meta_id: u64, status: Status) -> Vec<u8> {
    frame(
        Command::Sync,
        CommSyncDl {
            status: Some(status),
            meta_id: Some(meta_id),
            ..Default::default()
        },
    )
}

/// One batch of a pull. A non-empty batch carries `next_key` and `is_last = false`; the batch
/// that ends a queue is empty with `is_last = true` (the SDK mishandles metas with `is_last`).
pub fn pull_batch(queue: Jid, metas: Vec<Meta>, next_key: Option<u64>, now_ms: u64) -> Vec<u8> {
    let is_last = metas.is_empty();
    frame(
        Command::Sync,
        CommSyncDl {
            status: Some(ok()),
            queue: Some(queue),
            metas,
            next_key: if is_last { None } else { next_key },
            is_last: Some(is_last),
            timestamp: Some(now_ms),
            ..Default::default()
        },
    )
}

/// Why the server ends a session, as the SDK's STATISTIC operations name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickOperation {
    /// The user was deleted (the SDK's error 207).
    UserRemoved,
    /// The password changed: the session's token is void (216).
    PasswordChanged,
}

/// An unsolicited batch with one STATISTIC meta telling the device it is logged out (the SDK
/// sets `logOut` and reports the matching `onError` type), sent right before the server
/// closes the connection. `queue` is the user's own JID, `id` a fresh meta id.
pub fn kick(queue: Jid, operation: KickOperation, id: u64, now_ms: u64) -> Vec<u8> {
    use crate::pb::{StatisticsBody, meta::NameSpace, statistics_body::Operation};
    let operation = match operation {
        KickOperation::UserRemoved => Operation::UserRemoved,
        KickOperation::PasswordChanged => Operation::UserKickedByChangePassword,
    };
    let body = StatisticsBody {
        operation: Some(operation as i32),
        ..Default::default()
    };
    let meta = Meta {
        id: Some(id),
        from: Some(queue.clone()),
        to: Some(queue.clone()),
        timestamp: Some(now_ms),
        ns: Some(NameSpace::Statistic as i32),
        payload: Some(Bytes::from(body.encode_to_vec())),
        ..Default::default()
    };
    frame(
        Command::Sync,
        CommSyncDl {
            status: Some(ok()),
            queue: Some(queue),
            metas: vec![meta],
            is_last: Some(true),
            timestamp: Some(now_ms),
            ..Default::default()
        },
    )
}

/// The answer to LOGOUT.
pub fn logout_reply() -> Vec<u8> {
    frame(Command::Logout, Logout::default())
}

/// Decodes a server frame (used by the Rust SDK and by tests).
pub fn decode_server(frame: &[u8]) -> Result<(Command, Bytes), DecodeError> {
    let m = MSync::decode(frame)?;
    let cmd = m.command.unwrap_or(0);
    let command = Command::try_from(cmd).map_err(|_| DecodeError::UnknownCommand(cmd))?;
    Ok((command, m.payload.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::{Provision, meta::NameSpace};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The single-chat send frame captured from the real SDK (`docs/protocol.md`, "Sending").
    #[test]
    fn decodes_captured_sdk_send_frame() {
        let raw = hex(
            "080040004a600a5e08d0a2fbe7b80f1a1b0a076f7267236170701203626f621a0b656173656d6f622e636f6d28013234080112071205616c6963651a051203626f62220d0800120968656c6c6f20626f622a070a0161100218012a080a0162100732017838005800a00180a08090b593bdc268",
        );
        let ClientFrame::Sync(ul) = ClientFrame::decode(&raw).unwrap() else {
            panic!("not a sync frame")
        };
        let meta = ul.meta.unwrap();
        assert_eq!(meta.id, Some(530646487376));
        assert_eq!(meta.ns, Some(NameSpace::Chat as i32));
        assert_eq!(meta.to.unwrap().name.as_deref(), Some("bob"));
        let body = crate::pb::MessageBody::decode(meta.payload.unwrap()).unwrap();
        assert_eq!(body.contents[0].text.as_deref(), Some("hello bob"));
        assert_eq!(body.ext.len(), 2);
    }

    /// The notice frame the SDK accepted (`docs/protocol.md`, "Notice, pull, ack"), byte for byte.
    #[test]
    fn notice_matches_captured_bytes() {
        let frame = notice(crate::jid::user("org#app", "bob", None));
        assert_eq!(
            frame,
            hex("40024a1d0a1b0a076f7267236170701203626f621a0b656173656d6f622e636f6d")
        );
    }

    #[test]
    fn provision_round_trip_keeps_guid_and_auth() {
        let f = ClientFrame::Provision {
            guid: Some(crate::jid::user("org#app", "alice", Some("web_1"))),
            auth: Some("$t$abc".into()),
            provision: Provision {
                resource: Some("web_1".into()),
                ..Default::default()
            },
        };
        assert_eq!(ClientFrame::decode(&f.encode()).unwrap(), f);
    }

    #[test]
    fn garbage_and_unknown_commands_are_errors() {
        assert!(ClientFrame::decode(&[0xff, 0xff, 0xff]).is_err());
        let notice_from_client = MSync {
            command: Some(Command::Notice as i32),
            ..Default::default()
        }
        .encode_to_vec();
        assert!(matches!(
            ClientFrame::decode(&notice_from_client),
            Err(DecodeError::UnknownCommand(2))
        ));
    }

    #[test]
    fn pull_batches_follow_the_sdk_rules() {
        let q = crate::jid::user("org#app", "bob", None);
        let (_, payload) =
            decode_server(&pull_batch(q.clone(), vec![Meta::default()], Some(7), 1)).unwrap();
        let dl = CommSyncDl::decode(payload).unwrap();
        assert_eq!((dl.is_last, dl.next_key), (Some(false), Some(7)));
        assert!(dl.status.is_some() && dl.queue.is_some());
        let (_, payload) = decode_server(&pull_batch(q, vec![], Some(7), 1)).unwrap();
        let dl = CommSyncDl::decode(payload).unwrap();
        assert_eq!((dl.is_last, dl.next_key), (Some(true), None));
    }
}
