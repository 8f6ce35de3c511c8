//! The one writer thread, with group commit.
//!
//! SQLite allows one writer at a time, and with `synchronous=FULL` each commit costs an fsync.
//! So every write goes to one OS thread that owns the write connection: it takes the first job,
//! drains whatever else is queued (up to [`MAX_BATCH`]), runs each job in its own savepoint
//! (a failing job rolls back alone), commits once, and only then answers every job. Many
//! concurrent senders therefore share one fsync, and no job is answered before it is durable.
use std::{sync::Arc, thread::JoinHandle, time::Instant};

use roam_domain::{
    id::IdGenerator,
    store::{Committed, Events, StoreError},
};
use rusqlite::Connection;

use crate::writer_stats::WriterStats;
use tokio::sync::{mpsc, oneshot};

/// Most jobs one transaction takes.
const MAX_BATCH: usize = 512;
/// Jobs waiting for the writer; senders wait (asynchronously) when it is full.
const QUEUE: usize = 4096;

/// Runs once the batch's commit has succeeded or failed.
type Completer = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type Job = Box<dyn FnOnce(&Connection, &IdGenerator) -> Completer + Send>;

/// Handle to the writer thread. Dropping it lets the thread finish queued jobs and exit.
pub(crate) struct Writer {
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread; it records each batch in `stats`.
    pub(crate) fn start(conn: Connection, ids: IdGenerator, stats: Arc<WriterStats>) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("roam-sqlite-writer".into())
            .spawn(move || run(conn, ids, rx, &stats))
            .expect("spawn the SQLite writer thread");
        Writer {
            tx: Some(tx),
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
        let job: Job = Box::new(move |conn, ids| {
            let result = in_savepoint(conn, || f(conn, ids));
            Box::new(move |commit: Result<(), StoreError>| {
                let _ = reply.send(commit.and(result));
            })
        });
        let tx = self.tx.as_ref().ok_or_else(closed)?;
        tx.send(job).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

impl Writer {
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
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn closed() -> StoreError {
    StoreError::Engine("the SQLite writer has stopped".into())
}

fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    run_cached(conn, "SAVEPOINT job")?;
    let result = f();
    if result.is_err() {
        run_cached(conn, "ROLLBACK TO job")?;
    }
    run_cached(conn, "RELEASE job")?;
    result
}

/// Runs one statement that takes no parameters, from the statement cache (the transaction
/// control statements run for every job and batch).
fn run_cached(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.execute([]))
        .map(|_| ())
        .map_err(crate::rows::engine)
}

fn run(conn: Connection, ids: IdGenerator, mut rx: mpsc::Receiver<Job>, stats: &WriterStats) {
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let began = run_cached(&conn, "BEGIN IMMEDIATE");
        if let Err(e) = began {
            tracing::error!(error = %e, "SQLite writer could not begin a transaction");
            // Dropping a job drops its reply channel: each caller gets an engine error.
            drop(jobs);
            continue;
        }
        let batch = jobs.len();
        let completers: Vec<Completer> = jobs.into_iter().map(|job| job(&conn, &ids)).collect();
        let committing = Instant::now();
        let commit = run_cached(&conn, "COMMIT");
        stats.record_batch(batch, committing.elapsed());
        if let Err(e) = &commit {
            tracing::error!(error = %e, "SQLite writer could not commit; the batch is lost");
            let _ = conn.execute_batch("ROLLBACK");
        }
        for complete in completers {
            complete(commit.clone());
        }
    }
}
