//! The store's part for delivery: messages appended to conversations, and what each device
//! is owed and has acknowledged.
use async_trait::async_trait;

use super::{PendingQueue, StoreError};
use crate::{
    conversation::Target,
    device::{Device, Resource},
    id::MessageId,
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
    /// Records that the device has everything of the conversation with `target` up to the
    /// message `up_to`, the server id a pull answered as its key (ids, not sequence numbers,
    /// so that keys never repeat across the queues of one connection; see
    /// [`crate::service::Pull::next_key`]). The engine maps the id to the conversation's
    /// position: the highest sequence whose message id is at most `up_to` (ids increase with
    /// the sequence within a conversation). So an id that is no message of the conversation
    /// acknowledges the messages before it, a forged huge one no more than what exists, and
    /// one below the device's position nothing: a position never moves back.
    async fn ack(
        &self,
        device: &Device,
        target: &Target,
        up_to: MessageId,
    ) -> Result<(), StoreError>;

    /// [`DeliveryStore::ack`], answering (once durable) the device's position in the
    /// conversation afterwards: the seq after which it is owed messages, its cursor or where its
    /// user joined, whichever is later. None when the engine cannot tell, or the device has no
    /// cursor there (its position then also depends on its user's other devices): the caller
    /// asks [`DeliveryStore::owed`]. The answer comes after the commit, so nothing is ever
    /// answered from a position that a crash could take back.
    async fn ack_at(
        &self,
        device: &Device,
        target: &Target,
        up_to: MessageId,
    ) -> Result<Option<u64>, StoreError> {
        self.ack(device, target, up_to).await?;
        Ok(None)
    }
}
