//! Reading: the unread answer (which queues have messages for this device, and how many) and
//! pulling one queue a page at a time. A pull with a key acknowledges everything the device
//! pulled before it, so each message reaches each device once.
use roam_domain::{id::MessageId, now_ms};
use roam_protocol::{msync, pb::Jid};
use roam_wire::msync::{meta_of, target_jid, target_of};

use super::Session;

impl Session {
    /// The answer to UNREAD (also the SDK's heartbeat): every queue with messages this device
    /// has not acknowledged. A storage failure answers "nothing unread" rather than dropping
    /// the connection; the next heartbeat asks again.
    pub(super) async fn unread(&self) -> Vec<u8> {
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
                .map(|q| (target_jid(self.app_key(), self.me(), &q.target), q.count))
                .collect(),
            now_ms(),
        )
    }

    /// The next page of `queue` after acknowledging up to `key`. Keys are server message ids
    /// (see [`roam_domain::service::Pull::next_key`]): unique across the queues of this
    /// connection, as SDKs 4.7–4.13 need. A queue that names no conversation, or a storage
    /// failure, answers an empty last page.
    pub(super) async fn pull(&self, queue: Jid, key: Option<u64>) -> Vec<u8> {
        let now = now_ms();
        let Some(target) = target_of(&queue, self.me()) else {
            return msync::pull_batch(queue, vec![], None, now);
        };
        match self
            .gw
            .roam
            .pull(&self.online().device, &target, key.map(MessageId))
            .await
        {
            Ok(batch) => {
                let next_key = batch.next_key().map(|id| id.0);
                let metas = batch
                    .messages
                    .iter()
                    .map(|m| {
                        self.gw.traffic.record_delivered(m.kind);
                        meta_of(self.app_key(), self.me(), m)
                    })
                    .collect();
                msync::pull_batch(queue, metas, next_key, now)
            }
            Err(e) => {
                tracing::error!(error = %e, "pull failed");
                msync::pull_batch(queue, vec![], None, now)
            }
        }
    }
}
