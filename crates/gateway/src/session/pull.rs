//! UNREAD and pulling: the unread answer (which queues have messages for this device, and how
//! many) and pulling one queue a page at a time. A pull with a key acknowledges everything the
//! device pulled before it, so each message reaches each device once.
//!
//! A page holds at most the service's batch of messages and at most [`PULL_BATCH_BYTES`] of
//! metas: a page of 50 messages of 60 KB each would exceed what one WebSocket message may
//! carry ([`crate::MAX_WRITE`]), its write would fail and the device would never get past it.
use roam_domain::{id::MessageId, now_ms};
use roam_protocol::{
    msync,
    pb::{Jid, Meta},
};
use roam_wire::msync::{meta_of, target_jid, target_of};

use super::Session;
use crate::{MAX_META, PULL_BATCH_BYTES};

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
    /// (the id of the page's last message): unique across the queues of this connection, as
    /// SDKs 4.7–4.13 need. A queue that names no conversation, or a storage failure, answers
    /// an empty last page.
    pub(super) async fn pull(&self, queue: Jid, key: Option<u64>) -> Vec<u8> {
        let now = now_ms();
        let Some(target) = target_of(&queue, self.me()) else {
            return msync::pull_batch(queue, vec![], None, now);
        };
        let mut ack = key.map(MessageId);
        loop {
            let batch = match self.gw.roam.pull(&self.online().device, &target, ack).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::error!(error = %e, "pull failed");
                    return msync::pull_batch(queue, vec![], None, now);
                }
            };
            let page = page(
                batch
                    .messages
                    .iter()
                    .map(|m| (m.id.0, meta_of(self.app_key(), self.me(), m))),
                PULL_BATCH_BYTES,
                MAX_META,
            );
            // Only undeliverable messages: acknowledge them and look further, rather than
            // answer an empty (last) page while the queue still holds messages.
            if page.metas.is_empty()
                && let Some(skipped) = page.next_key
            {
                ack = Some(MessageId(skipped));
                continue;
            }
            if let Some(last) = page.next_key {
                for m in batch.messages.iter().take_while(|m| m.id.0 <= last) {
                    self.gw.traffic.record_delivered(m.kind);
                }
            }
            return msync::pull_batch(queue, page.metas, page.next_key, now);
        }
    }
}

/// One page of a pull.
#[derive(Debug, Default, PartialEq)]
struct Page {
    metas: Vec<Meta>,
    /// The id of the last message the page covers (sent or skipped): the key that
    /// acknowledges it.
    next_key: Option<u64>,
}

/// The page for `messages` (id, meta; in queue order): messages in order while their metas
/// add up to at most `budget` bytes, and always the first one. A meta over `max_meta` can never
/// be written; it is skipped (logged) and covered by the key, so it does not block the queue.
fn page(messages: impl Iterator<Item = (u64, Meta)>, budget: usize, max_meta: usize) -> Page {
    use prost::Message as _;
    let mut page = Page::default();
    let mut bytes = 0;
    for (id, meta) in messages {
        let len = meta.encoded_len();
        if len > max_meta {
            tracing::warn!(
                id,
                bytes = len,
                max_meta,
                "a message too large for any msync frame is skipped in a pull (it stays in the history)"
            );
            page.next_key = Some(id);
            continue;
        }
        if !page.metas.is_empty() && bytes + len > budget {
            break;
        }
        bytes += len;
        page.metas.push(meta);
        page.next_key = Some(id);
    }
    page
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn meta(id: u64, bytes: usize) -> (u64, Meta) {
        let meta = Meta {
            id: Some(id),
            payload: Some(Bytes::from(vec![b'x'; bytes])),
            ..Default::default()
        };
        (id, meta)
    }

    fn ids(p: &Page) -> Vec<u64> {
        p.metas.iter().map(|m| m.id.unwrap_or(0)).collect()
    }

    #[test]
    fn a_page_stops_before_the_meta_that_would_take_it_over_budget() {
        let p = page((1..=20).map(|i| meta(i, 60_000)), 256 * 1024, 512 * 1024);
        assert_eq!(ids(&p), vec![1, 2, 3, 4]);
        assert_eq!(p.next_key, Some(4));
        let small = page((1..=50).map(|i| meta(i, 100)), 256 * 1024, 512 * 1024);
        assert_eq!(small.metas.len(), 50);
    }

    #[test]
    fn one_meta_over_budget_goes_alone() {
        let p = page(
            [meta(1, 300_000), meta(2, 10)].into_iter(),
            256 * 1024,
            512 * 1024,
        );
        assert_eq!((ids(&p), p.next_key), (vec![1], Some(1)));
    }

    #[test]
    fn a_meta_over_the_write_limit_is_skipped_but_acknowledged() {
        let p = page(
            [meta(1, 10), meta(2, 600_000), meta(3, 10)].into_iter(),
            256 * 1024,
            512 * 1024,
        );
        assert_eq!((ids(&p), p.next_key), (vec![1, 3], Some(3)));
        let only = page([meta(7, 600_000)].into_iter(), 256 * 1024, 512 * 1024);
        assert_eq!((ids(&only), only.next_key), (vec![], Some(7)));
    }

    #[test]
    fn a_full_page_fits_a_websocket_message_in_every_framing() {
        use crate::{
            MAX_WRITE,
            framing::{Binary, Framing, SockJs},
        };
        let p = page(
            (1..=50).map(|i| meta(i, 60_000)),
            PULL_BATCH_BYTES,
            MAX_META,
        );
        let lone = page(
            [meta(1, MAX_META - 64)].into_iter(),
            PULL_BATCH_BYTES,
            MAX_META,
        );
        for page in [p, lone] {
            let frame = msync::pull_batch(Jid::default(), page.metas, page.next_key, 0);
            for m in Binary
                .encode(vec![frame.clone()])
                .into_iter()
                .chain(SockJs.encode(vec![frame.clone()]))
            {
                let size = crate::framing::size(&m);
                assert!(size < MAX_WRITE - 8 * 1024, "{size} bytes");
            }
        }
    }
}
