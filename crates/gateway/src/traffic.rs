//! Message counters for monitoring: what devices sent (and the server stored) and what the
//! server delivered to devices in pull batches, by [`MessageKind`].
//!
//! Plain atomics, read by whoever exports metrics (roamd's `/metrics`) at scrape time, so the
//! gateway needs no metrics library and a send pays one relaxed increment.
use std::sync::atomic::{AtomicU64, Ordering};

use roam_domain::message::MessageKind;

/// Every kind, in the order of the counters; its label is [`kind_label`].
pub const KINDS: [MessageKind; 6] = [
    MessageKind::Chat,
    MessageKind::ReadAck,
    MessageKind::DeliverAck,
    MessageKind::ChannelAck,
    MessageKind::GroupEvent,
    MessageKind::ConversationEvent,
];

/// The metric label of a kind: a fixed, small set (never a client-chosen string).
pub fn kind_label(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Chat => "chat",
        MessageKind::ReadAck => "read_ack",
        MessageKind::DeliverAck => "deliver_ack",
        MessageKind::ChannelAck => "channel_ack",
        MessageKind::GroupEvent => "group_event",
        MessageKind::ConversationEvent => "conversation_event",
    }
}

fn index(kind: MessageKind) -> usize {
    KINDS.iter().position(|k| *k == kind).unwrap_or(0)
}

/// Messages in and out over msync since the start.
#[derive(Debug, Default)]
pub struct Traffic {
    received: [AtomicU64; KINDS.len()],
    delivered: [AtomicU64; KINDS.len()],
}

impl Traffic {
    /// A device's message was stored (and acked).
    pub(crate) fn record_received(&self, kind: MessageKind) {
        self.received[index(kind)].fetch_add(1, Ordering::Relaxed);
    }

    /// A message went out to a device in a pull batch.
    pub(crate) fn record_delivered(&self, kind: MessageKind) {
        self.delivered[index(kind)].fetch_add(1, Ordering::Relaxed);
    }

    /// Messages stored from devices, per kind label.
    pub fn received(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        counts(&self.received)
    }

    /// Messages delivered to devices, per kind label.
    pub fn delivered(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        counts(&self.delivered)
    }
}

fn counts(counters: &[AtomicU64; KINDS.len()]) -> impl Iterator<Item = (&'static str, u64)> + '_ {
    KINDS
        .iter()
        .zip(counters)
        .map(|(k, c)| (kind_label(*k), c.load(Ordering::Relaxed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_kind() {
        let t = Traffic::default();
        t.record_received(MessageKind::Chat);
        t.record_received(MessageKind::Chat);
        t.record_delivered(MessageKind::ReadAck);
        let received: Vec<_> = t.received().collect();
        assert_eq!(received[0], ("chat", 2));
        assert!(received[1..].iter().all(|(_, n)| *n == 0));
        let delivered: Vec<_> = t.delivered().collect();
        assert_eq!(delivered[1], ("read_ack", 1));
        assert_eq!(delivered[0], ("chat", 0));
    }
}
