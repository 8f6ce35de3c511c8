//! Acks coalesced: at most one ack transaction of this store in flight, and the acks that
//! arrive while it runs applied together in the next, by one set-based statement.
//!
//! Every delivery ends with an ack (the key of the device's next pull), and a group message
//! makes one per online member at nearly the same moment. Each used to be a transaction of
//! its own (three statements and a commit with its WAL flush). Here, as in the SQLite engine
//! (its `delivery::acks`), the first ack of a burst (the *leader*) opens a [`Batch`] and
//! waits for the store's ack transaction to be free (`Acks::flight`); acks that arrive
//! meanwhile join the batch (a second ack of the same device and conversation keeps the
//! higher key) and wait for the leader's answer. When its turn comes the leader takes the
//! whole batch and applies it in one transaction ([`BATCH`]), so later acks open the next
//! batch: natural group commit, one commit per batch however many acks it holds.
//!
//! # Durability, crashes, cancellation
//!
//! - Nobody is answered before the commit: the leader passes on the answers only once the
//!   transaction committed. A position answered ([`roam_domain::store::DeliveryStore::ack_at`])
//!   is therefore durable, and what a pull serves after it never depends on an ack a crash
//!   can take back.
//! - A crash before the commit loses the batch's acks and the answers to their pulls (never
//!   sent): each device is then at its last committed cursor and at worst is sent what it
//!   had received again (same ids, dropped by the client as seen); it never skips one. The
//!   same window as with one transaction per ack.
//! - If the leader is dropped before its answer (its connection closed mid-pull), the batch
//!   is marked abandoned; whoever waits on it acks again, in a batch of its own leader (acks
//!   are idempotent: a position never moves back), so no one waits forever or is answered
//!   from a commit that may not have happened.
//!
//! # Locks
//!
//! The transaction takes no `conversations` row (appends lock that first), then the batch's
//! `device_cursors` rows and the `user_conversations` rows whose `synced_seq` moves, each set
//! in key order, so two nodes' ack transactions lock in the same order. A deadlock with a
//! write that locks several sides of one conversation in another order (an append to a single
//! chat moves both its sides) is possible but needs both sides acked in one batch at that
//! instant; PostgreSQL then aborts one, and `transaction!` runs it again (the batch is data,
//! so it may run again).
//!
//! Concurrency here: a std mutex guards the open batch and one guards each batch's acks; both
//! are held only to add or take entries, never across an await. The answer is a `watch`
//! value set once.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use roam_domain::{
    conversation::Target, device::Device, device::Resource, id::MessageId, store::StoreError,
    user::UserId,
};
use tokio::sync::watch;

use crate::{
    PgStore,
    rows::{engine, id_column, rows, transaction},
};

/// One device's queue in one conversation: whose acks merge.
type Key = (UserId, Resource, Target);

/// Each merged ack's answer: the device's position afterwards.
type Answers = HashMap<Key, Option<u64>>;

#[derive(Clone)]
enum Outcome {
    /// Committed: each key's answer.
    Done(Arc<Answers>),
    /// The transaction failed or did not commit: everyone's answer.
    Failed(StoreError),
    /// The leader went away before it could tell: ack again.
    Abandoned,
}

/// Acks waiting for one transaction.
struct Batch {
    /// The merged acks (the highest key per queue); None once the leader has taken them.
    acks: Mutex<Option<HashMap<Key, MessageId>>>,
    outcome: watch::Sender<Option<Outcome>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Batch {
    fn new() -> Batch {
        Batch {
            acks: Mutex::new(Some(HashMap::new())),
            outcome: watch::Sender::new(None),
        }
    }

    /// Adds an ack, keeping the higher key per queue; false if the leader took the batch.
    fn join(&self, key: &Key, up_to: MessageId) -> bool {
        let mut acks = lock(&self.acks);
        let Some(acks) = acks.as_mut() else {
            return false;
        };
        acks.entry(key.clone())
            .and_modify(|k| *k = (*k).max(up_to))
            .or_insert(up_to);
        true
    }

    fn take(&self) -> HashMap<Key, MessageId> {
        lock(&self.acks).take().unwrap_or_default()
    }
}

/// Marks the batch abandoned if the leader is dropped before it answered.
struct Leading(Arc<Batch>);

impl Drop for Leading {
    fn drop(&mut self) {
        // No ack joins a batch whose leader is gone.
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

/// The store's acks (see the module docs).
#[derive(Default)]
pub(crate) struct Acks {
    /// The batch acks join, until its leader takes it.
    open: Mutex<Option<Arc<Batch>>>,
    /// Held by the leader whose batch's transaction runs: at most one in flight.
    pub(super) flight: tokio::sync::Mutex<()>,
    /// Batch transactions begun (tests count them).
    #[cfg(test)]
    pub(super) transactions: std::sync::atomic::AtomicU64,
}

impl Acks {
    /// `DeliveryStore::ack_at`, coalesced with the acks that wait at the same time.
    pub(crate) async fn ack_at(
        &self,
        store: &PgStore,
        device: &Device,
        target: &Target,
        up_to: MessageId,
    ) -> Result<Option<u64>, StoreError> {
        let key = (device.user.clone(), device.resource.clone(), target.clone());
        loop {
            let (batch, leader) = {
                let mut open = lock(&self.open);
                match open.as_ref() {
                    Some(b) if b.join(&key, up_to) => (b.clone(), false),
                    _ => {
                        let b = Arc::new(Batch::new());
                        b.join(&key, up_to);
                        *open = Some(b.clone());
                        (b, true)
                    }
                }
            };
            if leader {
                return self.lead(store, batch, &key).await;
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
                Outcome::Done(answers) => return answer_of(&answers, &key),
                Outcome::Failed(e) => return Err(e),
                Outcome::Abandoned => {}
            }
        }
    }

    /// Waits for the store's ack transaction, takes the batch, applies it, tells the batch.
    async fn lead(
        &self,
        store: &PgStore,
        batch: Arc<Batch>,
        key: &Key,
    ) -> Result<Option<u64>, StoreError> {
        let leading = Leading(batch.clone());
        let flight = self.flight.lock().await;
        let acks: Vec<(Key, MessageId)> = batch.take().into_iter().collect();
        #[cfg(test)]
        self.transactions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let result = apply(store, &acks).await;
        drop(flight);
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
}

fn answer_of(answers: &Answers, key: &Key) -> Result<Option<u64>, StoreError> {
    answers
        .get(key)
        .copied()
        .ok_or_else(|| StoreError::Engine("an ack missing from its batch".into()))
}

/// A batch of acks ($1 user, $2 resource, $3 target, $4 key, row i) in one statement: each
/// ack's side of the conversation, the device's cursor in it and the highest seq after the
/// cursor whose id is at most the key (`found`); the cursors moved there (never back); the
/// sides' `synced_seq` moved to the highest of their users' acks (rows locked in key order
/// first, and only those that move). Answers `found` as it was before the statement: an ack
/// whose user has no such side has no row.
const BATCH: &str = "WITH a AS (\
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) \
       WITH ORDINALITY AS a(user_id, resource, target, up_to, i)), \
     found AS MATERIALIZED (\
       SELECT a.i, a.user_id, a.resource, uc.conv_id, uc.start_seq, dc.seq AS cursor, \
         (SELECT m.seq FROM messages m WHERE m.conv_id = uc.conv_id AND m.seq > COALESCE(dc.seq, 0) \
          AND m.id <= a.up_to ORDER BY m.seq DESC LIMIT 1) AS seq \
       FROM a JOIN user_conversations uc ON uc.user_id = a.user_id AND uc.target = a.target \
       LEFT JOIN device_cursors dc ON dc.user_id = a.user_id AND dc.resource = a.resource \
         AND dc.conv_id = uc.conv_id), \
     cursors AS (\
       INSERT INTO device_cursors (user_id, resource, conv_id, seq) \
       SELECT user_id, resource, conv_id, MAX(seq) FROM found WHERE seq IS NOT NULL \
       GROUP BY user_id, resource, conv_id ORDER BY user_id, resource, conv_id \
       ON CONFLICT (user_id, resource, conv_id) DO UPDATE SET seq = GREATEST(device_cursors.seq, excluded.seq)), \
     synced AS (\
       SELECT uc.user_id, uc.conv_id, s.seq FROM user_conversations uc \
       JOIN (SELECT user_id, conv_id, MAX(seq) AS seq FROM found WHERE seq IS NOT NULL \
             GROUP BY user_id, conv_id) s ON uc.user_id = s.user_id AND uc.conv_id = s.conv_id \
       WHERE uc.synced_seq < s.seq ORDER BY uc.user_id, uc.conv_id FOR UPDATE OF uc), \
     moved AS (\
       UPDATE user_conversations uc SET synced_seq = GREATEST(uc.synced_seq, synced.seq) \
       FROM synced WHERE uc.user_id = synced.user_id AND uc.conv_id = synced.conv_id) \
     SELECT i, start_seq, cursor, seq FROM found";

/// Applies the acks in one transaction (run again whole if PostgreSQL aborts it as a
/// deadlock's victim), answering each one's position as `DeliveryStore::ack_at` does: the
/// seq acked or, if nothing after the device's cursor is, its cursor (None without one, or
/// without the side); never before the side's start.
async fn apply(store: &PgStore, acks: &[(Key, MessageId)]) -> Result<Answers, StoreError> {
    let users: Vec<&str> = acks.iter().map(|((u, _, _), _)| u.as_str()).collect();
    let resources: Vec<&str> = acks.iter().map(|((_, r, _), _)| r.as_str()).collect();
    let targets: Vec<String> = acks.iter().map(|((_, _, t), _)| t.encode()).collect();
    // Ids stay below 2^63; a larger (forged) key means "everything", as i64::MAX does.
    let up_to: Vec<i64> = acks
        .iter()
        .map(|(_, k)| id_column(*k).unwrap_or(i64::MAX))
        .collect();
    let found = transaction!(store, |tx| {
        rows(&tx, BATCH, &[&users, &resources, &targets, &up_to]).await
    })?;
    let mut answers: Answers = acks.iter().map(|(k, _)| (k.clone(), None)).collect();
    for r in &found {
        let i: i64 = r.try_get(0).map_err(engine)?;
        let start: i64 = r.try_get(1).map_err(engine)?;
        let cursor: Option<i64> = r.try_get(2).map_err(engine)?;
        let seq: Option<i64> = r.try_get(3).map_err(engine)?;
        let (key, _) = usize::try_from(i - 1)
            .ok()
            .and_then(|i| acks.get(i))
            .ok_or_else(|| StoreError::Engine("an ack's row out of its batch".into()))?;
        let position = seq
            .max(cursor)
            .map(|p| u64::try_from(p.max(start)).unwrap_or(0));
        answers.insert(key.clone(), position);
    }
    Ok(answers)
}

#[cfg(test)]
mod tests;
