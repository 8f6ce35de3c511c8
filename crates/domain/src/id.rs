//! Server message ids: unique, time-ordered 64-bit integers (a snowflake).
//!
//! The layout, high bit to low: one zero bit, 41 bits of milliseconds since 2020-01-01
//! (enough until September 2089), 10 bits of node, 12 bits of sequence within the millisecond. It is
//! written in one place, [`MessageId::compose`]; everything else (the generator, the floor
//! of a time range, the ids of server notices) goes through it.
use std::sync::Mutex;

/// A server-assigned message id. Positive and below 2^63, so it survives every JSON and
/// protobuf client as a decimal string or a uint64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub u64);

/// Ids count milliseconds from 2020-01-01T00:00:00Z.
const EPOCH_MS: u64 = 1_577_836_800_000;
const NODE_BITS: u32 = 10;
const SEQ_BITS: u32 = 12;
const TIME_BITS: u32 = 63 - NODE_BITS - SEQ_BITS;

impl MessageId {
    /// Ids count milliseconds from this time (2020-01-01T00:00:00Z)…
    pub const EPOCH_MS: u64 = EPOCH_MS;
    /// …shifted left by this many bits (node and sequence below).
    pub const TIME_SHIFT: u32 = NODE_BITS + SEQ_BITS;
    /// The last unix ms the layout holds (2089-09-06T15:47:35.551Z).
    pub const LAST_MS: u64 = EPOCH_MS + (1 << TIME_BITS) - 1;
    /// The largest node number (nodes are `0..=MAX_NODE`).
    pub const MAX_NODE: u16 = (1 << NODE_BITS) - 1;
    /// The largest sequence number within one millisecond of one node. [`IdGenerator`] never
    /// uses it, which leaves [`MessageId::unused_at`] free for ids no message has.
    pub const MAX_SEQ: u16 = (1 << SEQ_BITS) - 1;

    /// The id made at unix time `ms` by `node` as its `seq`-th id of that millisecond.
    ///
    /// Times before the epoch count as the epoch, times past the layout's end
    /// ([`MessageId::LAST_MS`], in September 2089) as its last millisecond; `node` and `seq`
    /// keep their low 10 and 12 bits. So the id is always below 2^63.
    pub fn compose(ms: u64, node: u16, seq: u16) -> MessageId {
        let since_epoch = ms.clamp(EPOCH_MS, Self::LAST_MS) - EPOCH_MS;
        let node = u64::from(node) & u64::from(Self::MAX_NODE);
        let seq = u64::from(seq) & u64::from(Self::MAX_SEQ);
        MessageId((since_epoch << Self::TIME_SHIFT) | (node << SEQ_BITS) | seq)
    }

    /// The unix ms the id was made at.
    pub fn timestamp_ms(self) -> u64 {
        (self.0 >> Self::TIME_SHIFT) + EPOCH_MS
    }

    /// The node that made the id.
    pub fn node(self) -> u16 {
        u16::try_from((self.0 >> SEQ_BITS) & u64::from(Self::MAX_NODE))
            .expect("masked to the node's 10 bits")
    }

    /// The id's sequence number within its millisecond and node.
    pub fn seq(self) -> u16 {
        u16::try_from(self.0 & u64::from(Self::MAX_SEQ)).expect("masked to the sequence's 12 bits")
    }

    /// The smallest id that can be made at `ms` (for "everything from this time on").
    pub fn floor_at(ms: u64) -> MessageId {
        MessageId::compose(ms, 0, 0)
    }

    /// An id that no message has, placed at time `ms`: for what the server tells a device
    /// outside any conversation (the kick notice), which the SDK still wants a fresh,
    /// time-ordered id for. It is the last id of `ms`, with the sequence number
    /// [`IdGenerator`] never hands out.
    pub fn unused_at(ms: u64) -> MessageId {
        MessageId::compose(ms, Self::MAX_NODE, Self::MAX_SEQ)
    }
}

/// Makes ids in the layout of [`MessageId::compose`].
///
/// Strictly increasing on one node even if the clock steps back (it then borrows from the
/// future ms) or more ids are asked within one ms than the sequence holds. Cheap to share:
/// one short lock.
#[derive(Debug)]
pub struct IdGenerator {
    node: u16,
    /// The unix ms and sequence number of the last id made.
    last: Mutex<(u64, u16)>,
}

impl IdGenerator {
    /// `node` must be unique among the nodes sharing a store (0..1024).
    pub fn new(node: u16) -> IdGenerator {
        IdGenerator {
            node: node & MessageId::MAX_NODE,
            last: Mutex::new((0, 0)),
        }
    }

    /// A new id, made at `now_ms` or just after the previous one, whichever is later.
    pub fn next_at(&self, now_ms: u64) -> MessageId {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        // Times before the epoch are all its first millisecond.
        let ms = now_ms.max(EPOCH_MS);
        let (ms, seq) = if ms > last.0 {
            (ms, 0)
        } else if last.1 + 1 < MessageId::MAX_SEQ {
            (last.0, last.1 + 1)
        } else {
            (last.0 + 1, 0)
        };
        *last = (ms, seq);
        MessageId::compose(ms, self.node, seq)
    }

    pub fn next(&self) -> MessageId {
        self.next_at(crate::now_ms())
    }

    /// Makes every later id greater than `newest`, an id already stored (by this node or
    /// another), even if the clock now reads earlier: a store calls it at start with its newest
    /// id, since a restart loses the generator's memory and the clock may have stepped back
    /// across it. Ids then continue in the millisecond after `newest`'s, whose sequence numbers
    /// no stored id can have used.
    pub fn resume_after(&self, newest: MessageId) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let after = (newest.timestamp_ms(), MessageId::MAX_SEQ - 1);
        if after > *last {
            *last = after;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_generator_never_repeats_a_stored_id() {
        let before = IdGenerator::new(7);
        let t = 1_800_000_000_000;
        let stored: Vec<MessageId> = (0..5).map(|_| before.next_at(t)).collect();
        let newest = *stored.last().unwrap();
        // A restart, with the clock stepped back a second; a lower node number too.
        for node in [7, 0] {
            let after = IdGenerator::new(node);
            after.resume_after(newest);
            let id = after.next_at(t - 1000);
            assert!(id > newest, "{id:?} after {newest:?}");
            assert!(after.next_at(t) > id);
        }
        // Resuming after an older id does not move a generator back.
        let g = IdGenerator::new(1);
        let recent = g.next_at(t + 5);
        g.resume_after(newest);
        assert!(g.next_at(t) > recent);
    }

    /// 2089-12-31T23:59:59.999Z, past the layout's end.
    const END_OF_2089_MS: u64 = 3_786_911_999_999;

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

    #[test]
    fn the_layout_round_trips_and_stays_below_2_pow_63_through_2089() {
        for ms in [
            EPOCH_MS,
            1_700_000_000_000,
            2_208_988_800_000, // 2040, past where ms << 22 without the epoch overflows
            MessageId::LAST_MS,
        ] {
            for (node, seq) in [(0, 0), (7, 42), (MessageId::MAX_NODE, MessageId::MAX_SEQ)] {
                let id = MessageId::compose(ms, node, seq);
                assert!(id.0 < 1 << 63, "{ms} {node} {seq}");
                assert_eq!(
                    (id.timestamp_ms(), id.node(), id.seq()),
                    (ms, node, seq),
                    "{ms} {node} {seq}"
                );
            }
        }
        // Through the end of 2089 (past the layout's end, ids stop moving) below 2^63.
        let last = MessageId::compose(END_OF_2089_MS, MessageId::MAX_NODE, MessageId::MAX_SEQ);
        assert!(last.0 < 1 << 63);
        assert_eq!(last.timestamp_ms(), MessageId::LAST_MS);
        // Ids order by time, then node, then sequence.
        let t = 1_700_000_000_000;
        assert!(MessageId::compose(t, MessageId::MAX_NODE, 9) < MessageId::compose(t + 1, 0, 0));
        assert!(MessageId::compose(t, 0, MessageId::MAX_SEQ) < MessageId::compose(t, 1, 0));
        // Before the epoch is the epoch.
        assert_eq!(MessageId::compose(0, 0, 0), MessageId(0));
    }

    #[test]
    fn the_unused_id_of_a_time_is_never_made() {
        let g = IdGenerator::new(MessageId::MAX_NODE);
        let now = 1_800_000_000_000;
        let unused = MessageId::unused_at(now);
        assert_eq!(unused.timestamp_ms(), now);
        for _ in 0..3 * usize::from(MessageId::MAX_SEQ) {
            let id = g.next_at(now);
            assert_ne!(id, unused);
            if id.timestamp_ms() == now {
                assert!(id < unused);
            }
        }
        assert!(MessageId::unused_at(END_OF_2089_MS).0 < 1 << 63);
    }
}
