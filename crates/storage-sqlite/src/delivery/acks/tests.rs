use std::{sync::Arc, time::Duration};

use roam_conformance::fixtures::{chat, new_user, res, t, texts};
use roam_domain::store::{DeliveryStore, UserStore};

use crate::{Options, SqliteStore};

async fn store(dir: &tempfile::TempDir) -> Arc<SqliteStore> {
    let s = SqliteStore::open(&dir.path().join("roam.db"), Options::default()).unwrap();
    s.insert_users(vec![new_user("amy"), new_user("bob")])
        .await
        .unwrap();
    Arc::new(s)
}

/// Writer jobs run so far.
fn jobs(s: &SqliteStore) -> f64 {
    s.writer_stats().batch_size().sum
}

/// Keeps the writer busy for `d` (the next jobs queue behind it); resolves once it has begun.
async fn hold_writer(s: &Arc<SqliteStore>, d: Duration) -> tokio::task::JoinHandle<()> {
    let (began, started) = tokio::sync::oneshot::channel();
    let s2 = s.clone();
    let task = tokio::spawn(async move {
        s2.writer
            .write(move |_, _| {
                let _ = began.send(());
                std::thread::sleep(d);
                Ok(())
            })
            .await
            .unwrap();
    });
    started.await.unwrap();
    task
}

#[tokio::test]
async fn acks_waiting_together_take_one_writer_job_and_each_gets_its_durable_position() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir).await;
    let mut devices = Vec::new();
    for i in 0..20 {
        devices.push(
            s.device(&new_user("bob").id, &res(&format!("r{i}")))
                .await
                .unwrap(),
        );
    }
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(
            s.append(chat("amy", "a", "bob", &format!("m{n}")))
                .await
                .unwrap()
                .id,
        );
    }
    let before = jobs(&s);
    let amy = t("amy");
    let held = hold_writer(&s, Duration::from_millis(300)).await;
    // Device r0 acks twice in the batch (m1, then m2): the higher key wins. The others ack m0.
    let acks = devices.iter().enumerate().map(|(i, d)| {
        let up_to = if i == 0 { ids[1] } else { ids[0] };
        s.ack_at(d, &amy, up_to)
    });
    let again = s.ack_at(&devices[0], &amy, ids[2]);
    let (answers, again) = tokio::join!(futures_join(acks), again);
    held.await.unwrap();
    assert_eq!(again.unwrap(), Some(3));
    assert_eq!(
        answers[0].clone().unwrap(),
        Some(3),
        "merged with the higher key"
    );
    for a in &answers[1..] {
        assert_eq!(a.clone().unwrap(), Some(1));
    }
    assert_eq!(
        jobs(&s) - before,
        2.0,
        "the held job and one job for all 21 acks"
    );

    // Durable: a reopened store has every cursor.
    drop(s);
    let s = SqliteStore::open(&dir.path().join("roam.db"), Options::default()).unwrap();
    assert!(texts(&s, &devices[0], "amy").await.is_empty());
    for d in &devices[1..] {
        assert_eq!(texts(&s, d, "amy").await, ["m1", "m2"]);
    }
}

#[tokio::test]
async fn a_follower_of_a_leader_that_went_away_acks_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir).await;
    let bob = new_user("bob").id;
    let (d1, d2) = (
        s.device(&bob, &res("one")).await.unwrap(),
        s.device(&bob, &res("two")).await.unwrap(),
    );
    let id = s.append(chat("amy", "a", "bob", "m0")).await.unwrap().id;
    let held = hold_writer(&s, Duration::from_millis(300)).await;
    let amy = t("amy");
    let leader = tokio::time::timeout(Duration::from_millis(50), s.ack_at(&d1, &amy, id));
    let follower = async {
        // The leader has opened its batch by now (join! polls in order).
        tokio::task::yield_now().await;
        s.ack_at(&d2, &amy, id).await
    };
    let (led, followed) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(leader, follower)
    })
    .await
    .expect("the follower is answered");
    assert!(led.is_err(), "the leader was dropped before the writer ran");
    assert_eq!(followed.unwrap(), Some(1));
    held.await.unwrap();
    assert!(
        texts(&*s, &d2, "amy").await.is_empty(),
        "the follower's ack is stored"
    );
    assert_eq!(
        texts(&*s, &d1, "amy").await,
        ["m0"],
        "a dropped ack at worst delivers again"
    );
}

/// Polls all the futures together (as `join_all` would), answering in order.
async fn futures_join<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = fs.map(Box::pin).collect();
    let mut outs: Vec<Option<F::Output>> = handles.iter().map(|_| None).collect();
    let mut handles: Vec<_> = handles.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (h, out) in handles.iter_mut().zip(outs.iter_mut()) {
            if let Some(f) = h {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *out = Some(v);
                        *h = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outs.into_iter()
        .map(|o| o.expect("polled to the end"))
        .collect()
}
