//! Server message ids: unique, time-ordered 64-bit integers (a snowflake).
use std::sync::Mutex;

/// A server-assigned message id. Positive and below 2^63, so it survives every JSON and
/// protobuf client as a decimal string or a uint64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub u64);

/// Ids count milliseconds from 2020-01-01T00:00:00Z.
const EPOCH_MS: u64 = 1_577_836_800_000;
const NODE_BITS: u32 = 10;
const SEQ_BITS: u32 = 12;

impl MessageId {
    /// Ids count milliseconds from this time (2020-01-01T00:00:00Z)…
    pub const EPOCH_MS: u64 = EPOCH_MS;
    /// …shifted left by this many bits (node and sequence below).
    pub const TIME_SHIFT: u32 = NODE_BITS + SEQ_BITS;

    /// The epoch ms the id was made at.
    pub fn timestamp_ms(self) -> u64 {
        (self.0 >> (NODE_BITS + SEQ_BITS)) + EPOCH_MS
    }

    /// The smallest id that can be made at `ms` (for "everything from this time on").
    pub fn floor_at(ms: u64) -> MessageId {
        MessageId(ms.saturating_sub(EPOCH_MS) << (NODE_BITS + SEQ_BITS))
    }
}

/// Makes ids: 41 bits of ms since 2020, 10 bits of node, 12 bits of sequence.
///
/// Strictly increasing on one node even if the clock steps back (it then borrows from the
/// future ms) or more than 4096 ids are asked within one ms. Cheap to share: one short lock.
#[derive(Debug)]
pub struct IdGenerator {
    node: u64,
    last: Mutex<(u64, u64)>,
}

impl IdGenerator {
    /// `node` must be unique among the nodes sharing a store (0..1024).
    pub fn new(node: u16) -> IdGenerator {
        IdGenerator {
            node: u64::from(node) & ((1 << NODE_BITS) - 1),
            last: Mutex::new((0, 0)),
        }
    }

    /// A new id, made at `now_ms` or just after the previous one, whichever is later.
    pub fn next_at(&self, now_ms: u64) -> MessageId {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let ms = now_ms.saturating_sub(EPOCH_MS);
        let (ms, seq) = if ms > last.0 {
            (ms, 0)
        } else if last.1 + 1 < (1 << SEQ_BITS) {
            (last.0, last.1 + 1)
        } else {
            (last.0 + 1, 0)
        };
        *last = (ms, seq);
        MessageId((ms << (NODE_BITS + SEQ_BITS)) | (self.node << SEQ_BITS) | seq)
    }

    pub fn next(&self) -> MessageId {
        self.next_at(crate::now_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_even_when_the_clock_steps_back() {
        let g = IdGenerator::new(3);
        let mut prev = g.next_at(1_800_000_000_000);
        for now in [1_800_000_000_000, 1_799_999_999_000, 1_800_000_000_001] {
            for _ in 0..5000 {
                let id = g.next_at(now);
                assert!(id > prev);
                prev = id;
            }
        }
        assert!(prev.0 < (1 << 63));
    }

    #[test]
    fn ids_carry_their_time() {
        let g = IdGenerator::new(0);
        let id = g.next_at(1_800_000_000_123);
        assert_eq!(id.timestamp_ms(), 1_800_000_000_123);
        assert!(MessageId::floor_at(1_800_000_000_123) <= id);
        assert!(MessageId::floor_at(1_800_000_000_124) > id);
    }
}
