//! Messaging: sending, and delivering to every device of the recipient and of the sender.
//!
//! Delivery is pull-based, as msync is: a send stores the message, then tells online devices
//! "your queue for this peer has news" through [`crate::fanout::Fanout`]; each device pulls what
//! it is owed and acknowledges it. A device that was offline finds the same queues at login.
use super::Roam;
use crate::{
    device::{Device, Resource},
    message::{NewMessage, StoredMessage},
    store::{PendingQueue, StoreError},
    user::UserId,
};

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("user {0} doesn't exist")]
    RecipientNotFound(UserId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One batch of a pull: the messages, and whether the queue is now drained.
#[derive(Debug, Clone)]
pub struct Pull {
    pub messages: Vec<StoredMessage>,
}

impl Pull {
    /// The key the client echoes to acknowledge this batch: the last message's sequence.
    pub fn next_key(&self) -> Option<u64> {
        self.messages.last().map(|m| m.seq)
    }
}

impl Roam {
    /// A device logs in: registers it on first sight.
    pub async fn connect(&self, user: &UserId, resource: &Resource) -> Result<Device, StoreError> {
        self.store.device(user, resource).await
    }

    /// Stores a message durably, then signals the recipient's devices and the sender's other
    /// devices. Returns once the message is durable: the caller acks the sender after this.
    pub async fn send(&self, message: NewMessage) -> Result<StoredMessage, SendError> {
        if message.to != message.from && self.store.user(&message.to).await?.is_none() {
            return Err(SendError::RecipientNotFound(message.to));
        }
        let stored = self.store.append(message).await?;
        self.fanout.notify(&stored.to, &stored.from, None);
        self.fanout
            .notify(&stored.from, &stored.to, Some(&stored.from_resource));
        Ok(stored)
    }

    /// The queues holding something for this device.
    pub async fn pending(&self, device: &Device) -> Result<Vec<PendingQueue>, StoreError> {
        self.store.pending(device).await
    }

    /// A pull of the queue for `peer`: first acknowledges everything up to `ack` (the key of
    /// the previous batch, if the client sent one), then returns the next batch.
    pub async fn pull(
        &self,
        device: &Device,
        peer: &UserId,
        ack: Option<u64>,
    ) -> Result<Pull, StoreError> {
        if let Some(seq) = ack {
            self.store.ack(device, peer, seq).await?;
        }
        let messages = self
            .store
            .owed(device, peer, self.policy.pull_batch)
            .await?;
        Ok(Pull { messages })
    }
}
