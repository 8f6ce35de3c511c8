//! The storage conformance suite against the PostgreSQL engine, and the checks only a
//! multi-writer engine needs. Each test gets a fresh schema in the database named by
//! `ROAM_TEST_DATABASE_URL` (default: the local server's `test` database), dropped when the
//! run ends (and any left by an earlier, interrupted run, at the start).
//! `cargo test -p roam-storage-postgres --test conformance -- FILTER`.
#![allow(
    clippy::unwrap_used,
    reason = "a test suite: a panic is a failed test with its location"
)]
use std::{
    process::ExitCode,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use roam_conformance::{Engine, Trial, async_trial, fixtures::*, prelude::*};
use roam_storage_postgres::{Options, PgStore};

/// Every schema this suite makes starts so, followed by the process id: a run drops its own
/// at the end and those of runs that no longer exist at the start.
const PREFIX: &str = "roam_ct_";

fn url() -> String {
    std::env::var("ROAM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(drop_schemas(|pid| {
        pid == std::process::id() || !std::path::Path::new(&format!("/proc/{pid}")).exists()
    }));
    let code = roam_conformance::run_with(PgEngine::default(), postgres_only());
    runtime.block_on(drop_schemas(|pid| pid == std::process::id()));
    code
}

/// Drops the suite's schemas whose process `doomed` says is done with them.
async fn drop_schemas(doomed: impl Fn(u32) -> bool) {
    let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .expect("the test database (ROAM_TEST_DATABASE_URL) answers");
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
            &[&format!("{PREFIX}%")],
        )
        .await
        .unwrap();
    for row in rows {
        let name: String = row.get(0);
        let pid = name[PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(&doomed) {
            client
                .batch_execute(&format!("DROP SCHEMA {name} CASCADE"))
                .await
                .unwrap();
        }
    }
}

/// Each test's store in a schema of its own.
#[derive(Default)]
struct PgEngine {
    next: AtomicU64,
}

impl Engine for PgEngine {
    type Place = String;

    async fn place(&self) -> Result<String, StoreError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Ok(format!("{PREFIX}{}_{n}", std::process::id()))
    }

    async fn open(&self, schema: &String) -> Result<Arc<dyn Store>, StoreError> {
        Ok(Arc::new(
            PgStore::connect(
                &url(),
                Options {
                    pool_size: 4,
                    schema: Some(schema.clone()),
                    // Restart tests open the place again right after dropping the store,
                    // racing the old claim's connection closing: claims are checked in
                    // `postgres::a_node_id_is_claimed_while_its_store_lives`.
                    claim_node: false,
                    ..Options::default()
                },
            )
            .await?,
        ))
    }
}

fn postgres_only() -> Vec<Trial> {
    vec![
        async_trial(
            "postgres::two_nodes_appending_at_once_keep_seqs_gap_free_and_ids_in_order",
            two_nodes_appending_at_once_keep_seqs_gap_free_and_ids_in_order,
        ),
        async_trial(
            "postgres::group_changes_acks_and_messages_at_once_on_two_nodes",
            group_changes_acks_and_messages_at_once_on_two_nodes,
        ),
        async_trial(
            "postgres::a_resend_racing_itself_on_two_nodes_is_stored_once",
            a_resend_racing_itself_on_two_nodes_is_stored_once,
        ),
        async_trial(
            "postgres::a_node_id_is_claimed_while_its_store_lives",
            a_node_id_is_claimed_while_its_store_lives,
        ),
        async_trial(
            "postgres::a_group_message_is_one_row_whatever_the_group_size",
            a_group_message_is_one_row_whatever_the_group_size,
        ),
    ]
}

/// A schema of its own for a PostgreSQL-only trial (dropped with the suite's others).
fn own_schema(name: &str) -> String {
    format!("{PREFIX}{}_{name}", std::process::id())
}

async fn open(schema: &str, node: u16, claim_node: bool) -> Result<PgStore, StoreError> {
    PgStore::connect(
        &url(),
        Options {
            node,
            pool_size: 8,
            schema: Some(schema.to_owned()),
            claim_node,
        },
    )
    .await
}

/// A plain connection to the test database, in `schema`.
async fn sql(schema: &str) -> tokio_postgres::Client {
    let mut config: tokio_postgres::Config = url().parse().unwrap();
    config.options(format!("-c search_path={schema}"));
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Several roamd nodes share one database: four writers on two stores of different nodes
/// append to one single chat and one group at once. Each conversation's seqs are then exactly
/// 1..=N, its ids increase with the seq, and every append is stored once, as answered.
async fn two_nodes_appending_at_once_keep_seqs_gap_free_and_ids_in_order() {
    const TASKS: usize = 4;
    const EACH: usize = 200;
    let schema = own_schema("two_nodes");
    let nodes = [
        Arc::new(open(&schema, 1, true).await.unwrap()),
        Arc::new(open(&schema, 2, true).await.unwrap()),
    ];
    nodes[0]
        .create_group(new_group("g", "alice", &["bob"], 10))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let s = nodes[task % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut answered = Vec::new();
            for i in 0..EACH {
                let mut single = chat("alice", &format!("r{task}"), "bob", &format!("{task}.{i}"));
                // Half with client ids (the resend path), half without.
                if i % 2 == 0 {
                    single.client_id = Some(u64::try_from(i).unwrap());
                }
                let single = s.append(single).await.unwrap();
                let group = s
                    .append(to_target(
                        "bob",
                        &format!("r{task}"),
                        Target::Group(gid("g")),
                        &format!("{task}.{i}"),
                    ))
                    .await
                    .unwrap();
                answered.push((single, group));
            }
            answered
        }));
    }
    let (mut singles, mut groups) = (Vec::new(), Vec::new());
    let mut first_of_r0 = None;
    for task in tasks {
        for (single, group) in task.await.unwrap() {
            if single.from_resource == res("r0") && single.payload == "0.0" {
                first_of_r0 = Some(single.clone());
            }
            singles.push((single.seq, single.id.0));
            groups.push((group.seq, group.id.0));
        }
    }
    let c = sql(&schema).await;
    for (key, mut answered) in [("c:alice:bob", singles), ("g:g", groups)] {
        answered.sort_unstable();
        let stored: Vec<(u64, u64)> = c
            .query(
                "SELECT m.seq, m.id FROM messages m JOIN conversations cv ON cv.id = m.conv_id \
                 WHERE cv.key = $1 ORDER BY m.seq",
                &[&key],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    u64::try_from(r.get::<_, i64>(0)).unwrap(),
                    u64::try_from(r.get::<_, i64>(1)).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            stored, answered,
            "{key}: every append stored once, as answered"
        );
        let seqs: Vec<u64> = stored.iter().map(|(seq, _)| *seq).collect();
        let n = u64::try_from(TASKS * EACH).unwrap();
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "{key}: gap-free");
        assert!(
            stored.windows(2).all(|w| w[0].1 < w[1].1),
            "{key}: ids increase with the seq"
        );
        let nodes: std::collections::BTreeSet<u16> =
            stored.iter().map(|(_, id)| MessageId(*id).node()).collect();
        assert_eq!(nodes.len(), 2, "{key}: both nodes wrote");
        let last = c
            .query_one(
                "SELECT last_seq, last_id FROM conversations WHERE key = $1",
                &[&key],
            )
            .await
            .unwrap();
        let last = (
            u64::try_from(last.get::<_, i64>(0)).unwrap(),
            u64::try_from(last.get::<_, i64>(1)).unwrap(),
        );
        assert_eq!(
            Some(&last),
            stored.last(),
            "{key}: the row's last seq and id"
        );
    }
    // A resend of a stored message through the other node answers the stored one.
    let mut again = chat("alice", "r0", "bob", "0.0");
    again.client_id = Some(0);
    let first = nodes[1].append(again.clone()).await.unwrap();
    let second = nodes[0].append(again).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(Some(first), first_of_r0, "r0's first message, stored once");
}

/// Members joining and leaving (with events to the group and to their own logs), group read
/// acks (to the sender's log, moving their side of the group) and group messages, all at
/// once on two nodes: they take their locks in one order (the conversation's row first), so
/// none fails, and the group's seqs stay gap-free.
async fn group_changes_acks_and_messages_at_once_on_two_nodes() {
    const EACH: usize = 60;
    let schema = own_schema("group_churn");
    let nodes = [
        Arc::new(open(&schema, 1, true).await.unwrap()),
        Arc::new(open(&schema, 2, true).await.unwrap()),
    ];
    nodes[0]
        .create_group(new_group("g", "alice", &["bob", "carol"], 100))
        .await
        .unwrap();
    let g = Target::Group(gid("g"));
    let event = |user: &UserId, to: Target| NewMessage {
        kind: MessageKind::GroupEvent,
        activity: false,
        ..to_target(user.as_str(), "server", to, "event")
    };
    let mut tasks = Vec::new();
    for (n, who) in ["alice", "bob", "carol"].into_iter().enumerate() {
        let (s, g) = (nodes[n % 2].clone(), g.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                s.append(to_target(who, "d", g.clone(), &format!("{who} {i}")))
                    .await
                    .unwrap();
                let ack = NewMessage {
                    kind: MessageKind::ChannelAck,
                    activity: false,
                    ..to_target(who, "d", g.clone(), "")
                };
                s.append(ack).await.unwrap();
            }
        }));
    }
    for (n, s) in nodes.iter().enumerate() {
        let (s, g) = (s.clone(), g.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                let users = vec![uid(&format!("x{n}_{}", i % 3)), uid("bob")];
                let events: Events<Vec<UserId>> = {
                    let g = g.clone();
                    Box::new(move |changed: &Vec<UserId>| {
                        changed
                            .iter()
                            .flat_map(|u| [event(u, g.clone()), event(u, Target::System)])
                            .collect()
                    })
                };
                let added = s
                    .add_members(&gid("g"), users.clone(), events)
                    .await
                    .unwrap();
                assert_eq!(added.value.len(), 1, "bob is a member already");
                let events: Events<Vec<UserId>> = {
                    let g = g.clone();
                    Box::new(move |changed: &Vec<UserId>| {
                        changed
                            .iter()
                            .flat_map(|u| [event(u, g.clone()), event(u, Target::System)])
                            .collect()
                    })
                };
                let removed = s
                    .remove_members(&gid("g"), users[..1].to_vec(), events)
                    .await
                    .unwrap();
                assert_eq!(removed.value.len(), 1);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let c = sql(&schema).await;
    let seqs: Vec<i64> = c
        .query(
            "SELECT m.seq FROM messages m JOIN conversations cv ON cv.id = m.conv_id \
             WHERE cv.key = 'g:g' ORDER BY m.seq",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    // Three senders' messages, and one event per member added or removed.
    let n = i64::try_from(3 * EACH + 2 * 2 * EACH).unwrap();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>());
    assert_eq!(
        nodes[1].member_ids(&gid("g")).await.unwrap(),
        vec![uid("alice"), uid("bob"), uid("carol")]
    );
}

/// The same send (device and client id) arriving on two nodes at once, several times over:
/// stored once, every append answered with the stored message.
async fn a_resend_racing_itself_on_two_nodes_is_stored_once() {
    let schema = own_schema("resend_race");
    let nodes = [
        Arc::new(open(&schema, 1, true).await.unwrap()),
        Arc::new(open(&schema, 2, true).await.unwrap()),
    ];
    for round in 0..20_u64 {
        let mut m = chat("alice", "phone", "bob", &format!("once {round}"));
        m.client_id = Some(1000 + round);
        let racers: Vec<_> = (0..6)
            .map(|i| {
                let (s, m) = (nodes[i % 2].clone(), m.clone());
                tokio::spawn(async move { s.append(m).await.unwrap() })
            })
            .collect();
        let mut answers = Vec::new();
        for r in racers {
            answers.push(r.await.unwrap());
        }
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
        assert_eq!(answers[0].seq, round + 1, "no seq taken by the losers");
    }
    let c = sql(&schema).await;
    let n: i64 = c
        .query_one("SELECT COUNT(*) FROM messages", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 20);
}

/// A second store with a node id in use on the same schema is refused, naming the node id;
/// once the first store is gone, the node id is free again.
async fn a_node_id_is_claimed_while_its_store_lives() {
    let schema = own_schema("claim");
    let first = open(&schema, 7, true).await.unwrap();
    let Err(refused) = open(&schema, 7, true).await else {
        panic!("a second store of node 7 opened beside the first");
    };
    assert!(refused.to_string().contains("node id 7"), "{refused}");
    // Another node id opens beside it.
    let other = open(&schema, 8, true).await.unwrap();
    drop(first);
    // The claim ends when its connection closes, which the server sees a moment later.
    let mut tries = 0;
    let reopened = loop {
        match open(&schema, 7, true).await {
            Ok(s) => break s,
            Err(e) if tries < 50 => {
                tries += 1;
                assert!(e.to_string().contains("node id 7"), "{e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("node 7 still claimed after its store was dropped: {e}"),
        }
    };
    send(&reopened, "alice", "r", "bob", "hi").await;
    send(&other, "bob", "r", "alice", "hi").await;
}

/// As in the SQLite engine: a group message is one row, nothing per member.
async fn a_group_message_is_one_row_whatever_the_group_size() {
    let schema = own_schema("big_group");
    let s = open(&schema, 0, false).await.unwrap();
    let members: Vec<String> = (0..2000).map(|i| format!("u{i}")).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    s.create_group(new_group("big", "owner", &refs, 5000))
        .await
        .unwrap();
    let c = sql(&schema).await;
    let count = async || -> i64 {
        c.query_one(
            "SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM user_conversations) \
             + (SELECT COUNT(*) FROM conversations) + (SELECT COUNT(*) FROM device_cursors)",
            &[],
        )
        .await
        .unwrap()
        .get(0)
    };
    let before = count().await;
    group_send(&s, "owner", "big", "hello everyone").await;
    let after = count().await;
    assert_eq!(after - before, 1, "one message row, nothing per member");
    let d = s.device(&uid("u1999"), &res("x")).await.unwrap();
    assert_eq!(
        s.pending(&d).await.unwrap(),
        vec![PendingQueue {
            target: Target::Group(gid("big")),
            count: 1
        }]
    );
}
