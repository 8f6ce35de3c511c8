//! One msync connection: log in with PROVISION, then answer requests in order.
//!
//! [`Session::handle`] turns one client frame into the frames to send back; it knows no socket,
//! so its logic is testable alone. [`serve`] drives a socket: it reads frames, writes answers,
//! and forwards the hub's pushes (notices, kicks) between requests.
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::extract::ws::{Message, WebSocket};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use prost::Message as _;
use roam_domain::{
    auth::Principal,
    conversation::Target,
    device::{Device, Resource},
    fanout::KickReason,
    group::{GroupEvent, GroupId, GroupKind, GroupOp},
    message::{MessageKind, NewMessage, StoredMessage},
    now_ms,
    roaming::ConversationEvent,
    service::{AuthError, GroupError, SendError},
    user::UserId,
};
use roam_protocol::{
    jid, message_json,
    msync::{self, ClientFrame},
    pb::{
        CommSyncUl, Jid, MessageBody, Meta, MucBody, Provision, message_body, meta::NameSpace,
        muc_body, status::ErrorCode,
    },
};

use crate::{
    Gateway, MAX_TEXT,
    hub::{Push, Registration},
    notify,
};

/// What the socket loop does after a frame was handled.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// Send the answers, then close the connection.
    Close,
}

/// A logged-in device.
struct Online {
    device: Device,
    registration: Registration,
}

/// One connection's state.
pub struct Session {
    gw: Arc<Gateway>,
    online: Option<Online>,
}

impl Session {
    pub fn new(gw: Arc<Gateway>) -> Session {
        Session { gw, online: None }
    }

    /// Handles one binary frame; returns the frames to send back, in order.
    pub async fn handle(&mut self, frame: &[u8]) -> (Vec<Vec<u8>>, Next) {
        let frame = match ClientFrame::decode(frame) {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(error = %e, "closing a connection that sent a bad frame");
                return (vec![], Next::Close);
            }
        };
        match (frame, self.online.is_some()) {
            (
                ClientFrame::Provision {
                    guid,
                    auth,
                    provision,
                },
                false,
            ) => self.provision(guid, auth, provision).await,
            (ClientFrame::Provision { .. }, true) => (vec![], Next::Continue),
            (ClientFrame::Unread, true) => (vec![self.unread().await], Next::Continue),
            (ClientFrame::Sync(ul), true) => (self.sync(ul).await, Next::Continue),
            (ClientFrame::Logout(_), _) => (vec![msync::logout_reply()], Next::Close),
            // Anything but a login before the login: not an msync client.
            (_, false) => (vec![], Next::Close),
        }
    }

    async fn provision(
        &mut self,
        guid: Option<Jid>,
        auth: Option<String>,
        provision: Provision,
    ) -> (Vec<Vec<u8>>, Next) {
        let fail = |code: ErrorCode, reason: &str| {
            (
                vec![msync::provision_reply(
                    msync::status(code, Some(reason)),
                    None,
                    None,
                )],
                Next::Close,
            )
        };
        const BAD_LOGIN: &str = "Sorry, token or password does not match login info";
        let token = auth
            .as_deref()
            .or(provision.auth_token.as_deref())
            .and_then(token_of);
        let user = guid
            .as_ref()
            .and_then(|g| g.name.as_deref())
            .and_then(|n| UserId::parse(n).ok());
        let resource = provision
            .resource
            .as_deref()
            .or(guid.as_ref().and_then(|g| g.client_resource.as_deref()))
            .and_then(|r| Resource::parse(r).ok());
        let (Some(token), Some(user), Some(resource)) = (token, user, resource) else {
            return fail(ErrorCode::Fail, BAD_LOGIN);
        };
        let expires = match self.gw.roam.authenticate(&token).await {
            Ok((Principal::User(u), expires)) if u == user => expires,
            Ok(_) | Err(AuthError::Unknown) => return fail(ErrorCode::Fail, BAD_LOGIN),
            Err(AuthError::Expired) => return fail(ErrorCode::Fail, "Sorry, token expired"),
            Err(AuthError::UserGone) => return fail(ErrorCode::Fail, "Sorry, user not found"),
            Err(AuthError::Store(e)) => {
                tracing::error!(error = %e, "login failed on storage");
                return fail(ErrorCode::Fail, "Sorry, internal server error");
            }
        };
        let Ok(registration) = self
            .gw
            .hub
            .register(&user, &resource, self.gw.limits.max_devices)
        else {
            return fail(ErrorCode::TooManyDevices, "Sorry, too many devices");
        };
        let device = match self.gw.roam.connect(&user, &resource).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "login failed on storage");
                return fail(ErrorCode::Fail, "Sorry, internal server error");
            }
        };
        tracing::debug!(%user, %resource, "device logged in");
        self.online = Some(Online {
            device,
            registration,
        });
        (
            vec![msync::provision_reply(
                msync::ok(),
                Some(resource.as_str()),
                Some(expires),
            )],
            Next::Continue,
        )
    }

    fn online(&self) -> &Online {
        self.online
            .as_ref()
            .expect("requests are handled only after login")
    }

    fn user_jid(&self, user: &UserId, resource: Option<&Resource>) -> Jid {
        jid::user(
            self.gw.app_key(),
            user.as_str(),
            resource.map(Resource::as_str),
        )
    }

    /// The JID naming a conversation's queue (and a message's recipient).
    fn target_jid(&self, target: &Target) -> Jid {
        match target {
            Target::User(u) => self.user_jid(u, None),
            Target::Group(g) => jid::conference(self.gw.app_key(), g.as_str()),
            Target::System => {
                let me = &self.online().device.user;
                jid::user(self.gw.app_key(), me.as_str(), Some(SYSTEM_QUEUE))
            }
        }
    }

    async fn unread(&self) -> Vec<u8> {
        let queues = match self.gw.roam.pending(&self.online().device).await {
            Ok(q) => q,
            Err(e) => {
                tracing::error!(error = %e, "unread query failed");
                Vec::new()
            }
        };
        msync::unread_reply(
            queues
                .into_iter()
                .map(|q| (self.target_jid(&q.target), q.count))
                .collect(),
            now_ms(),
        )
    }

    async fn sync(&self, ul: CommSyncUl) -> Vec<Vec<u8>> {
        if let Some(meta) = ul.meta {
            return self.send(meta).await.into_iter().collect();
        }
        match ul.queue {
            Some(queue) => vec![self.pull(queue, ul.key).await],
            None => vec![],
        }
    }

    async fn pull(&self, queue: Jid, key: Option<u64>) -> Vec<u8> {
        let now = now_ms();
        let Some(target) = target_of(&queue, &self.online().device.user) else {
            return msync::pull_batch(queue, vec![], None, now);
        };
        let online = self.online();
        match self.gw.roam.pull(&online.device, &target, key).await {
            Ok(batch) => {
                let next_key = batch.next_key();
                let metas = batch.messages.iter().map(|m| self.meta_of(m)).collect();
                msync::pull_batch(queue, metas, next_key, now)
            }
            Err(e) => {
                tracing::error!(error = %e, "pull failed");
                msync::pull_batch(queue, vec![], None, now)
            }
        }
    }

    fn meta_of(&self, m: &StoredMessage) -> Meta {
        match m.kind {
            MessageKind::GroupEvent => return self.event_meta(m),
            MessageKind::ConversationEvent => return self.notify_meta(m),
            _ => {}
        }
        Meta {
            id: Some(m.id.0),
            from: Some(self.user_jid(&m.from, Some(&m.from_resource))),
            to: Some(self.target_jid(&m.to)),
            timestamp: Some(m.timestamp_ms),
            ns: Some(NameSpace::Chat as i32),
            payload: Some(m.payload.clone()),
            ..Default::default()
        }
    }

    /// A group event as the MUC meta the SDK turns into `onGroupEvent` / `onChatroomEvent`:
    /// PRESENCE → memberPresence / membersPresence, ABSENCE → memberAbsence / membersAbsence,
    /// KICK → removeMember, DESTROY → destroy, ASSIGN_OWNER → changeOwner, and in a user's
    /// own log DIRECT_JOINED → directJoined (someone added them).
    fn event_meta(&self, m: &StoredMessage) -> Meta {
        use muc_body::Operation;
        let app = self.gw.app_key();
        let Some(event) = std::str::from_utf8(&m.payload)
            .ok()
            .and_then(GroupEvent::decode)
        else {
            tracing::warn!(id = m.id.0, "undecodable group event");
            return Meta {
                id: Some(m.id.0),
                ns: Some(NameSpace::Statistic as i32),
                ..Default::default()
            };
        };
        let in_own_log = m.to == Target::System;
        let user = |u: &UserId| jid::user(app, u.as_str(), None);
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
            (GroupOp::MembersRemoved, false) | (GroupOp::MemberLeft, _)
                if event.users.len() == 1 =>
            {
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
        let body = MucBody {
            muc_id: Some(jid::conference(app, event.group.as_str())),
            operation: Some(operation as i32),
            from: Some(from),
            to,
            is_chatroom: Some(event.kind == GroupKind::ChatRoom),
            members,
            ..Default::default()
        };
        Meta {
            id: Some(m.id.0),
            from: Some(jid::conference(app, event.group.as_str())),
            to: Some(self.user_jid(&self.online().device.user, None)),
            timestamp: Some(m.timestamp_ms),
            ns: Some(NameSpace::Muc as i32),
            payload: Some(Bytes::from(body.encode_to_vec())),
            ..Default::default()
        }
    }

    /// A conversation event from the user's own log as the NOTIFY meta the SDK turns into
    /// `onMultiDeviceEvent` (pinnedConversation, deleteConversation, deleteRoaming, …).
    fn notify_meta(&self, m: &StoredMessage) -> Meta {
        let me = self.user_jid(&m.from, None);
        let payload = std::str::from_utf8(&m.payload)
            .ok()
            .and_then(ConversationEvent::decode)
            .map(|e| notify::payload(&e, &m.from, &m.from_resource, m.timestamp_ms));
        if payload.is_none() {
            tracing::warn!(id = m.id.0, "undecodable conversation event");
        }
        Meta {
            id: Some(m.id.0),
            from: Some(me.clone()),
            to: Some(me),
            timestamp: Some(m.timestamp_ms),
            ns: Some(NameSpace::Notify as i32),
            payload: Some(Bytes::from(payload.unwrap_or_else(|| b"{}".to_vec()))),
            ..Default::default()
        }
    }

    /// A meta the client sends: a message or an ack (CHAT), or something not served yet.
    async fn send(&self, meta: Meta) -> Option<Vec<u8>> {
        let meta_id = meta.id.unwrap_or(0);
        let reject = |code: ErrorCode, reason: &str| {
            Some(msync::send_error(
                meta_id,
                msync::status(code, Some(reason)),
            ))
        };
        match NameSpace::try_from(meta.ns.unwrap_or(0)) {
            Ok(NameSpace::Chat) => {}
            // Client statistics: nothing to answer (the SDK expects no reply).
            Ok(NameSpace::Statistic) => return None,
            Ok(NameSpace::Muc) => return Some(self.muc(meta_id, meta.payload).await),
            _ => return reject(ErrorCode::UnknownCommand, "unsupported namespace"),
        }
        let Some(mut body) = meta
            .payload
            .as_ref()
            .and_then(|p| MessageBody::decode(p.clone()).ok())
        else {
            return reject(ErrorCode::PbParserError, "undecodable message body");
        };
        let kind = match message_body::Type::try_from(body.r#type.unwrap_or(0)) {
            Ok(
                message_body::Type::Chat
                | message_body::Type::Groupchat
                | message_body::Type::Chatroom,
            ) => MessageKind::Chat,
            Ok(message_body::Type::ReadAck) => MessageKind::ReadAck,
            Ok(message_body::Type::DeliverAck) => MessageKind::DeliverAck,
            Ok(message_body::Type::ChannelAck) => MessageKind::ChannelAck,
            Ok(message_body::Type::Recall) => {
                return reject(ErrorCode::Fail, "message recall disabled");
            }
            _ => return reject(ErrorCode::WrongParameter, "unsupported message type"),
        };
        let to_name = meta
            .to
            .as_ref()
            .and_then(|t| t.name.clone())
            .unwrap_or_default();
        let to = match meta.to.as_ref() {
            Some(j) if jid::is_conference(j) => match GroupId::parse(&to_name) {
                Ok(g) => Target::Group(g),
                Err(_) => return reject(ErrorCode::Fail, "group not found"),
            },
            _ => match UserId::parse(&to_name) {
                Ok(u) => Target::User(u),
                Err(_) => {
                    return reject(
                        ErrorCode::Fail,
                        &format!("username {to_name} doesn't exist!"),
                    );
                }
            },
        };
        let text: usize = body
            .contents
            .iter()
            .map(|c| c.text.as_deref().map_or(0, str::len))
            .sum();
        if text > MAX_TEXT {
            return reject(ErrorCode::PermissionDenied, "Sorry, data is too large");
        }
        let online = self.online();
        // The sender is who logged in, whatever the body claims; ids are normalised.
        body.from = Some(Jid {
            name: Some(online.device.user.as_str().to_owned()),
            ..Default::default()
        });
        body.to = Some(Jid {
            name: Some(to.to_string()),
            ..Default::default()
        });
        let message = NewMessage {
            from: online.device.user.clone(),
            from_resource: online.device.resource.clone(),
            to,
            kind,
            content_type: message_json::content_type(&body).to_owned(),
            payload: Bytes::from(body.encode_to_vec()),
            activity: false,
            client_id: meta.id.filter(|id| *id != 0),
        };
        match self.gw.roam.send(message).await {
            Ok(stored) => Some(msync::send_ack(meta_id, stored.id.0, stored.timestamp_ms)),
            Err(SendError::RecipientNotFound(to)) => {
                reject(ErrorCode::Fail, &format!("username {to} doesn't exist!"))
            }
            Err(SendError::GroupNotFound(_)) => reject(ErrorCode::Fail, "group not found"),
            Err(SendError::NotMember(_)) => reject(ErrorCode::Fail, "not in group or chatroom"),
            Err(SendError::NotAllowed) => reject(ErrorCode::PermissionDenied, "not allowed"),
            Err(SendError::Store(e)) => {
                tracing::error!(error = %e, "send failed on storage");
                reject(ErrorCode::Fail, "Sorry, internal server error")
            }
        }
    }

    /// A chat room JOIN or LEAVE (the SDK's `joinChatRoom` / `leaveChatRoom`).
    async fn muc(&self, meta_id: u64, payload: Option<Bytes>) -> Vec<u8> {
        let reject = |code: ErrorCode, reason: &str| {
            msync::send_error(meta_id, msync::status(code, Some(reason)))
        };
        let Some(muc) = payload.and_then(|p| MucBody::decode(p).ok()) else {
            return reject(ErrorCode::PbParserError, "undecodable MUC body");
        };
        let id = muc
            .muc_id
            .as_ref()
            .and_then(|j| j.name.clone())
            .unwrap_or_default();
        let caller = Principal::User(self.online().device.user.clone());
        let result = match muc_body::Operation::try_from(muc.operation.unwrap_or(-1)) {
            Ok(muc_body::Operation::Join) => {
                self.gw.roam.join_group(&caller, &id).await.map(|_| ())
            }
            Ok(muc_body::Operation::Leave) => self.gw.roam.leave_group(&caller, &id).await,
            _ => return reject(ErrorCode::UnknownCommand, "unsupported MUC operation"),
        };
        match result {
            Ok(()) => msync::send_ack(meta_id, 0, now_ms()),
            Err(GroupError::NotFound(g)) => {
                reject(ErrorCode::Fail, &format!("grpID {g} does not exist!"))
            }
            Err(GroupError::InvalidGroupId(_)) => {
                reject(ErrorCode::Fail, "group ID illegal, please check it")
            }
            Err(GroupError::Full(_)) => reject(ErrorCode::Fail, "group member list is full!"),
            Err(GroupError::NotMember(..)) => reject(ErrorCode::Fail, "not in group or chatroom"),
            Err(GroupError::Store(e)) => {
                tracing::error!(error = %e, "MUC operation failed on storage");
                reject(ErrorCode::Fail, "Sorry, internal server error")
            }
            Err(e) => reject(ErrorCode::PermissionDenied, &e.to_string()),
        }
    }

    /// The frame for a hub push, or None to close.
    fn on_push(&self, push: Push) -> Option<Vec<u8>> {
        match push {
            Push::Notice(target) => Some(msync::notice(self.target_jid(&target))),
            Push::Kick(reason) => {
                tracing::debug!(?reason, "kicking a session");
                let online = self.online.as_ref()?;
                let operation = match reason {
                    KickReason::PasswordChanged => msync::KickOperation::PasswordChanged,
                    KickReason::UserRemoved => msync::KickOperation::UserRemoved,
                };
                let me = self.user_jid(&online.device.user, None);
                let now = now_ms();
                // A meta id no message has: the current time in the id layout, low bits set.
                let id = (now << 22) | 0x3f_ffff;
                Some(msync::kick(me, operation, id, now))
            }
        }
    }

    /// Pushes for this session; pending forever before login.
    async fn next_push(&mut self) -> Option<Push> {
        match self.online.as_mut() {
            Some(o) => o.registration.pushes.recv().await,
            None => std::future::pending().await,
        }
    }
}

/// How often a connection's liveness is checked.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Drives one WebSocket until the client leaves, breaks the protocol, is kicked, goes
/// silent, or the server shuts down.
pub async fn serve(socket: WebSocket, gw: Arc<Gateway>) {
    let mut shutdown = gw.shutdown.clone();
    let (mut sink, mut stream) = socket.split();
    let mut session = Session::new(gw);
    let limits = session.gw.limits.clone();
    let opened = Instant::now();
    let mut last_heard = Instant::now();
    let mut last_ping = Instant::now();
    let mut check =
        tokio::time::interval_at(tokio::time::Instant::now() + CHECK_EVERY, CHECK_EVERY);
    loop {
        let outgoing: Vec<Message>;
        let mut close = false;
        tokio::select! {
            incoming = stream.next() => {
                last_heard = Instant::now();
                match incoming {
                    Some(Ok(Message::Binary(frame))) => {
                        let (out, next) = session.handle(&frame).await;
                        outgoing = out.into_iter().map(|f| Message::Binary(f.into())).collect();
                        close = next == Next::Close;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    // Text frames are not msync (web SDKs send binary); close, as for any breach.
                    Some(Ok(Message::Text(_) | Message::Close(_))) | Some(Err(_)) | None => break,
                }
            },
            push = session.next_push() => {
                // A kick is told to the device, then the connection closes.
                close = matches!(push, Some(Push::Kick(_)));
                match push.and_then(|p| session.on_push(p)) {
                    Some(frame) => outgoing = vec![Message::Binary(frame.into())],
                    None => break,
                }
            },
            _ = check.tick() => {
                let silent = last_heard.elapsed() > limits.idle_timeout;
                let never_logged_in = session.online.is_none() && opened.elapsed() > limits.login_timeout;
                if silent || never_logged_in {
                    tracing::debug!(silent, never_logged_in, "closing a dead connection");
                    break;
                }
                // Ping what has been quiet for a third of the limit: browsers answer by
                // themselves, so a live client is heard from well before the limit.
                if last_heard.elapsed() < limits.idle_timeout / 3 || last_ping.elapsed() < limits.idle_timeout / 3 {
                    continue;
                }
                last_ping = Instant::now();
                outgoing = vec![Message::Ping(Default::default())];
            },
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break,
        }
        for message in outgoing {
            if sink.send(message).await.is_err() {
                return;
            }
        }
        if close {
            break;
        }
    }
    let _ = sink.send(Message::Close(None)).await;
}

/// The resource in the JID of a user's own event log queue (`Target::System`): the user's
/// name with this resource, which no device of the SDK uses (theirs are `webim_…`).
pub const SYSTEM_QUEUE: &str = "roam_events";

fn names(users: &[UserId]) -> Vec<String> {
    users.iter().map(|u| u.as_str().to_owned()).collect()
}

/// The conversation a queue JID names, for the logged-in `me`.
fn target_of(queue: &Jid, me: &UserId) -> Option<Target> {
    let name = queue.name.as_deref()?;
    if jid::is_conference(queue) {
        return GroupId::parse(name).ok().map(Target::Group);
    }
    let user = UserId::parse(name).ok()?;
    if user == *me && queue.client_resource.as_deref() == Some(SYSTEM_QUEUE) {
        Some(Target::System)
    } else {
        Some(Target::User(user))
    }
}

/// The token inside `"$t$<token>"` or `{"token":"$t$<token>"}`.
fn token_of(auth: &str) -> Option<String> {
    let raw = if auth.trim_start().starts_with('{') {
        serde_json::from_str::<serde_json::Value>(auth)
            .ok()?
            .get("token")?
            .as_str()?
            .to_owned()
    } else {
        auth.to_owned()
    };
    let token = raw.strip_prefix("$t$").unwrap_or(&raw);
    (!token.is_empty()).then(|| token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::token_of;

    #[test]
    fn tokens_are_read_in_both_sdk_forms() {
        assert_eq!(token_of("$t$abc").as_deref(), Some("abc"));
        assert_eq!(token_of(r#"{"token":"$t$abc"}"#).as_deref(), Some("abc"));
        assert_eq!(token_of("$t$"), None);
        assert_eq!(token_of("{bad json"), None);
    }
}
