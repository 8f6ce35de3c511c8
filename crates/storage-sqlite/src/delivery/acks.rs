//! Acks coalesced: the acks that wait for the writer at the same time become one writer job,
//! with one cursor upsert per (device, conversation) taking the highest key.
//!
//! Every delivery ends with an ack (the key of the device's next pull), and a group message
//! makes one per online member at nearly the same moment. Each used to be a writer job of its
//! own: a hand-off to the writer thread and back, a savepoint, and its statements. Here the
//! first ack of a burst (the *leader*) opens a [`Batch`] and queues one job; acks that arrive
//! before the writer runs that job join the batch (a second ack of the same device and
//! conversation keeps the higher key) and wait for the leader's answer instead of queueing
//! jobs of their own. The job takes the whole batch when it runs, so later acks open the next
//! batch.
//!
//! # Durability, crashes, cancellation
//!
//! - Nobody is answered before the commit: the leader gets the writer's answer only after the
//!   commit of the transaction that ran the job, and passes it on to the batch. A position
//!   answered ([`roam_domain::store::DeliveryStore::ack_at`]) is therefore durable, and what a
//!   pull serves after it (from memory or the store) never depends on an ack a crash can
//!   take back.
//! - A crash before the commit loses the acks of the batch *and* the answers to their pulls
//!   (they were never sent). Acks are only positions: each device is then at its last
//!   committed cursor and pulls from there after reconnecting, so at worst it is sent the
//!   batch it had received again (the same messages with the same server ids, which the
//!   client drops as already seen: msync clients key messages by id, see docs/protocol.md,
//!   "Delivery"); it never skips one. This is the same window as with one job per ack.
//! - If the leader is dropped before its answer (its connection closed mid-pull), the batch
//!   is marked abandoned; whoever waits on it writes its own ack in a job of its own (acks are
//!   idempotent: a position never moves back), so no one waits forever or is answered from a
//!   commit that may not have happened.
//!
//! Concurrency: a std mutex guards the open batch and one guards each batch's acks; both are
//! held only to add or take entries, never across an await. The answer is a `watch` value set
//! once.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use roam_domain::{
    conversation::Target,
    device::{Device, Resource},
    id::MessageId,
    store::StoreError,
    user::UserId,
};
use tokio::sync::watch;

use crate::{rows::engine, writer::Writer};

/// One device's queue: whose acks merge.
type Key = (UserId, Resource, Target);

/// Each merged ack's answer: the device's position afterwards (see `super::ack`).
type Answers = HashMap<Key, Result<Option<u64>, StoreError>>;

#[derive(Clone)]
enum Outcome {
    /// Committed (or failed) with the batch; each key's answer.
    Done(Arc<Answers>),
    /// The job as a whole failed, or its transaction did not commit.
    Failed(StoreError),
    /// The leader went away before it could tell: ack again.
    Abandoned,
}

/// Acks waiting for one writer job.
struct Batch {
    /// The merged acks; None once the writer has taken them.
    acks: Mutex<Option<HashMap<Key, (Device, MessageId)>>>,
    outcome: watch::Sender<Option<Outcome>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Batch {
    /// Adds an ack, keeping the higher key per queue; false if the writer took the batch.
    fn join(&self, key: &Key, device: &Device, up_to: MessageId) -> bool {
        let mut acks = lock(&self.acks);
        let Some(acks) = acks.as_mut() else {
            return false;
        };
        acks.entry(key.clone())
            .and_modify(|(_, k)| *k = (*k).max(up_to))
            .or_insert_with(|| (device.clone(), up_to));
        true
    }

    fn take(&self) -> HashMap<Key, (Device, MessageId)> {
        lock(&self.acks).take().unwrap_or_default()
    }
}

/// Marks the batch abandoned if the leader is dropped before it answered.
struct Leading(Arc<Batch>);

impl Drop for Leading {
    fn drop(&mut self) {
        // No ack joins a batch whose leader is gone (its job may never have been queued).
        self.0.take();
        self.0.outcome.send_if_modified(|o| {
            if o.is_some() {
                return false;
            }
            *o = Some(Outcome::Abandoned);
            true
        });
    }
}

/// The acks waiting for the writer (see the module docs).
#[derive(Default)]
pub(crate) struct Acks {
    open: Mutex<Option<Arc<Batch>>>,
}

impl Acks {
    /// `DeliveryStore::ack_at`, coalesced with the acks waiting at the same time.
    pub(crate) async fn ack_at(
        &self,
        writer: &Writer,
        device: &Device,
        target: &Target,
        up_to: MessageId,
    ) -> Result<Option<u64>, StoreError> {
        let key = (device.user.clone(), device.resource.clone(), target.clone());
        let (batch, leader) = {
            let mut open = lock(&self.open);
            match open.as_ref() {
                Some(b) if b.join(&key, device, up_to) => (b.clone(), false),
                _ => {
                    let b = Arc::new(Batch {
                        acks: Mutex::new(Some(HashMap::new())),
                        outcome: watch::Sender::new(None),
                    });
                    b.join(&key, device, up_to);
                    *open = Some(b.clone());
                    (b, true)
                }
            }
        };
        if leader {
            return lead(writer, batch, &key).await;
        }
        let mut answer = batch.outcome.subscribe();
        let outcome = answer
            .wait_for(Option::is_some)
            .await
            .map(|o| o.clone())
            .ok()
            .flatten()
            .unwrap_or(Outcome::Abandoned);
        match outcome {
            Outcome::Done(answers) => answer_of(&answers, &key),
            Outcome::Failed(e) => Err(e),
            Outcome::Abandoned => {
                let (d, target) = (device.clone(), target.clone());
                writer
                    .write(move |c, _| super::ack(c, &d, &target, up_to).map_err(engine))
                    .await
            }
        }
    }
}

/// Queues the batch's job, waits for its commit, and tells the batch.
async fn lead(writer: &Writer, batch: Arc<Batch>, key: &Key) -> Result<Option<u64>, StoreError> {
    let leading = Leading(batch.clone());
    let job = batch.clone();
    let result = writer
        .write(move |c, _| {
            let mut answers = Answers::new();
            for ((user, resource, target), (device, up_to)) in job.take() {
                let answer = super::ack(c, &device, &target, up_to).map_err(engine);
                answers.insert((user, resource, target), answer);
            }
            Ok(answers)
        })
        .await;
    let (outcome, mine) = match result {
        Ok(answers) => {
            let mine = answer_of(&answers, key);
            (Outcome::Done(Arc::new(answers)), mine)
        }
        Err(e) => (Outcome::Failed(e.clone()), Err(e)),
    };
    batch.outcome.send_replace(Some(outcome));
    drop(leading);
    mine
}

fn answer_of(answers: &Answers, key: &Key) -> Result<Option<u64>, StoreError> {
    answers
        .get(key)
        .cloned()
        .unwrap_or_else(|| Err(StoreError::Engine("an ack missing from its batch".into())))
}

#[cfg(test)]
mod tests;
