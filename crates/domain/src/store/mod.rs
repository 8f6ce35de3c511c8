//! The storage traits that every engine (SQLite, PostgreSQL) implements, with one error type.
//!
//! The store comes in parts by concern, each a trait: [`UserStore`] (users, tokens,
//! settings), [`DeliveryStore`] (appending messages, devices, what a device is owed, acks),
//! [`GroupStore`] (groups, chat rooms, members) and [`RoamingStore`] (the conversation list,
//! history, pins, marks, one-way deletes). An engine implements all four; [`Store`] is their
//! sum, implemented for every type that has them, so the service holds one `Arc<dyn Store>`.
//!
//! # Writes, events and signals
//!
//! Each write method is **one transaction**: it happens whole or not at all. Writes return
//! only once they are durable (committed under the engine's fsync policy): the server acks a
//! message to its sender after [`DeliveryStore::append`] returns, never before.
//!
//! A change that other devices must hear of (a pin, a group member added, a user deleted with
//! their groups) is recorded as event messages in logs ([`NewMessage`]s to the user's own log
//! or to the group's conversation). **A write and the events it causes commit together**:
//! the write methods that cause events take [`Events`], a function from the write's outcome
//! to the events it causes, and the engine appends those events in the same transaction,
//! after the change, in the order given, answering them as [`Committed::events`]. A crash
//! therefore never leaves a change that its devices will not hear of, nor an event of a
//! change that did not happen. The function is the service's: which events a change causes
//! is a rule of the domain, decided once, not in each engine.
//!
//! **Live signals go out only after the commit**: the service signals online devices
//! ([`crate::fanout::Fanout`]) for each committed event once the write method has returned,
//! so no device is told to pull something that could still roll back. A signal lost to a
//! crash costs nothing: devices find the events at their next pull.

use crate::{
    conversation::Target,
    group::GroupId,
    id::MessageId,
    message::{NewMessage, StoredMessage},
    user::UserId,
};

mod delivery;
mod groups;
mod roaming;
mod users;

pub use delivery::DeliveryStore;
pub use groups::GroupStore;
pub use roaming::RoamingStore;
pub use users::{RemovedUser, UserStore};

/// Why a storage call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A user with this id exists already.
    #[error("user {0} exists already")]
    DuplicateUser(UserId),
    /// A group with this id exists already.
    #[error("group {0} exists already")]
    DuplicateGroup(GroupId),
    #[error("group {0} not found")]
    GroupNotFound(GroupId),
    /// Adding the members would exceed the group's `max_users`.
    #[error("group {0} is full")]
    GroupFull(GroupId),
    /// The user has no such conversation (single chat or group) to act on.
    #[error("conversation with {0} not found")]
    ConversationNotFound(Target),
    /// The user has this many conversations pinned already.
    #[error("at most {0} conversations can be pinned")]
    PinLimit(usize),
    /// A message id given as a position is not in the conversation.
    #[error("message {} not found in this conversation", .0.0)]
    MessageNotFound(MessageId),
    /// The engine failed (I/O, corruption, a bug); the message says where.
    #[error("storage failure: {0}")]
    Engine(String),
}

/// A queue holding something for a device: the conversation with `target`, and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingQueue {
    pub target: Target,
    pub count: u32,
}

/// The events a write causes, as a function of its outcome (`T`): called by the engine once,
/// inside the write's transaction, after the change succeeded (never when it failed). It runs
/// where the engine writes (SQLite: its writer thread), so it only builds messages: quick, and
/// never panicking. See the module docs.
pub type Events<T> = Box<dyn FnOnce(&T) -> Vec<NewMessage> + Send>;

/// For a write that should record no events (tools, tests).
pub fn no_events<T>() -> Events<T> {
    Box::new(|_| Vec::new())
}

/// What a write that records events answers: its outcome and the events stored with it, in
/// order (each to be signalled now that it is committed).
#[derive(Debug, Clone, PartialEq)]
pub struct Committed<T> {
    pub value: T,
    pub events: Vec<StoredMessage>,
}

/// Everything Roam keeps: the sum of the store's parts, implemented for every type that
/// implements them all.
///
/// Message model: one copy of each message per conversation, numbered by a per-conversation
/// sequence; per user and per device only positions (cursors) are kept, never copies.
pub trait Store: UserStore + DeliveryStore + GroupStore + RoamingStore {}

impl<T: UserStore + DeliveryStore + GroupStore + RoamingStore> Store for T {}
