//! The writer on its own, against a scratch table: batches, failing jobs, back-pressure.
use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use roam_domain::{id::IdGenerator, store::StoreError};
use rusqlite::Connection;
use tempfile::TempDir;
use tokio::task::JoinHandle;

use super::Writer;
use crate::{rows::engine, writer_stats::WriterStats};

type Answer = JoinHandle<Result<(), StoreError>>;

fn start(dir: &TempDir, capacity: usize) -> (Arc<Writer>, PathBuf, Arc<WriterStats>) {
    let path = dir.path().join("writer.db");
    let conn = Connection::open(&path).expect("open");
    conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (n INTEGER PRIMARY KEY);")
        .expect("schema");
    let stats = Arc::new(WriterStats::default());
    let writer = Writer::with_queue(conn, IdGenerator::new(0), stats.clone(), capacity);
    (Arc::new(writer), path, stats)
}

/// What is committed in `t`, as another connection sees it.
fn rows(path: &Path) -> Vec<i64> {
    let c = Connection::open(path).expect("open");
    let mut st = c.prepare("SELECT n FROM t ORDER BY n").expect("prepare");
    st.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn insert(c: &Connection, n: i64) -> Result<(), StoreError> {
    c.execute("INSERT INTO t (n) VALUES (?1)", [n])
        .map(|_| ())
        .map_err(engine)
}

/// Queues a job that inserts `n`, then fails if `fail`; waits until it is queued.
async fn queue(writer: &Arc<Writer>, n: i64, fail: bool) -> Answer {
    let before = writer.queue.len();
    let w = writer.clone();
    let answer = tokio::spawn(async move {
        w.write(move |c, _| {
            insert(c, n)?;
            if fail {
                return Err(StoreError::Engine(format!("job {n} refused")));
            }
            Ok(())
        })
        .await
    });
    wait_for(|| writer.queue.len() > before).await;
    answer
}

async fn wait_for(done: impl Fn() -> bool) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while !done() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("in time");
}

/// Keeps the writer thread busy in a job until the returned sender is used or dropped, so that
/// the jobs queued meanwhile make one batch.
async fn hold(writer: &Arc<Writer>) -> (std::sync::mpsc::Sender<()>, Answer) {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (inside, entered) = tokio::sync::oneshot::channel::<()>();
    let w = writer.clone();
    let answer = tokio::spawn(async move {
        w.write(move |_, _| {
            let _ = inside.send(());
            let _ = released.recv();
            Ok(())
        })
        .await
    });
    entered.await.expect("the writer runs the holding job");
    (release, answer)
}

async fn answer(a: Answer) -> Result<(), StoreError> {
    tokio::time::timeout(Duration::from_secs(10), a)
        .await
        .expect("answered in time")
        .expect("task")
}

#[tokio::test]
async fn a_failing_job_in_a_batch_rolls_back_alone() {
    let dir = TempDir::new().expect("tempdir");
    let (writer, path, stats) = start(&dir, 16);
    let (release, held) = hold(&writer).await;
    let a = queue(&writer, 1, false).await;
    let b = queue(&writer, 2, true).await;
    let c = queue(&writer, 3, false).await;
    drop(release);
    answer(held).await.expect("the holding job");
    answer(a).await.expect("job 1 commits");
    let refused = answer(b).await.expect_err("job 2 fails");
    assert!(refused.to_string().contains("job 2 refused"), "{refused}");
    answer(c).await.expect("job 3 commits");
    assert_eq!(rows(&path), [1, 3]);
    // The holding job alone, then the three in one transaction.
    let batches = stats.batch_size();
    assert_eq!((batches.count, batches.sum), (2, 4.0));
}

#[tokio::test]
async fn a_failing_first_job_rolls_back_alone() {
    let dir = TempDir::new().expect("tempdir");
    let (writer, path, stats) = start(&dir, 16);
    let (release, held) = hold(&writer).await;
    // First in its batch, so it runs without a savepoint.
    let a = queue(&writer, 1, true).await;
    let b = queue(&writer, 2, false).await;
    let c = queue(&writer, 3, true).await;
    let d = queue(&writer, 4, false).await;
    drop(release);
    answer(held).await.expect("the holding job");
    answer(a).await.expect_err("job 1 fails");
    answer(b).await.expect("job 2 commits");
    answer(c).await.expect_err("job 3 fails");
    answer(d).await.expect("job 4 commits");
    assert_eq!(rows(&path), [2, 4]);
    assert_eq!(stats.batch_size().sum, 5.0);

    // Alone in its batch, failing; the writer goes on.
    let alone = |n: i64, fail: bool| {
        writer.write(move |c, _| {
            insert(c, n)?;
            if fail {
                return Err(StoreError::Engine(format!("job {n} refused")));
            }
            Ok(())
        })
    };
    alone(5, true).await.expect_err("job 5 fails");
    alone(6, false).await.expect("job 6 commits");
    assert_eq!(rows(&path), [2, 4, 6]);
}

#[tokio::test]
async fn a_full_queue_makes_callers_wait_without_blocking_the_runtime() {
    let dir = TempDir::new().expect("tempdir");
    let (writer, path, _) = start(&dir, 2);
    let (release, held) = hold(&writer).await;
    let a = queue(&writer, 1, false).await;
    let b = queue(&writer, 2, false).await;
    let w = writer.clone();
    let c = tokio::spawn(async move { w.write(|conn, _| insert(conn, 3)).await });
    // This runtime has one thread: these sleeps run only if the third caller waits for room
    // asynchronously.
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(writer.queue.len(), 2, "the third job waits for room");
    assert!(!c.is_finished());
    drop(release);
    answer(held).await.expect("the holding job");
    for job in [a, b, c] {
        answer(job).await.expect("commits once there is room");
    }
    assert_eq!(rows(&path), [1, 2, 3]);
}

#[tokio::test]
async fn a_panicking_job_stops_the_writer_without_leaving_callers_waiting() {
    let dir = TempDir::new().expect("tempdir");
    let (writer, path, _) = start(&dir, 16);
    let (release, held) = hold(&writer).await;
    let w = writer.clone();
    let panics = tokio::spawn(async move {
        w.write(|_, _| -> Result<(), StoreError> { panic!("a bug in a job") })
            .await
    });
    wait_for(|| writer.queue.len() == 1).await;
    let behind = queue(&writer, 1, false).await;
    drop(release);
    answer(held).await.expect("the holding job");
    answer(panics).await.expect_err("the writer stopped");
    answer(behind).await.expect_err("the writer stopped");
    answer(queue_after_stop(&writer).await)
        .await
        .expect_err("no writer");
    assert!(rows(&path).is_empty());
}

async fn queue_after_stop(writer: &Arc<Writer>) -> Answer {
    let w = writer.clone();
    tokio::spawn(async move { w.write(|c, _| insert(c, 2)).await })
}
