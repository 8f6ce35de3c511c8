//! The recent messages of each group conversation, kept in memory so that a member's pull of
//! what was just sent is answered without reading the store.
//!
//! # Why this never loses nor repeats a message
//!
//! A log holds messages of one group conversation with **consecutive** seqs, `first..=last`,
//! each added only after its commit (the service adds a message right before it signals it, see
//! `Roam::signal`). A pull is answered from a log only when the device's position (what its
//! durable cursor says it has, see [`crate::store::DeliveryStore::ack_at`]) lies inside the log
//! (`position + 1 >= first`): then every committed message after the position up to `last` is in
//! the log, in order, and the answer is the one the store would give, filtered by the same rule
//! ([`RecentGroupMessages::owed`]). Messages committed but not added yet (their signal is still
//! on its way) are not answered now; their signal follows and the device pulls them then: the
//! same as a pull that ran just before their commit. A message that would leave a gap (it
//! arrives before one with a lower seq, when two sends commit in one batch) restarts the log at
//! its seq, so the missing one falls below the log and positions there are answered by the store.
//! Messages are never deleted from a conversation, so a kept copy never goes stale.
//!
//! So a log may answer *less* than the store (a tail not added yet), never a message out of
//! order, twice, or one the device is not owed: it answers consecutive seqs from the position
//! on, and the device's next key acknowledges no more than it was given. If a send's caller is
//! dropped between the commit and the add (its connection closed), the message is missing from
//! the log like its lost signal: it is found as any lost signal is, at the device's next UNREAD,
//! whose pulls carry no key and so read the store; a later message then restarts the log.
//!
//! Memory is bounded: [`PER_GROUP`] messages per group and [`BUDGET_BYTES`] of payloads in all;
//! past the budget whole logs are dropped (their members are answered by the store).
use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

use crate::{device::Device, group::GroupId, message::StoredMessage};

/// Most messages kept per group: a member that fell further behind reads the store.
pub const PER_GROUP: usize = 64;
/// Most payload bytes kept in all (plus a fixed allowance per message for the rest).
pub const BUDGET_BYTES: usize = 32 * 1024 * 1024;
/// What a kept message costs besides its payload (ids, names, the deque slot).
const OVERHEAD: usize = 256;

/// One group's recent messages, consecutive seqs from `first`.
struct Log {
    messages: VecDeque<StoredMessage>,
    bytes: usize,
}

impl Log {
    fn first(&self) -> Option<u64> {
        self.messages.front().map(|m| m.seq)
    }

    fn last(&self) -> Option<u64> {
        self.messages.back().map(|m| m.seq)
    }
}

fn cost(m: &StoredMessage) -> usize {
    m.payload.len() + OVERHEAD
}

#[derive(Default)]
struct Logs {
    groups: HashMap<GroupId, Log>,
    bytes: usize,
}

/// The recent messages of every group conversation (see the module docs).
#[derive(Default)]
pub struct RecentGroupMessages {
    logs: Mutex<Logs>,
}

impl RecentGroupMessages {
    fn lock(&self) -> std::sync::MutexGuard<'_, Logs> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `m`, a committed message of the conversation of `group`. Call after the commit
    /// and before signalling it.
    pub fn add(&self, group: &GroupId, m: &StoredMessage) {
        let mut logs = self.lock();
        let logs = &mut *logs;
        let log = logs.groups.entry(group.clone()).or_insert_with(|| Log {
            messages: VecDeque::new(),
            bytes: 0,
        });
        match log.last() {
            // Kept already (a resend answered with the stored message), or older than the log.
            Some(last) if m.seq <= last => return,
            Some(last) if m.seq == last + 1 => {}
            // Empty, or a gap: restart the log at this message.
            _ => {
                logs.bytes -= log.bytes;
                log.messages.clear();
                log.bytes = 0;
            }
        }
        log.messages.push_back(m.clone());
        log.bytes += cost(m);
        logs.bytes += cost(m);
        while log.messages.len() > PER_GROUP {
            if let Some(old) = log.messages.pop_front() {
                log.bytes -= cost(&old);
                logs.bytes -= cost(&old);
            }
        }
        while logs.bytes > BUDGET_BYTES {
            let Some(victim) = logs.groups.keys().find(|g| *g != group).cloned() else {
                break;
            };
            if let Some(dropped) = logs.groups.remove(&victim) {
                logs.bytes -= dropped.bytes;
            }
        }
    }

    /// Up to `limit` messages of the conversation of `group` that `device` is owed after
    /// `position` (its durable cursor, or where its user joined if later), oldest first; None
    /// when the log does not reach back to the position (the store must answer). Filtered as
    /// the store filters a device with a cursor: never the device's own sends, nor its user's
    /// sends from before the device existed.
    pub fn owed(
        &self,
        group: &GroupId,
        device: &Device,
        position: u64,
        limit: usize,
    ) -> Option<Vec<StoredMessage>> {
        let logs = self.lock();
        let log = logs.groups.get(group)?;
        let first = log.first()?;
        if position.saturating_add(1) < first {
            return None;
        }
        let skip = usize::try_from(position.saturating_add(1) - first).ok()?;
        Some(
            log.messages
                .iter()
                .skip(skip)
                .filter(|m| {
                    !(m.from == device.user
                        && (m.from_resource == device.resource || m.id < device.registered))
                })
                .take(limit)
                .cloned()
                .collect(),
        )
    }

    /// Payload bytes kept now (with the per-message allowance).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests;
