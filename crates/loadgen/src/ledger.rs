//! What was sent and what arrived, to check deliveries (lost, duplicated) and time them.
//!
//! Each message's text is a tag, `phase|sender|seq|due_us`: the phase of the run it belongs
//! to, the sending device, its sequence number there, and when it was due (µs since the run's
//! base instant, all in this process). A receiving device reads the tag back, so delivery
//! latency is measured from the due time without any shared table on the sending path.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use roam_sdk::{Body, Event, Events};

use crate::measure::Latency;

/// A message's identity: (sender index, sequence number).
pub type Key = (u32, u64);

/// The tag of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub phase: u32,
    pub sender: u32,
    pub seq: u64,
    /// Due at `base + due_us` µs.
    pub due_us: u64,
}

impl Tag {
    pub fn text(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.phase, self.sender, self.seq, self.due_us
        )
    }

    pub fn parse(s: &str) -> Option<Tag> {
        let mut it = s.split('|').map(str::parse::<u64>);
        let (phase, sender, seq, due_us) = (it.next()?, it.next()?, it.next()?, it.next()?);
        Some(Tag {
            phase: u32::try_from(phase.ok()?).ok()?,
            sender: u32::try_from(sender.ok()?).ok()?,
            seq: seq.ok()?,
            due_us: due_us.ok()?,
        })
    }

    /// Micros from `base` to `at` (saturating: 0 before `base`).
    pub fn micros(base: Instant, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(base).as_micros()).unwrap_or(u64::MAX)
    }

    pub fn due(&self, base: Instant) -> Instant {
        base + Duration::from_micros(self.due_us)
    }
}

/// What one phase delivered.
#[derive(Default)]
pub struct PhaseLog {
    /// Deliveries per message (over every receiving device).
    pub seen: HashMap<Key, u32>,
    /// Due time → delivery, every delivery.
    pub delivery: Latency,
    /// Per message, (when it was due, when its last delivery came): for fan-out, the time
    /// to the last member.
    pub last: HashMap<Key, (Instant, Instant)>,
    pub deliveries: u64,
}

/// Deliveries of all phases, shared by the receiving tasks.
#[derive(Clone)]
pub struct Ledger {
    base: Instant,
    phases: Arc<Mutex<HashMap<u32, PhaseLog>>>,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger {
            base: Instant::now(),
            phases: Arc::default(),
        }
    }

    pub fn base(&self) -> Instant {
        self.base
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u32, PhaseLog>> {
        // A receiving task that panicked leaves the map as it was: still readable.
        self.phases
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a delivery of `tag` now.
    pub fn delivered(&self, tag: Tag) {
        let now = Instant::now();
        let mut phases = self.lock();
        let log = phases.entry(tag.phase).or_default();
        let key = (tag.sender, tag.seq);
        *log.seen.entry(key).or_default() += 1;
        let due = tag.due(self.base);
        log.delivery.record(now.saturating_duration_since(due));
        log.last.insert(key, (due, now));
        log.deliveries += 1;
    }

    /// Deliveries of `phase` so far.
    pub fn deliveries(&self, phase: u32) -> u64 {
        self.lock().get(&phase).map_or(0, |l| l.deliveries)
    }

    /// Waits until `phase` has `expected` deliveries, or `limit` passed.
    pub async fn settle(&self, phase: u32, expected: u64, limit: Duration) {
        let until = Instant::now() + limit;
        while self.deliveries(phase) < expected && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Takes `phase`'s log out.
    pub fn take(&self, phase: u32) -> PhaseLog {
        self.lock().remove(&phase).unwrap_or_default()
    }

    /// Spawns a task that reads a receiving device's events and logs every tagged message.
    pub fn receive(&self, mut events: Events) -> tokio::task::JoinHandle<()> {
        let ledger = self.clone();
        tokio::spawn(async move {
            while let Some(e) = events.recv().await {
                if let Event::Message(m) = e
                    && let Body::Text(t) = &m.body
                    && let Some(tag) = Tag::parse(t)
                {
                    ledger.delivered(tag);
                }
            }
        })
    }
}

/// Faults of a phase: each of `acked` (messages the server acked) should have been delivered
/// exactly `copies` times. Answers (lost, duplicated): messages delivered fewer times, and
/// extra deliveries of any message (acked or not).
pub fn check(log: &PhaseLog, acked: &[Key], copies: u32) -> (u64, u64) {
    let lost = acked
        .iter()
        .filter(|k| log.seen.get(k).copied().unwrap_or(0) < copies)
        .count();
    let duplicated: u64 = log
        .seen
        .values()
        .map(|n| u64::from(n.saturating_sub(copies)))
        .sum();
    (u64::try_from(lost).unwrap_or(u64::MAX), duplicated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_reject_other_text() {
        let t = Tag {
            phase: 3,
            sender: 7,
            seq: 12_345,
            due_us: 99,
        };
        assert_eq!(Tag::parse(&t.text()), Some(t));
        assert_eq!(Tag::parse("hello"), None);
        assert_eq!(Tag::parse("1|2|3"), None);
    }

    #[test]
    fn check_counts_missing_and_extra_deliveries() {
        let mut log = PhaseLog::default();
        log.seen.insert((0, 0), 1);
        log.seen.insert((0, 1), 2);
        let (lost, dup) = check(&log, &[(0, 0), (0, 1), (0, 2)], 1);
        assert_eq!((lost, dup), (1, 1));
    }
}
