//! A fixed pool of threads for argon2, each reusing its own working memory.
//!
//! Why: each hash or check needs ~19 MiB for tens of milliseconds. Run on tokio's blocking
//! threads (up to 512 of them, each with its own allocator arena), 64 concurrent failed logins
//! took a server from 9 MB to gigabytes of resident memory that the allocator kept. Here at most
//! `threads` computations run at once, each thread allocates its [`Memory`] once and reuses it,
//! and at most `queue` more wait; beyond that a request is refused at once with
//! [`HashError::Busy`] (the transports answer "server busy") instead of piling up.
use std::{
    panic::AssertUnwindSafe,
    sync::{
        Arc, Mutex,
        mpsc::{Receiver, SyncSender, TrySendError, sync_channel},
    },
};

use super::Memory;

/// Work for one hashing thread, given that thread's memory.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// Why a computation did not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// Every thread is busy and the queue is full.
    #[error("server busy: too many password checks in progress, retry later")]
    Busy,
    /// The computation panicked or the pool is shutting down.
    #[error("password hashing failed")]
    Failed,
}

/// Threads that compute argon2 hashes; dropping the pool stops them once their queue is empty.
pub struct HashPool {
    jobs: SyncSender<Job>,
}

impl HashPool {
    /// Starts `threads` threads (at least 1) that take work from a queue of `queue` places.
    pub fn new(threads: usize, queue: usize) -> HashPool {
        let (jobs, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("roam-argon2-{n}"))
                .spawn(move || work(&rx));
            if let Err(e) = spawned {
                // Fewer threads is slower, not wrong; none at all makes every call `Failed`.
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        HashPool { jobs }
    }

    /// Runs `f` on a hashing thread with that thread's memory, and answers its result.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Memory) -> R + Send + 'static,
    ) -> Result<R, HashError> {
        self.submit(f)?.await.map_err(|_| HashError::Failed)
    }

    /// Queues `f` now (or refuses it at once when the queue is full); the answer comes on the
    /// returned channel. The job runs even if the receiver is dropped.
    pub fn submit<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Memory) -> R + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<R>, HashError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = tx.send(f(memory));
        });
        match self.jobs.try_send(job) {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_)) => Err(HashError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(HashError::Failed),
        }
    }
}

/// One thread's loop: take a job, run it in this thread's memory, until the pool is dropped.
fn work(rx: &Mutex<Receiver<Job>>) {
    let mut memory = Memory::default();
    loop {
        // The lock is held only while waiting for the next job, never while running it.
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        // A panicking job drops its answer channel (its caller sees `Failed`); the thread and
        // its memory stay.
        if std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory))).is_err() {
            tracing::error!("a password hashing job panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Jobs that block until released; records how many ran at once.
    struct Gate {
        running: AtomicUsize,
        most: AtomicUsize,
        release: Mutex<bool>,
        cv: std::sync::Condvar,
    }

    impl Gate {
        fn enter(&self) {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            let mut open = self.release.lock().unwrap();
            while !*open {
                open = self.cv.wait(open).unwrap();
            }
            self.running.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn at_most_threads_run_and_at_most_queue_wait() {
        let pool = HashPool::new(2, 3);
        let gate = Arc::new(Gate {
            running: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            release: Mutex::new(false),
            cv: std::sync::Condvar::new(),
        });
        let job = |gate: &Arc<Gate>| {
            let gate = gate.clone();
            move |_: &mut Memory| gate.enter()
        };
        let mut accepted = Vec::new();
        // Two run...
        for _ in 0..2 {
            accepted.push(pool.submit(job(&gate)).unwrap());
        }
        while gate.running.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        // ...three wait, and the sixth is refused at once.
        for _ in 0..3 {
            accepted.push(pool.submit(job(&gate)).unwrap());
        }
        assert_eq!(pool.submit(job(&gate)).err(), Some(HashError::Busy));
        *gate.release.lock().unwrap() = true;
        gate.cv.notify_all();
        for a in accepted {
            a.await.unwrap();
        }
        assert_eq!(gate.most.load(Ordering::SeqCst), 2);
        // Once drained, the pool takes work again.
        assert_eq!(pool.run(|_| 1u8).await, Ok(1));
    }

    #[tokio::test]
    async fn each_thread_keeps_its_memory() {
        let pool = HashPool::new(1, 4);
        let mut seen = Vec::new();
        for _ in 0..3 {
            let (bytes, ptr) = pool
                .run(|m| {
                    let _ = m.blocks(8);
                    (m.bytes(), m.0.as_ptr() as usize)
                })
                .await
                .unwrap();
            seen.push((bytes, ptr));
        }
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone() {
        let pool = HashPool::new(1, 4);
        assert_eq!(
            pool.run(|_| -> u8 { panic!("boom") }).await,
            Err(HashError::Failed)
        );
        assert_eq!(pool.run(|_| 7u8).await, Ok(7));
    }
}
