//! One session's pushes: what the hub has for it, coalesced (see the [`super`] module docs).
use std::{collections::BTreeSet, sync::Mutex};

use roam_domain::{conversation::Target, fanout::KickReason};
use tokio::sync::Notify;

use super::MAX_PENDING_NOTICES;

/// What the server has for a session, taken from its [`Mailbox`] at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    /// These queues have news (each once, whatever the number of messages).
    Notices(Vec<Target>),
    /// Close the session after telling the device why.
    Kick(KickReason),
    /// Too many queues waited unwritten: the session is too slow and closes.
    Overflow,
    /// The same device logged in again (on this node or another): this older session closes.
    Replaced,
    /// Signals may have been lost (the cluster's broker was unreachable for a while): look in
    /// the store for every queue with news and tell the device about each. Replaces the
    /// notices waiting, which it covers.
    Resync,
}

#[derive(Default)]
struct Pending {
    notices: BTreeSet<Target>,
    kick: Option<KickReason>,
    overflow: bool,
    replaced: bool,
    resync: bool,
}

/// One session's pushes: filled by the hub, emptied by the session's socket loop.
#[derive(Default)]
pub struct Mailbox {
    pending: Mutex<Pending>,
    ready: Notify,
}

impl Mailbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a notice; false if the session has too many waiting (it is marked to close).
    pub(super) fn notice(&self, target: &Target) -> bool {
        let mut p = self.lock();
        if p.notices.contains(target) {
            return true;
        }
        let fits = p.notices.len() < MAX_PENDING_NOTICES;
        if fits {
            p.notices.insert(target.clone());
        } else {
            p.overflow = true;
        }
        drop(p);
        self.ready.notify_one();
        fits
    }

    pub(super) fn kick(&self, reason: KickReason) {
        self.lock().kick = Some(reason);
        self.ready.notify_one();
    }

    pub(super) fn replaced(&self) {
        self.lock().replaced = true;
        self.ready.notify_one();
    }

    pub(super) fn resync(&self) {
        self.lock().resync = true;
        self.ready.notify_one();
    }

    /// Everything waiting, if anything: a kick first, then an overflow or a replacement (the
    /// session closes), then a resync, then the notices.
    pub fn take(&self) -> Option<Push> {
        let mut p = self.lock();
        if let Some(reason) = p.kick.take() {
            return Some(Push::Kick(reason));
        }
        if p.overflow {
            return Some(Push::Overflow);
        }
        if p.replaced {
            return Some(Push::Replaced);
        }
        if p.resync {
            p.resync = false;
            p.notices.clear();
            return Some(Push::Resync);
        }
        if p.notices.is_empty() {
            return None;
        }
        Some(Push::Notices(
            std::mem::take(&mut p.notices).into_iter().collect(),
        ))
    }

    /// Waits for the next push.
    pub async fn next(&self) -> Push {
        loop {
            if let Some(push) = self.take() {
                return push;
            }
            // `notify_one` stores a permit when nobody waits, so a post between `take` and
            // here is not missed.
            self.ready.notified().await;
        }
    }
}
