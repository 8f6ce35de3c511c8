//! Message roaming use-cases: the conversation list, pins, marks, history and one-way
//! deletes, each checked for who may do it, and each change told to the user's other devices.
//!
//! A change is recorded as a [`ConversationEvent`] in the user's own log in the same
//! transaction (durable: a device that was away gets it at its next login, in order), and
//! signalled to the online devices once committed (see [`crate::store`]). The acting device
//! is not told: it made the change.
use bytes::Bytes;

use super::Roam;
use crate::{
    auth::Principal,
    conversation::Target,
    device::Resource,
    message::{MessageKind, NewMessage},
    roaming::{
        ConversationEvent, ConversationOp, HistoryPage, HistoryQuery, ListPage, ListQuery, Mark,
        Removal,
    },
    store::{Events, StoreError},
    user::UserId,
};

/// Why a roaming call failed.
#[derive(Debug, thiserror::Error)]
pub enum RoamingError {
    /// A user's token acting on another user's conversations.
    #[error("not allowed to act for this user")]
    Forbidden,
    /// No such conversation for this user.
    #[error("conversation not found")]
    NotFound,
    /// History of a group or chat room the user is not in.
    #[error("not in group or chatroom")]
    NotMember,
    #[error("at most {0} conversations can be pinned")]
    PinLimit(usize),
    /// A history cursor that is not a message of the conversation.
    #[error("cursor is not a message of this conversation")]
    BadCursor,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RoamingError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConversationNotFound(_) => RoamingError::NotFound,
            StoreError::PinLimit(n) => RoamingError::PinLimit(n),
            StoreError::MessageNotFound(_) => RoamingError::BadCursor,
            e => RoamingError::Store(e),
        }
    }
}

/// Only the user themself (any of their tokens) or the app admin reads or changes a user's
/// conversations.
fn may_act_for(caller: &Principal, user: &UserId) -> Result<(), RoamingError> {
    match caller {
        Principal::Admin => Ok(()),
        Principal::User(u) if u == user => Ok(()),
        Principal::User(_) => Err(RoamingError::Forbidden),
    }
}

impl Roam {
    /// A page of `user`'s conversations (all, pinned or marked, as the query says).
    pub async fn conversations(
        &self,
        caller: &Principal,
        user: &UserId,
        query: &ListQuery,
    ) -> Result<ListPage, RoamingError> {
        may_act_for(caller, user)?;
        Ok(self.store.conversations(user, query).await?)
    }

    /// Pins or unpins a conversation from device `resource`; answers the pin time.
    pub async fn pin_conversation(
        &self,
        caller: &Principal,
        user: &UserId,
        resource: &Resource,
        target: &Target,
        pinned: bool,
    ) -> Result<Option<u64>, RoamingError> {
        may_act_for(caller, user)?;
        let op = if pinned {
            ConversationOp::Pinned
        } else {
            ConversationOp::Unpinned
        };
        let event = conversation_event(user, resource, op, target);
        let done = self
            .store
            .pin(
                user,
                target,
                pinned,
                self.policy.max_pinned,
                Box::new(move |_| vec![event]),
            )
            .await?;
        self.signal_all(&done.events).await;
        Ok(done.value)
    }

    /// Puts a mark on (or takes it off) conversations; answers those the user does not have.
    pub async fn mark_conversations(
        &self,
        caller: &Principal,
        user: &UserId,
        resource: &Resource,
        targets: Vec<Target>,
        mark: Mark,
        on: bool,
    ) -> Result<Vec<Target>, RoamingError> {
        may_act_for(caller, user)?;
        let op = if on {
            ConversationOp::Marked(mark)
        } else {
            ConversationOp::Unmarked(mark)
        };
        let (who, device, all) = (user.clone(), resource.clone(), targets.clone());
        let events: Events<Vec<Target>> = Box::new(move |missing| {
            all.iter()
                .filter(|t| !missing.contains(t))
                .map(|t| conversation_event(&who, &device, op, t))
                .collect()
        });
        let done = self.store.mark(user, targets, mark, on, events).await?;
        self.signal_all(&done.events).await;
        Ok(done.value)
    }

    /// A page of one conversation's history as `user` sees it.
    pub async fn history(
        &self,
        caller: &Principal,
        user: &UserId,
        query: &HistoryQuery,
    ) -> Result<HistoryPage, RoamingError> {
        may_act_for(caller, user)?;
        match self.store.history(user, query).await? {
            Some(page) => Ok(page),
            None if matches!(query.target, Target::Group(_)) => Err(RoamingError::NotMember),
            // A single chat with no message yet: empty.
            None => Ok(HistoryPage {
                messages: vec![],
                is_last: true,
            }),
        }
    }

    /// One-way delete: the messages are gone for `user` on every device, for no one else.
    pub async fn remove_messages(
        &self,
        caller: &Principal,
        user: &UserId,
        resource: &Resource,
        target: &Target,
        removal: Removal,
    ) -> Result<(), RoamingError> {
        may_act_for(caller, user)?;
        let event = conversation_event(user, resource, ConversationOp::MessagesDeleted, target);
        let done = self
            .store
            .remove_messages(user, target, removal, when_done(event))
            .await?;
        self.signal_all(&done.events).await;
        Ok(())
    }

    /// Takes a conversation off `user`'s list, with its history up to now if asked.
    pub async fn delete_conversation(
        &self,
        caller: &Principal,
        user: &UserId,
        resource: &Resource,
        target: &Target,
        with_history: bool,
    ) -> Result<(), RoamingError> {
        may_act_for(caller, user)?;
        let event = conversation_event(user, resource, ConversationOp::Deleted, target);
        let done = self
            .store
            .delete_conversation(user, target, with_history, when_done(event))
            .await?;
        if !done.value {
            return Err(RoamingError::NotFound);
        }
        self.signal_all(&done.events).await;
        Ok(())
    }

    /// Deletes every conversation of `user` with its history.
    pub async fn delete_all_conversations(
        &self,
        caller: &Principal,
        user: &UserId,
        resource: &Resource,
    ) -> Result<(), RoamingError> {
        may_act_for(caller, user)?;
        let (who, device) = (user.clone(), resource.clone());
        let events: Events<Vec<Target>> = Box::new(move |deleted| {
            deleted
                .iter()
                .map(|t| conversation_event(&who, &device, ConversationOp::Deleted, t))
                .collect()
        });
        let done = self.store.delete_all_conversations(user, events).await?;
        self.signal_all(&done.events).await;
        Ok(())
    }
}

/// The multi-device event that tells `user`'s other devices of a change made on device
/// `resource`: a message to their own log.
fn conversation_event(
    user: &UserId,
    resource: &Resource,
    op: ConversationOp,
    target: &Target,
) -> NewMessage {
    let event = ConversationEvent {
        op,
        target: target.clone(),
    };
    NewMessage {
        from: user.clone(),
        from_resource: resource.clone(),
        to: Target::System,
        kind: MessageKind::ConversationEvent,
        payload: Bytes::from(event.encode()),
        content_type: String::new(),
        activity: false,
        client_id: None,
    }
}

/// The event, recorded only if the change happened (the write answered true).
fn when_done(event: NewMessage) -> Events<bool> {
    Box::new(move |done| if *done { vec![event] } else { Vec::new() })
}
