//! Group events as the MUC metas the SDK turns into `onGroupEvent` / `onChatroomEvent`.
use bytes::Bytes;
use prost::Message as _;
use roam_domain::{
    conversation::Target,
    group::{GroupEvent, GroupKind, GroupOp},
    message::StoredMessage,
    user::UserId,
};
use roam_protocol::{
    jid,
    pb::{Meta, MucBody, meta::NameSpace, muc_body::Operation},
};

use super::user_jid;

/// A stored group event as the MUC meta `me` pulls: PRESENCE → memberPresence /
/// membersPresence, ABSENCE → memberAbsence / membersAbsence, KICK → removeMember, DESTROY →
/// destroy, ASSIGN_OWNER → changeOwner, and in `me`'s own log DIRECT_JOINED → directJoined
/// (someone added them).
///
/// A payload that does not decode (a damaged row, or one from a newer server) is logged and
/// rendered as an empty STATISTIC meta, which the SDK ignores: the pull goes on.
pub fn group_event_meta(app_key: &str, me: &UserId, m: &StoredMessage) -> Meta {
    let event = match GroupEvent::decode(&m.payload) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(id = m.id.0, error = %e, "undecodable group event");
            return Meta {
                id: Some(m.id.0),
                ns: Some(NameSpace::Statistic as i32),
                ..Default::default()
            };
        }
    };
    let in_own_log = m.to == Target::System;
    let user = |u: &UserId| user_jid(app_key, u, None);
    let (operation, from, to, members) = match (event.op, in_own_log) {
        (GroupOp::MembersAdded, true) => (
            Operation::DirectJoined,
            user(&event.actor),
            event.users.iter().map(user).collect(),
            vec![],
        ),
        (GroupOp::MembersAdded, _) if event.users.len() == 1 => {
            (Operation::Presence, user(&event.users[0]), vec![], vec![])
        }
        (GroupOp::MembersAdded, _) => (
            Operation::Presence,
            user(&event.actor),
            vec![],
            names(&event.users),
        ),
        (GroupOp::MembersRemoved, true) => (
            Operation::Kick,
            user(&event.actor),
            event.users.iter().map(user).collect(),
            vec![],
        ),
        (GroupOp::MembersRemoved, false) | (GroupOp::MemberLeft, _) if event.users.len() == 1 => {
            (Operation::Absence, user(&event.users[0]), vec![], vec![])
        }
        (GroupOp::MembersRemoved, false) | (GroupOp::MemberLeft, _) => (
            Operation::Absence,
            user(&event.actor),
            vec![],
            names(&event.users),
        ),
        (GroupOp::Destroyed, _) => (Operation::Destroy, user(&event.actor), vec![], vec![]),
        (GroupOp::OwnerChanged, _) => (
            Operation::AssignOwner,
            user(&event.actor),
            event.users.iter().map(user).collect(),
            vec![],
        ),
    };
    let group = jid::conference(app_key, event.group.as_str());
    let body = MucBody {
        muc_id: Some(group.clone()),
        operation: Some(operation as i32),
        from: Some(from),
        to,
        is_chatroom: Some(event.kind == GroupKind::ChatRoom),
        members,
        ..Default::default()
    };
    Meta {
        id: Some(m.id.0),
        from: Some(group),
        to: Some(user(me)),
        timestamp: Some(m.timestamp_ms),
        ns: Some(NameSpace::Muc as i32),
        payload: Some(Bytes::from(body.encode_to_vec())),
        ..Default::default()
    }
}

fn names(users: &[UserId]) -> Vec<String> {
    users.iter().map(|u| u.as_str().to_owned()).collect()
}
