//! Messaging: sending, and delivering to every device of the recipients and of the sender.
//!
//! Delivery is pull-based, as msync is: a send stores the message once, then tells online
//! devices "your queue for this conversation has news" through [`crate::fanout::Fanout`]; each
//! device pulls what it is owed and acknowledges it. A device that was offline finds the same
//! queues at login. A group message is one stored row whatever the group's size; only the
//! in-memory signals are per member.
use super::Roam;
use crate::{
    conversation::Target,
    device::{Device, Resource},
    group::GroupId,
    id::MessageId,
    message::{MessageKind, NewMessage, StoredMessage},
    store::{PendingQueue, StoreError},
    user::UserId,
};

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("user {0} doesn't exist")]
    RecipientNotFound(UserId),
    #[error("group not found")]
    GroupNotFound(GroupId),
    #[error("not in group or chatroom")]
    NotMember(GroupId),
    #[error("not allowed")]
    NotAllowed,
    /// The body is over [`crate::limits::MESSAGE_BYTES`] (`ext` included), whichever
    /// transport it came in on.
    #[error(transparent)]
    TooLarge(#[from] crate::limits::TooLong),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SendError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::GroupNotFound(g) => SendError::GroupNotFound(g),
            e => SendError::Store(e),
        }
    }
}

/// One batch of a pull.
#[derive(Debug, Clone)]
pub struct Pull {
    pub messages: Vec<StoredMessage>,
}

impl Pull {
    /// The key the client echoes (as the next pull's key) to acknowledge this batch: the last
    /// message's server id. Not its sequence number: sequences restart at 1 in every
    /// conversation, so two queues of one connection would often answer the same key, and
    /// SDKs 4.7–4.13, which remember one key for all queues, drop a page whose key repeats
    /// the previous one and stop pulling. Server ids are unique across conversations and
    /// increase with the sequence within one, so the key still grows page by page.
    pub fn next_key(&self) -> Option<MessageId> {
        self.messages.last().map(|m| m.id)
    }
}

impl Roam {
    /// A device logs in: registers it on first sight.
    pub async fn connect(&self, user: &UserId, resource: &Resource) -> Result<Device, StoreError> {
        self.store.device(user, resource).await
    }

    /// Stores a message durably, then signals the devices that are owed it. Returns once the
    /// message is durable: the caller acks the sender after this.
    pub async fn send(&self, message: NewMessage) -> Result<StoredMessage, SendError> {
        self.send_checked(message, true).await
    }

    /// A message the app admin sends over REST on behalf of `message.from`: to a group or
    /// chat room it needs no membership.
    pub async fn send_as_admin(&self, message: NewMessage) -> Result<StoredMessage, SendError> {
        self.send_checked(message, false).await
    }

    /// `from_device`: sent by a logged-in device (else by the admin over REST), which makes a
    /// chat message conversation activity (REST ones only if the policy says so).
    async fn send_checked(
        &self,
        mut message: NewMessage,
        from_device: bool,
    ) -> Result<StoredMessage, SendError> {
        crate::limits::bytes(
            "message",
            message.payload.len(),
            crate::limits::MESSAGE_BYTES,
        )?;
        let member_only = from_device;
        message.activity = message.kind == MessageKind::Chat
            && (from_device || self.policy.rest_messages_update_conversations);
        match &message.to {
            Target::User(to) => {
                if *to != message.from && self.store.user(to).await?.is_none() {
                    return Err(SendError::RecipientNotFound(to.clone()));
                }
            }
            // The event log is written by the server only.
            Target::System => return Err(SendError::NotAllowed),
            Target::Group(g) => {
                // The kept member list answers both checks (see `crate::group::roster`).
                let Some(members) = self.members(g).await? else {
                    return Err(SendError::GroupNotFound(g.clone()));
                };
                if member_only && !members.contains(&message.from) {
                    return Err(SendError::NotMember(g.clone()));
                }
            }
        }
        let stored = self.store.append(message).await?;
        self.signal(&stored).await;
        if stored.activity {
            self.enforce_conversation_limit(&stored).await;
        }
        Ok(stored)
    }

    /// With a `conversation_limit`, a message that may have added a conversation to its
    /// sender's or recipient's list trims those lists. A group message adds none (members'
    /// group conversations exist from their joining), so it costs nothing here.
    async fn enforce_conversation_limit(&self, m: &StoredMessage) {
        let keep = self.policy.conversation_limit;
        let Target::User(to) = &m.to else { return };
        if keep == 0 {
            return;
        }
        for user in [&m.from, to] {
            if let Err(e) = self.store.evict_conversations(user, keep).await {
                // The message is stored; the list is trimmed at the next message.
                tracing::warn!(error = %e, user = %user, "could not trim the conversation list");
            }
        }
    }

    /// Tells the online devices owed `m` to pull it: the recipient's (or every member's) and
    /// the sender's other devices.
    pub(super) async fn signal(&self, m: &StoredMessage) {
        match &m.to {
            Target::User(to) => {
                self.fanout.notify(to, &Target::User(m.from.clone()), None);
                self.fanout.notify(&m.from, &m.to, Some(&m.from_resource));
            }
            // A group read ack went to the sender's own log (see `DeliveryStore::append`).
            Target::Group(_) if m.kind == MessageKind::ChannelAck => {
                self.fanout
                    .notify(&m.from, &Target::System, Some(&m.from_resource))
            }
            Target::Group(g) => {
                // Kept before any member is told: a pull after the notice finds it here.
                self.recent.add(g, m);
                // The members as of a moment after the commit (see `crate::group::roster`);
                // which of them are online is the fan-out's to find.
                let members = match self.members(g).await {
                    Ok(Some(m)) => m,
                    // Destroyed since: its members were told in their own logs.
                    Ok(None) => return,
                    Err(e) => {
                        // The message is stored: devices find it at their next heartbeat.
                        tracing::warn!(error = %e, group = %g, "could not signal members");
                        return;
                    }
                };
                self.fanout
                    .notify_all(&members, &m.to, &m.from, Some(&m.from_resource));
            }
            // The user's own log: the device that acted knows already.
            Target::System => self
                .fanout
                .notify(&m.from, &Target::System, Some(&m.from_resource)),
        }
    }

    /// Signals each event a write committed, in order: after the write returned, never
    /// before (see [`crate::store`]).
    pub(super) async fn signal_all(&self, events: &[StoredMessage]) {
        for m in events {
            self.signal(m).await;
        }
    }

    /// The queues holding something for this device.
    pub async fn pending(&self, device: &Device) -> Result<Vec<PendingQueue>, StoreError> {
        self.store.pending(device).await
    }

    /// A pull of the queue for `target`: first acknowledges everything up to `ack` (the key of
    /// the previous batch, [`Pull::next_key`], if the client sent one), then returns the next
    /// batch.
    pub async fn pull(
        &self,
        device: &Device,
        target: &Target,
        ack: Option<MessageId>,
    ) -> Result<Pull, StoreError> {
        if let Some(up_to) = ack {
            let position = self.store.ack_at(device, target, up_to).await?;
            // The position is durable (see `ack_at`); a group's recent messages after it are
            // in memory (see `crate::recent` for why the answer is then the store's).
            if let (Some(position), Target::Group(g)) = (position, target)
                && let Some(messages) =
                    self.recent
                        .owed(g, device, position, self.policy.pull_batch)
            {
                return Ok(Pull { messages });
            }
        }
        let messages = self
            .store
            .owed(device, target, self.policy.pull_batch)
            .await?;
        Ok(Pull { messages })
    }
}
