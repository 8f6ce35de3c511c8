//! The writer's queue: async callers put jobs in, the one writer thread takes them out in
//! batches.
//!
//! A `Mutex<VecDeque>` with a `Condvar` rather than a tokio channel, because of what the writer
//! does with it: it takes everything queued (up to a batch) under one lock, where a channel
//! hands jobs out one by one, and it sleeps on the condvar only when the queue is empty. A
//! caller signals the condvar only when the writer said it was waiting (`idle`): under load
//! the writer is busy committing while jobs pile up, so queuing a job costs one uncontended
//! lock and no wake-up at all.
//!
//! The queue is bounded by a tokio semaphore of free places, so a caller waits for room
//! asynchronously and never blocks a tokio worker. Each caller takes one place and forgets
//! the permit; the writer gives back all the places of a batch at once when it takes the
//! batch out.
use std::{
    collections::VecDeque,
    sync::{Condvar, Mutex, MutexGuard, PoisonError},
};

use tokio::sync::Semaphore;

pub(super) struct Queue<J> {
    state: Mutex<State<J>>,
    /// Signalled when a job arrives while the writer waits, or when the queue closes.
    arrived: Condvar,
    /// Free places: a caller takes one before queuing, the writer returns them on taking jobs.
    room: Semaphore,
}

struct State<J> {
    jobs: VecDeque<J>,
    /// The writer is waiting on `arrived` (or about to): the next job must signal it.
    idle: bool,
    /// No more jobs are accepted; the writer drains what is queued and stops.
    closed: bool,
}

impl<J> Queue<J> {
    /// A queue that holds at most `capacity` jobs.
    pub(super) fn new(capacity: usize) -> Queue<J> {
        Queue {
            state: Mutex::new(State {
                jobs: VecDeque::with_capacity(capacity),
                idle: false,
                closed: false,
            }),
            arrived: Condvar::new(),
            room: Semaphore::new(capacity),
        }
    }

    /// Waits (asynchronously) for a free place, then queues `job`, waking the writer only if
    /// it is waiting. Gives `job` back if the queue is closed.
    pub(super) async fn push(&self, job: J) -> Result<(), J> {
        match self.room.acquire().await {
            // The place is returned by `take`, in bulk.
            Ok(place) => place.forget(),
            Err(_) => return Err(job),
        }
        let wake = {
            let mut state = self.lock();
            if state.closed {
                return Err(job);
            }
            state.jobs.push_back(job);
            std::mem::replace(&mut state.idle, false)
        };
        if wake {
            self.arrived.notify_one();
        }
        Ok(())
    }

    /// For the writer thread: blocks until a job is queued, then moves up to `max` jobs into
    /// `into`, oldest first. Returns false once the queue is closed and empty.
    pub(super) fn take(&self, into: &mut Vec<J>, max: usize) -> bool {
        let mut state = self.lock();
        loop {
            if !state.jobs.is_empty() {
                let n = state.jobs.len().min(max);
                into.extend(state.jobs.drain(..n));
                drop(state);
                self.room.add_permits(n);
                return true;
            }
            if state.closed {
                return false;
            }
            state.idle = true;
            state = self
                .arrived
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Accepts no more jobs; callers waiting for room get theirs back. The writer still takes
    /// what is queued.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.room.close();
        self.arrived.notify_all();
    }

    /// Closes the queue and drops every queued job (the writer is gone: dropping a job is how
    /// its caller learns that).
    pub(super) fn abandon(&self) {
        self.close();
        let jobs = std::mem::take(&mut self.lock().jobs);
        drop(jobs);
    }

    /// Jobs queued now.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().jobs.len()
    }

    /// Jobs run outside the lock, so a poisoned lock only means a caller panicked between two
    /// plain field updates: the state is still whole.
    fn lock(&self) -> MutexGuard<'_, State<J>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
