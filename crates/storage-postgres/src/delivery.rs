//! Delivery: appending messages, devices, what a device is owed, acks.
use async_trait::async_trait;
use roam_domain::{
    conversation::Target,
    device::{Device, Resource},
    id::MessageId,
    message::{NewMessage, StoredMessage},
    store::{DeliveryStore, PendingQueue, StoreError},
    user::UserId,
};

use crate::PgStore;

#[async_trait]
impl DeliveryStore for PgStore {
    async fn append(&self, message: NewMessage) -> Result<StoredMessage, StoreError> {
        todo!("append")
    }

    async fn device(&self, user: &UserId, resource: &Resource) -> Result<Device, StoreError> {
        todo!("device")
    }

    async fn pending(&self, device: &Device) -> Result<Vec<PendingQueue>, StoreError> {
        todo!("pending")
    }

    async fn owed(
        &self,
        device: &Device,
        target: &Target,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        todo!("owed")
    }

    async fn ack(
        &self,
        device: &Device,
        target: &Target,
        up_to: MessageId,
    ) -> Result<(), StoreError> {
        todo!("ack")
    }
}
