//! The one writer thread, with group commit.
//!
//! SQLite allows one writer at a time, and with `synchronous=FULL` each commit costs an fsync.
//! So every write goes to one OS thread that owns the write connection: it takes everything
//! queued (up to [`MAX_BATCH`]) in one go from its [`queue`], runs the jobs one after another
//! in one transaction, commits once, and only then answers every job that succeeded. Many
//! concurrent senders therefore share one fsync, and no job is answered before it is durable.
//!
//! # A failing job rolls back alone
//!
//! A job that fails may already have changed rows (a batch insert that meets a duplicate half
//! way). Its changes must go, and the other jobs' must stay. A job is run:
//! - **bare** when nothing else is in the transaction yet (the first job of a batch, which at
//!   low rates is the only one): if it fails, the whole transaction is rolled back, which holds
//!   its changes only, and the next job begins a new one;
//! - otherwise **in a savepoint**, rolled back to if the job fails.
//!
//! A savepoint is not free (two statements, and SQLite copies each page the job changes into
//! its sub-journal first), so skipping it where a
//! rollback of the whole transaction undoes exactly the same is a saving where it counts most,
//! at low rates, when most batches hold one job. Skipping it for later jobs would need the job
//! to be known never to fail after its first change, which the writer cannot know.
//!
//! If SQLite ends the transaction on its own (it rolls back on some I/O errors or a full
//! disk), the changes of the jobs that ran before are gone: those jobs are answered with an
//! error, never with success, and the rest of the batch goes on in a new transaction.
//!
//! A failing job is answered at once (its answer does not depend on the commit); the others
//! after the `COMMIT`.
use std::{sync::Arc, thread::JoinHandle, time::Instant};

use roam_domain::{
    id::IdGenerator,
    store::{Committed, Events, StoreError},
};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::writer_stats::WriterStats;

mod queue;
#[cfg(test)]
mod tests;

use queue::Queue;

/// Most jobs one transaction takes.
const MAX_BATCH: usize = 512;
/// Jobs waiting for the writer; callers wait (asynchronously) when it is full.
const QUEUE: usize = 4096;

/// One queued write: the caller's function, then its result until the commit decides it.
/// One allocation per job (the `Box` this lives in), besides the answer's channel.
trait Task: Send {
    /// Runs the function on the writer's connection; false if it failed, so that its changes
    /// must be undone.
    fn run(&mut self, conn: &Connection, ids: &IdGenerator) -> bool;
    /// Answers the caller: the function's error if it failed; otherwise its value if
    /// `commit` succeeded, else the commit's error.
    fn answer(self: Box<Self>, commit: Result<(), StoreError>);
}

struct Pending<T, F> {
    f: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Task for Pending<T, F>
where
    T: Send,
    F: FnOnce(&Connection, &IdGenerator) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &Connection, ids: &IdGenerator) -> bool {
        let result = match self.f.take() {
            Some(f) => f(conn, ids),
            None => Err(StoreError::Engine("a writer job ran twice".into())),
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, commit: Result<(), StoreError>) {
        let answer = match self.result {
            Some(Err(e)) => Err(e),
            Some(Ok(value)) => commit.map(|()| value),
            None => Err(commit.err().unwrap_or_else(closed)),
        };
        // The caller may have stopped waiting; the write stands either way.
        let _ = self.reply.send(answer);
    }
}

type Job = Box<dyn Task>;

/// Handle to the writer thread. Dropping it lets the thread finish queued jobs and exit.
pub(crate) struct Writer {
    queue: Arc<Queue<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread; it records each batch in `stats`.
    pub(crate) fn start(conn: Connection, ids: IdGenerator, stats: Arc<WriterStats>) -> Writer {
        Writer::with_queue(conn, ids, stats, QUEUE)
    }

    /// [`Writer::start`] with a queue of `capacity` jobs.
    fn with_queue(
        conn: Connection,
        ids: IdGenerator,
        stats: Arc<WriterStats>,
        capacity: usize,
    ) -> Writer {
        let queue = Arc::new(Queue::new(capacity));
        let taken = queue.clone();
        let thread = std::thread::Builder::new()
            .name("roam-sqlite-writer".into())
            .spawn(move || {
                let _gone = Abandon(&taken);
                run(&conn, &ids, &taken, &stats);
            })
            .expect("spawn the SQLite writer thread");
        Writer {
            queue,
            thread: Some(thread),
        }
    }

    /// Runs `f` in the writer's next transaction; resolves after the commit.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &IdGenerator) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(Pending {
            f: Some(f),
            result: None,
            reply,
        });
        self.queue.push(job).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// Runs the change `f`, then stores the events it causes (see `roam_domain::store`), in
    /// the writer's next transaction: the change and its events commit together or not at all.
    /// Resolves after the commit with both.
    pub(crate) async fn write_with_events<T, F>(
        &self,
        f: F,
        events: Events<T>,
    ) -> Result<Committed<T>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.write(move |c, ids| {
            let value = f(c)?;
            crate::delivery::with_events(c, ids, value, events)
        })
        .await
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Held by the writer thread: when it ends, even by a panic in a job, the queue is closed and
/// what is left in it dropped, so that no caller waits for an answer that cannot come.
struct Abandon<'a>(&'a Queue<Job>);

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

fn closed() -> StoreError {
    StoreError::Engine("the SQLite writer has stopped".into())
}

/// Runs one statement that takes no parameters, from the statement cache (the transaction
/// control statements run for every job and batch).
fn run_cached(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.execute([]))
        .map(|_| ())
        .map_err(crate::rows::engine)
}

/// Rolls the open transaction back, if SQLite has not already.
fn roll_back(conn: &Connection) {
    if !conn.is_autocommit()
        && let Err(e) = run_cached(conn, "ROLLBACK")
    {
        tracing::error!(error = %e, "SQLite writer could not roll back");
    }
}

/// The writer thread's loop: one transaction per batch taken from the queue.
fn run(conn: &Connection, ids: &IdGenerator, queue: &Queue<Job>, stats: &WriterStats) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    // Jobs that succeeded in the open transaction, waiting for its commit.
    let mut ran: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while queue.take(&mut jobs, MAX_BATCH) {
        let batch = jobs.len();
        let mut open = false;
        let mut pending = jobs.drain(..);
        while let Some(job) = pending.next() {
            if !open && let Err(e) = run_cached(conn, "BEGIN IMMEDIATE") {
                tracing::error!(error = %e, "SQLite writer could not begin a transaction");
                job.answer(Err(e.clone()));
                pending.by_ref().for_each(|j| j.answer(Err(e.clone())));
                break;
            }
            // Whether the transaction is still open after the job.
            open = if ran.is_empty() {
                run_bare(conn, ids, job, &mut ran)
            } else {
                run_in_savepoint(conn, ids, job, &mut ran)
            };
        }
        drop(pending);
        if !open {
            continue;
        }
        let committing = Instant::now();
        let commit = run_cached(conn, "COMMIT");
        stats.record_batch(batch, committing.elapsed());
        if let Err(e) = &commit {
            tracing::error!(error = %e, "SQLite writer could not commit; the batch is lost");
            roll_back(conn);
        }
        for job in ran.drain(..) {
            job.answer(commit.clone());
        }
    }
}

/// Runs `job` alone in the open transaction (`ran` is empty). Returns whether the transaction
/// is still open.
fn run_bare(conn: &Connection, ids: &IdGenerator, mut job: Job, ran: &mut Vec<Job>) -> bool {
    if job.run(conn, ids) {
        ran.push(job);
        still_open(conn, ran)
    } else {
        roll_back(conn);
        job.answer(Ok(()));
        false
    }
}

/// Runs `job` in a savepoint after the jobs in `ran`. Returns whether the transaction is still
/// open.
fn run_in_savepoint(
    conn: &Connection,
    ids: &IdGenerator,
    mut job: Job,
    ran: &mut Vec<Job>,
) -> bool {
    if let Err(e) = run_cached(conn, "SAVEPOINT job") {
        job.answer(Err(e));
        return still_open(conn, ran);
    }
    if job.run(conn, ids) {
        let released = run_cached(conn, "RELEASE job");
        ran.push(job);
        if let Err(e) = released {
            // The job's changes are in an unknown state: none of the transaction is trusted.
            tracing::error!(error = %e, "SQLite writer could not release a savepoint");
            roll_back(conn);
            lose(ran, &e);
            return false;
        }
        return still_open(conn, ran);
    }
    let undone = run_cached(conn, "ROLLBACK TO job").and_then(|()| run_cached(conn, "RELEASE job"));
    job.answer(Ok(()));
    match undone {
        Ok(()) => still_open(conn, ran),
        Err(e) => {
            tracing::error!(error = %e, "SQLite writer could not undo a failed job");
            roll_back(conn);
            lose(ran, &e);
            false
        }
    }
}

/// Whether the transaction is still open after a job. If SQLite has rolled it back on its own,
/// the jobs in `ran` lost their changes: they are answered with an error.
fn still_open(conn: &Connection, ran: &mut Vec<Job>) -> bool {
    if conn.is_autocommit() {
        let e = StoreError::Engine("SQLite rolled the transaction back".into());
        tracing::error!(error = %e, "SQLite writer lost a transaction");
        lose(ran, &e);
        false
    } else {
        true
    }
}

/// Answers every job in `ran` with `e`: their changes were rolled back.
fn lose(ran: &mut Vec<Job>, e: &StoreError) {
    for job in ran.drain(..) {
        job.answer(Err(e.clone()));
    }
}
