//! JIDs: how users, groups and the queues a client pulls are named on the wire.
use crate::pb::Jid;

/// Domain of a user's JID (single chat peers, senders, a single-chat queue).
pub const USER_DOMAIN: &str = "easemob.com";
/// Domain of a group's or chat room's JID.
pub const CONFERENCE_DOMAIN: &str = "conference.easemob.com";

/// The JID of user `name` in app `app_key`, optionally on one device (`resource`).
pub fn user(app_key: &str, name: &str, resource: Option<&str>) -> Jid {
    Jid {
        app_key: Some(app_key.to_owned()),
        name: Some(name.to_owned()),
        domain: Some(USER_DOMAIN.to_owned()),
        client_resource: resource.map(str::to_owned),
    }
}

/// The JID of group or chat room `id` in app `app_key`.
pub fn conference(app_key: &str, id: &str) -> Jid {
    Jid {
        app_key: Some(app_key.to_owned()),
        name: Some(id.to_owned()),
        domain: Some(CONFERENCE_DOMAIN.to_owned()),
        client_resource: None,
    }
}

/// True when the JID names a group or chat room rather than a user.
pub fn is_conference(jid: &Jid) -> bool {
    jid.domain
        .as_deref()
        .is_some_and(|d| d.contains("conference"))
}
