//! The batching of acks on PostgreSQL: who joins a batch, what each one is answered, a failed
//! or abandoned batch, and two nodes acking one group at once.
#![allow(clippy::unwrap_used, reason = "tests: a panic is a failure")]
use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use roam_conformance::fixtures::{chat, new_group, owed_texts, res, t, texts, to_target, uid};
use roam_domain::{
    conversation::Target,
    device::Device,
    id::MessageId,
    store::{DeliveryStore, GroupStore},
};

use crate::{Options, PgStore};

fn url() -> String {
    std::env::var("ROAM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh schema of this test's own, named as the conformance suite names its schemas (so a
/// run of it drops any left by a test that failed).
async fn fresh(test: &str) -> String {
    let schema = format!("roam_ct_{}_acks_{test}", std::process::id());
    let (c, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .unwrap();
    schema
}

async fn open(schema: &str, node: u16) -> Arc<PgStore> {
    Arc::new(
        PgStore::connect(
            &url(),
            Options {
                node,
                pool_size: 4,
                schema: Some(schema.to_owned()),
                claim_node: false,
            },
        )
        .await
        .unwrap(),
    )
}

async fn drop_schema(store: &PgStore, schema: &str) {
    let c = store.client().await.unwrap();
    c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

fn transactions(s: &PgStore) -> u64 {
    s.acks.transactions.load(Ordering::Relaxed)
}

/// Runs `acks` as tasks while the store's ack transaction is held, so that they all wait in
/// one batch; answers them in order, and how many batch transactions they took.
async fn in_one_batch(
    s: &Arc<PgStore>,
    acks: Vec<(Device, Target, MessageId)>,
) -> (
    Vec<Result<Option<u64>, roam_domain::store::StoreError>>,
    u64,
) {
    let before = transactions(s);
    let held = s.acks.flight.lock().await;
    let tasks: Vec<_> = acks
        .into_iter()
        .map(|(d, target, up_to)| {
            let s = s.clone();
            tokio::spawn(async move { s.ack_at(&d, &target, up_to).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(held);
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    (answers, transactions(s) - before)
}

/// Bob's devices r0.. and three messages amy sent him (their ids).
async fn bob_and_three(s: &PgStore, devices: usize) -> (Vec<Device>, Vec<MessageId>) {
    let mut ds = Vec::new();
    for i in 0..devices {
        ds.push(s.device(&uid("bob"), &res(&format!("r{i}"))).await.unwrap());
    }
    let mut ids = Vec::new();
    for n in 0..3 {
        let m = s.append(chat("amy", "a", "bob", &format!("m{n}")));
        ids.push(m.await.unwrap().id);
    }
    (ds, ids)
}

#[tokio::test]
async fn acks_waiting_together_take_one_transaction_and_each_gets_its_own_position() {
    let schema = fresh("together").await;
    let s = open(&schema, 1).await;
    let (devices, ids) = bob_and_three(&s, 20).await;
    let amy = t("amy");
    // Device i acks message i % 3; device 0 also acks m2 after m0 (the higher key wins).
    let mut acks: Vec<_> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| (d.clone(), amy.clone(), ids[i % 3]))
        .collect();
    acks.push((devices[0].clone(), amy.clone(), ids[2]));
    let (answers, batches) = in_one_batch(&s, acks).await;
    assert_eq!(batches, 1, "one transaction for all 21 acks");
    assert_eq!(answers[0].clone().unwrap(), Some(3), "merged with m2");
    assert_eq!(answers[20].clone().unwrap(), Some(3));
    for (i, a) in answers.iter().enumerate().take(20).skip(1) {
        assert_eq!(a.clone().unwrap(), Some(u64::try_from(i % 3).unwrap() + 1));
    }
    // The cursors are stored (a fresh store reads them).
    let again = open(&schema, 2).await;
    assert!(texts(&*again, &devices[0], "amy").await.is_empty());
    assert_eq!(texts(&*again, &devices[1], "amy").await, ["m2"]);
    assert_eq!(texts(&*again, &devices[3], "amy").await, ["m1", "m2"]);
    // A device of bob's that never acked starts past what any device acked (synced_seq).
    let late = again.device(&uid("bob"), &res("late")).await.unwrap();
    assert!(texts(&*again, &late, "amy").await.is_empty());
    drop_schema(&s, &schema).await;
}

#[tokio::test]
async fn two_acks_of_one_device_in_a_batch_keep_the_higher() {
    let schema = fresh("higher").await;
    let s = open(&schema, 1).await;
    let (devices, ids) = bob_and_three(&s, 1).await;
    let (d, amy) = (devices[0].clone(), t("amy"));
    let (answers, batches) = in_one_batch(
        &s,
        vec![
            (d.clone(), amy.clone(), ids[1]),
            (d.clone(), amy.clone(), ids[0]),
        ],
    )
    .await;
    assert_eq!(batches, 1);
    for a in answers {
        assert_eq!(a.unwrap(), Some(2));
    }
    assert_eq!(texts(&*s, &d, "amy").await, ["m2"]);
    drop_schema(&s, &schema).await;
}

/// The answers of `ack_at` as before batching: no side → None; nothing to ack and no cursor →
/// None; a position never moves back; a forged huge key clamps to what exists. In one batch
/// too, next to acks that move.
#[tokio::test]
async fn acks_answer_as_one_at_a_time() {
    let schema = fresh("answers").await;
    let s = open(&schema, 1).await;
    let (devices, ids) = bob_and_three(&s, 3).await;
    let (d, amy) = (devices[0].clone(), t("amy"));
    assert_eq!(s.ack_at(&d, &t("carol"), ids[2]).await.unwrap(), None);
    assert_eq!(s.ack_at(&d, &amy, MessageId(0)).await.unwrap(), None);
    assert_eq!(s.ack_at(&d, &amy, ids[1]).await.unwrap(), Some(2));
    assert_eq!(
        s.ack_at(&d, &amy, ids[0]).await.unwrap(),
        Some(2),
        "not back"
    );
    assert_eq!(s.ack_at(&d, &amy, MessageId(0)).await.unwrap(), Some(2));
    let forged = MessageId(u64::MAX);
    assert_eq!(s.ack_at(&d, &amy, forged).await.unwrap(), Some(3));

    let (answers, batches) = in_one_batch(
        &s,
        vec![
            (devices[1].clone(), t("carol"), ids[2]),
            (devices[1].clone(), amy.clone(), MessageId(0)),
            (devices[2].clone(), amy.clone(), forged),
            (d.clone(), amy.clone(), ids[0]),
        ],
    )
    .await;
    assert_eq!(batches, 1);
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    assert_eq!(answers, [None, None, Some(3), Some(3)]);
    drop_schema(&s, &schema).await;
}

#[tokio::test]
async fn a_failed_batch_answers_everyone_with_its_error() {
    let schema = fresh("failed").await;
    let s = open(&schema, 1).await;
    let (devices, ids) = bob_and_three(&s, 5).await;
    let c = s.client().await.unwrap();
    c.batch_execute("ALTER TABLE device_cursors RENAME TO gone")
        .await
        .unwrap();
    let acks = devices.iter().map(|d| (d.clone(), t("amy"), ids[2]));
    let (answers, batches) = in_one_batch(&s, acks.collect()).await;
    assert_eq!(batches, 1);
    for a in answers {
        assert!(a.is_err(), "{a:?}");
    }
    c.batch_execute("ALTER TABLE gone RENAME TO device_cursors")
        .await
        .unwrap();
    assert_eq!(
        s.ack_at(&devices[0], &t("amy"), ids[2]).await.unwrap(),
        Some(3)
    );
    drop_schema(&s, &schema).await;
}

#[tokio::test]
async fn a_follower_of_a_leader_that_went_away_acks_on_its_own() {
    let schema = fresh("abandoned").await;
    let s = open(&schema, 1).await;
    let (devices, ids) = bob_and_three(&s, 2).await;
    let amy = t("amy");
    let held = s.acks.flight.lock().await;
    let leader = tokio::time::timeout(
        Duration::from_millis(50),
        s.ack_at(&devices[0], &amy, ids[0]),
    );
    let follower = async {
        // The leader has opened its batch by now (join! polls in order).
        tokio::task::yield_now().await;
        s.ack_at(&devices[1], &amy, ids[0]).await
    };
    let release = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(held);
    };
    let (led, followed, ()) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(leader, follower, release)
    })
    .await
    .expect("the follower is answered");
    assert!(led.is_err(), "the leader was dropped before its turn");
    assert_eq!(followed.unwrap(), Some(1));
    assert_eq!(texts(&*s, &devices[1], "amy").await, ["m1", "m2"]);
    assert_eq!(texts(&*s, &devices[0], "amy").await, ["m0", "m1", "m2"]);
    drop_schema(&s, &schema).await;
}

/// Two nodes acking every member's devices of one group at once, in opposite orders, while
/// messages arrive: every ack is answered, and each cursor ends at the last message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_acking_one_group_at_once() {
    let schema = fresh("nodes").await;
    let (a, b) = (open(&schema, 1).await, open(&schema, 2).await);
    let names: Vec<String> = (0..12).map(|i| format!("u{i:02}")).collect();
    let members: Vec<&str> = names.iter().map(String::as_str).collect();
    a.create_group(new_group("g1", "owner", &members, 100))
        .await
        .unwrap();
    let group = Target::Group(roam_conformance::fixtures::gid("g1"));
    let mut devices = Vec::new();
    for n in &names {
        for r in ["x", "y"] {
            devices.push(a.device(&uid(n), &res(r)).await.unwrap());
        }
    }
    for round in 0..6 {
        let sent = a.append(to_target("owner", "d", group.clone(), &format!("m{round}")));
        let sent = sent.await.unwrap();
        let (last, seq) = (sent.id, sent.seq);
        let mut tasks = Vec::new();
        for (i, d) in devices.iter().enumerate() {
            for (s, d) in [
                (a.clone(), d.clone()),
                (b.clone(), devices[devices.len() - 1 - i].clone()),
            ] {
                let g = group.clone();
                tasks.push(tokio::spawn(async move { s.ack_at(&d, &g, last).await }));
            }
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), Some(seq));
        }
    }
    for d in &devices {
        assert!(owed_texts(&*a, d, &group).await.is_empty());
    }
    drop_schema(&a, &schema).await;
}
