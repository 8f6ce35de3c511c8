//! The checkpointer: a thread of its own that copies the WAL back into the database file.
//!
//! # Why not the writer
//! SQLite's default is an automatic checkpoint run by the connection whose commit takes the WAL
//! past 1000 pages: here, the writer thread. That checkpoint copies every frame into the
//! database file and fsyncs it, and while it runs no batch commits, so every send queued
//! behind it waits. The bigger the database, the more scattered the pages it writes back and
//! the longer that stall (the likely cause of the send p99 growing with the file in the first
//! 30-minute soak, BENCHMARKS.md). So the writer checkpoints only at a far higher threshold
//! ([`WRITER_FALLBACK_PAGES`]), and this thread runs
//! `PRAGMA wal_checkpoint(PASSIVE)` on its own connection every [`INTERVAL`]. A passive
//! checkpoint never blocks the writer or readers (SQLite lets one checkpointer run beside one
//! writer): it copies the frames no reader still needs.
//!
//! SQLite starts the log over only when a write begins while every frame is copied and no
//! reader reads from the log; under steady load that moment rarely comes, so the file grows to
//! the writer's threshold (seen in the soak: it stays at 64 MiB). There the writer's own
//! checkpoint finds almost everything copied already (this thread ran at most [`INTERVAL`]
//! ago), so it is short, and the log starts over, cut back to [`WAL_SIZE_LIMIT`].
//!
//! # Durability
//! Unchanged: a commit is durable once the writer's WAL fsync returns (`synchronous=FULL`). A
//! checkpoint only moves committed pages into the main file, fsyncing it before SQLite lets
//! the WAL be reused; a crash mid-checkpoint replays the WAL at the next open.
use std::{
    path::Path,
    sync::{
        Arc, Mutex,
        mpsc::{self, RecvTimeoutError},
    },
    thread::JoinHandle,
    time::Duration,
};

use rusqlite::Connection;

/// How often the checkpointer looks at the WAL. At the highest commit rates measured here
/// (~200 commits/s, a few pages each) the WAL grows by well under 1000 pages in this time.
pub(crate) const INTERVAL: Duration = Duration::from_millis(250);

/// The writer's own automatic checkpoint threshold, in pages (64 MiB of log): where the log
/// starts over under steady load (see the module docs), and what bounds it if this thread
/// stalls or falls behind (then the writer checkpoints everything, as SQLite does by default).
pub(crate) const WRITER_FALLBACK_PAGES: u32 = 16_384;

/// WAL bytes kept on disk after a checkpoint restarts the log (`journal_size_limit`): a burst
/// that grew the file does not keep it large.
pub(crate) const WAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// Handle to the thread; dropping it stops the thread (after a last checkpoint).
pub(crate) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Written by the thread after every checkpoint; only tests read it so far.
    #[cfg_attr(not(test), allow(dead_code))]
    last: Arc<Mutex<Rounds>>,
}

/// What the thread has done so far: how many checkpoints it ran and what the last one found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Rounds {
    pub(crate) done: u64,
    pub(crate) last: Option<Progress>,
}

impl Checkpointer {
    /// Opens its own connection to `path` and starts the thread.
    pub(crate) fn start(path: &Path) -> rusqlite::Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, stopped) = mpsc::channel();
        let last = Arc::new(Mutex::new(Rounds::default()));
        let rounds = Arc::clone(&last);
        let thread = std::thread::Builder::new()
            .name("roam-sqlite-checkpoint".into())
            .spawn(move || run(&conn, &stopped, &rounds))
            .expect("spawn the SQLite checkpoint thread");
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
            last,
        })
    }

    /// The checkpoints run so far; the last one's progress tells how far behind the WAL is.
    #[cfg(test)]
    pub(crate) fn rounds(&self) -> Rounds {
        *self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The frames a checkpoint found in the WAL and how many of them are now in the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    pub(crate) wal_frames: i64,
    pub(crate) copied: i64,
}

/// One passive checkpoint of the database `conn` is open on.
pub(crate) fn passive(conn: &Connection) -> rusqlite::Result<Progress> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok(Progress {
            wal_frames: r.get(1)?,
            copied: r.get(2)?,
        })
    })
}

fn run(conn: &Connection, stopped: &mpsc::Receiver<()>, rounds: &Mutex<Rounds>) {
    loop {
        let last = matches!(
            stopped.recv_timeout(INTERVAL),
            Ok(()) | Err(RecvTimeoutError::Disconnected)
        );
        let progress = passive(conn);
        if let Err(e) = &progress {
            // Busy or I/O trouble: the next round tries again, and the writer's fallback
            // threshold bounds the WAL meanwhile.
            tracing::warn!(error = %e, "SQLite checkpoint failed");
        }
        {
            let mut r = rounds.lock().unwrap_or_else(|p| p.into_inner());
            r.done += 1;
            r.last = progress.ok();
        }
        if last {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_db(dir: &Path) -> Connection {
        let c = Connection::open(dir.join("t.db")).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t (x BLOB);",
        )
        .unwrap();
        c
    }

    /// One transaction of `rows` rows of 3 KB.
    fn fill(c: &Connection, rows: usize) {
        c.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
             INSERT INTO t SELECT zeroblob(3000) FROM n",
            [rows],
        )
        .unwrap();
    }

    fn wal_bytes(dir: &Path) -> u64 {
        std::fs::metadata(dir.join("t.db-wal")).map_or(0, |m| m.len())
    }

    #[test]
    fn a_passive_checkpoint_copies_every_frame_no_reader_needs() {
        let dir = tempfile::tempdir().unwrap();
        let writer = wal_db(dir.path());
        fill(&writer, 200);
        let other = Connection::open(dir.path().join("t.db")).unwrap();
        let p = passive(&other).unwrap();
        assert!(p.wal_frames >= 200, "{p:?}");
        assert_eq!(p.copied, p.wal_frames);
    }

    #[test]
    fn the_thread_keeps_the_wal_from_growing_while_the_writer_never_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let writer = wal_db(dir.path());
        let checkpointer = Checkpointer::start(&dir.path().join("t.db")).unwrap();
        // 25 rounds of 100 rows of 3 KB (a page each): 7.5 MB through the WAL. Without
        // checkpoints (the writer has them off) the WAL would hold all of it. After each round,
        // wait for a checkpoint that began after the round's commit and copied every frame;
        // the next round's write then starts the log over. (The database file's size is no
        // sign of that: SQLite extends the file to its final size before copying the pages.)
        for round in 1..=25u64 {
            fill(&writer, 100);
            let after = checkpointer.rounds().done + 1;
            let until = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                let r = checkpointer.rounds();
                if r.done > after && r.last.is_some_and(|p| p.copied == p.wal_frames) {
                    break;
                }
                assert!(
                    std::time::Instant::now() < until,
                    "round {round}: the WAL was never copied whole: {r:?}"
                );
                std::thread::sleep(INTERVAL / 5);
            }
        }
        drop(checkpointer);
        // One round's frames (~400 KB) and change, not 7.5 MB.
        let wal = wal_bytes(dir.path());
        assert!(wal < 2 * 1024 * 1024, "WAL grew to {wal} bytes");
        let rows: i64 = writer
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2500);
    }
}
