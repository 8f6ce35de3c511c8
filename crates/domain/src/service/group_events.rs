//! The group events a membership change causes: one row in the group's conversation for what
//! all members see, one row in a user's own log for what only that user sees. Built here,
//! stored by the store with the change (see [`crate::store`]).
use bytes::Bytes;

use crate::{
    auth::Principal,
    conversation::Target,
    device::Resource,
    group::{Group, GroupEvent, GroupOp},
    message::{MessageKind, NewMessage},
    user::UserId,
};

/// The resource written on server-made events (no device sends it).
const SERVER_RESOURCE: &str = "roam_server";

/// An event every member sees: one row in the group's conversation, from the actor.
pub(super) fn group_event(
    group: &Group,
    op: GroupOp,
    actor: &UserId,
    users: &[UserId],
) -> NewMessage {
    let to = Target::Group(group.id.clone());
    event_message(actor, to, group, op, actor, users.to_vec())
}

/// An event only `user` sees: one row in their own log.
pub(super) fn user_event(
    user: &UserId,
    group: &Group,
    op: GroupOp,
    actor: &UserId,
    users: Vec<UserId>,
) -> NewMessage {
    event_message(user, Target::System, group, op, actor, users)
}

/// The events of a destroyed group: each member it had is told in their own log. (Also
/// what a deleted user's owned groups cause: in Easemob a deleted owner's groups and chat
/// rooms go with them, rather than staying without an owner.)
pub(super) fn destroyed_events(
    group: &Group,
    actor: &UserId,
    members: &[UserId],
) -> Vec<NewMessage> {
    members
        .iter()
        .map(|m| user_event(m, group, GroupOp::Destroyed, actor, vec![]))
        .collect()
}

/// A group event as a message from `from` to `to`, written by the server.
fn event_message(
    from: &UserId,
    to: Target,
    group: &Group,
    op: GroupOp,
    actor: &UserId,
    users: Vec<UserId>,
) -> NewMessage {
    let event = GroupEvent {
        op,
        group: group.id.clone(),
        kind: group.kind,
        actor: actor.clone(),
        users,
    };
    NewMessage {
        from: from.clone(),
        from_resource: server_resource(),
        to,
        kind: MessageKind::GroupEvent,
        payload: Bytes::from(event.encode()),
        content_type: String::new(),
        activity: false,
        client_id: None,
    }
}

/// Who an event names as its actor: the calling user, or for the app admin the group's owner.
pub(super) fn actor_of(caller: &Principal, group: &Group) -> UserId {
    match caller {
        Principal::User(u) => u.clone(),
        Principal::Admin => group.owner.clone(),
    }
}

fn server_resource() -> Resource {
    Resource::parse(SERVER_RESOURCE).expect("a valid resource")
}
