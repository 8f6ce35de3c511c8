//! Small builders the tests share: ids, users, messages, groups, and reading a device's queue.
use bytes::Bytes;

use crate::prelude::*;

pub fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

/// The single chat with user `s`.
pub fn t(s: &str) -> Target {
    Target::User(uid(s))
}

pub fn res(s: &str) -> Resource {
    Resource::parse(s).unwrap()
}

pub fn gid(s: &str) -> GroupId {
    GroupId::parse(s).unwrap()
}

pub fn new_user(id: &str) -> NewUser {
    NewUser {
        id: uid(id),
        uuid: entity_uuid(),
        password: Password::parse("pw").unwrap().hash(),
        nickname: None,
    }
}

/// A text from `from`'s device `from_res` to user `to`.
pub fn chat(from: &str, from_res: &str, to: &str, text: &str) -> NewMessage {
    to_target(from, from_res, t(to), text)
}

/// A text from `from`'s device `from_res` to `to` (a user or a group).
pub fn to_target(from: &str, from_res: &str, to: Target, text: &str) -> NewMessage {
    NewMessage {
        from: uid(from),
        from_resource: res(from_res),
        to,
        kind: MessageKind::Chat,
        payload: Bytes::from(text.to_owned()),
        content_type: "txt".into(),
        activity: true,
        client_id: None,
    }
}

/// Sends a text, answering its sequence number.
pub async fn send(s: &dyn Store, from: &str, from_res: &str, to: &str, text: &str) -> u64 {
    s.append(chat(from, from_res, to, text)).await.unwrap().seq
}

/// Sends a text to a group from `from`'s device "d", answering its sequence number.
pub async fn group_send(s: &dyn Store, from: &str, group: &str, text: &str) -> u64 {
    s.append(to_target(from, "d", Target::Group(gid(group)), text))
        .await
        .unwrap()
        .seq
}

/// The texts device `d` is owed in its conversation with `target`, oldest first.
pub async fn owed_texts(s: &dyn Store, d: &Device, target: &Target) -> Vec<String> {
    s.owed(d, target, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| String::from_utf8(m.payload.to_vec()).unwrap())
        .collect()
}

/// The texts device `d` is owed in its single chat with `peer`, oldest first.
pub async fn texts(s: &dyn Store, d: &Device, peer: &str) -> Vec<String> {
    owed_texts(s, d, &t(peer)).await
}

pub fn new_group(id: &str, owner: &str, members: &[&str], max_users: u32) -> NewGroup {
    NewGroup {
        id: gid(id),
        kind: GroupKind::Group,
        owner: uid(owner),
        settings: GroupSettings {
            name: id.into(),
            description: String::new(),
            public: true,
            approval: false,
            allow_invites: false,
            max_users,
            custom: String::new(),
        },
        members: members.iter().map(|m| uid(m)).collect(),
    }
}
