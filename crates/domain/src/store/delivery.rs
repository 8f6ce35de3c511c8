//! The store's part for delivery: messages appended to conversations, and what each device
//! is owed and has acknowledged.
use async_trait::async_trait;

use super::{PendingQueue, StoreError};
use crate::{
    conversation::Target,
    device::{Device, Resource},
    message::{NewMessage, StoredMessage},
    user::UserId,
};

/// Messages, devices and their positions.
#[async_trait]
pub trait DeliveryStore: Send + Sync + 'static {
    /// Stores a message at the end of its conversation, giving it a server id (time-ordered,
    /// assigned in the same order as the sequence) and a server timestamp. A conversation read
    /// ack (`ChannelAck`) moves the sender's read position; one to a group is kept in the
    /// sender's own log ([`Target::System`]), since it concerns no other member. A message
    /// with a `client_id` the same device used before is stored once: the stored one answers.
    async fn append(&self, message: NewMessage) -> Result<StoredMessage, StoreError>;

    /// The device `resource` of `user`, registered now if it is new.
    async fn device(&self, user: &UserId, resource: &Resource) -> Result<Device, StoreError>;
    /// The queues that hold messages this device is owed.
    async fn pending(&self, device: &Device) -> Result<Vec<PendingQueue>, StoreError>;
    /// Up to `limit` messages of the conversation with `target` that the device is owed,
    /// oldest first. A message sent by this very device is never owed to it, nor anything
    /// from before its user joined the conversation.
    async fn owed(
        &self,
        device: &Device,
        target: &Target,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    /// Records that the device has everything of the conversation with `target` up to `seq`.
    async fn ack(&self, device: &Device, target: &Target, seq: u64) -> Result<(), StoreError>;
}
