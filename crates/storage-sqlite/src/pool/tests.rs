//! The pool's bound: connections and reads at once, under concurrent reads of both kinds and
//! when callers stop waiting.
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::SeqCst},
    },
    time::Duration,
};

use rusqlite::Connection;
use tempfile::TempDir;

use super::{READERS, Readers};

fn pool(dir: &TempDir) -> Arc<Readers> {
    let path = dir.path().join("pool.db");
    let c = Connection::open(&path).expect("open");
    c.execute_batch(
        "PRAGMA journal_mode=WAL; CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (7);",
    )
    .expect("schema");
    Arc::new(Readers::new(&path))
}

/// Reads running now, and the most at once.
#[derive(Default)]
struct Running {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Running {
    /// Counts a read while it reads `t` and sleeps for `hold`.
    fn read(&self, c: &Connection, hold: Duration) -> rusqlite::Result<i64> {
        let now = self.now.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        let n = c.query_row("SELECT n FROM t", [], |r| r.get(0));
        std::thread::sleep(hold);
        self.now.fetch_sub(1, SeqCst);
        n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn never_more_connections_or_reads_than_the_bound() {
    let dir = TempDir::new().expect("tempdir");
    let readers = pool(&dir);
    let running = Arc::new(Running::default());
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (readers, running) = (readers.clone(), running.clone());
        tasks.push(tokio::spawn(async move {
            let hold = Duration::from_millis(2);
            if i % 2 == 0 {
                readers.read_now(|c| running.read(c, hold)).await
            } else {
                let r = running.clone();
                readers.read(move |c| r.read(c, hold)).await
            }
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task").expect("read"), 7);
    }
    let most = running.most.load(SeqCst);
    assert!(most <= READERS, "{most} reads at once");
    assert!(most > 1, "the reads overlapped");
    assert!(readers.peak() <= READERS, "{} connections", readers.peak());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_keeps_its_connection_after_its_caller_stops_waiting() {
    let dir = TempDir::new().expect("tempdir");
    let readers = pool(&dir);
    let entered = Arc::new(AtomicUsize::new(0));
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = Arc::new(std::sync::Mutex::new(released));
    let mut blocked = Vec::new();
    for _ in 0..READERS {
        let (readers, entered, released) = (readers.clone(), entered.clone(), released.clone());
        blocked.push(tokio::spawn(async move {
            readers
                .read(move |c| {
                    entered.fetch_add(1, SeqCst);
                    let _ = released.lock().expect("lock").recv();
                    c.query_row("SELECT n FROM t", [], |r| r.get::<_, i64>(0))
                })
                .await
        }));
    }
    tokio::time::timeout(Duration::from_secs(10), async {
        while entered.load(SeqCst) < READERS {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("all reads started");
    // The callers stop waiting; their reads go on, on their blocking threads.
    for t in &blocked {
        t.abort();
    }
    let late = {
        let readers = readers.clone();
        tokio::spawn(async move {
            readers
                .read_now(|c| c.query_row("SELECT n FROM t", [], |r| r.get::<_, i64>(0)))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!late.is_finished(), "the late read waits for a connection");
    drop(release);
    assert_eq!(late.await.expect("task").expect("read"), 7);
    assert_eq!(readers.peak(), READERS);
}

#[tokio::test]
async fn every_connection_is_opened_at_start_and_used_in_turn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let readers = pool(&dir);
    readers.open_all().expect("open all");
    assert_eq!(readers.shared.peak.load(SeqCst), READERS);
    // Tell the connections apart by a setting of their own.
    for (i, c) in readers
        .shared
        .idle
        .lock()
        .expect("unpoisoned")
        .iter()
        .enumerate()
    {
        c.pragma_update(None, "cache_size", -1000 - i64::try_from(i).expect("small"))
            .expect("mark");
    }
    // One read at a time: each takes the connection idle longest, so READERS reads in a row
    // run on READERS different connections (all of them warm up, none stays cold).
    let mut used = std::collections::BTreeSet::new();
    for _ in 0..READERS {
        let mark: i64 = readers
            .read(|c| c.query_row("PRAGMA cache_size", [], |r| r.get(0)))
            .await
            .expect("read");
        used.insert(mark);
    }
    assert_eq!(used.len(), READERS, "connections used: {used:?}");
    assert_eq!(readers.shared.peak.load(SeqCst), READERS);
}
