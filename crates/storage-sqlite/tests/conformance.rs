//! The storage conformance suite against the SQLite engine, and the checks only SQLite has
//! (its tables, its schema upgrades). `cargo test -p roam-storage-sqlite --test conformance --
//! FILTER` runs the tests whose name contains FILTER (`history`, `ids::`, `sqlite::`, …).
#![allow(
    clippy::unwrap_used,
    reason = "a test suite: a panic is a failed test with its location"
)]
use std::{process::ExitCode, sync::Arc};

use roam_conformance::{Engine, Trial, async_trial, fixtures::*, prelude::*};
use roam_storage_sqlite::{Options, SqliteStore, Synchronous};
use tempfile::TempDir;

fn main() -> ExitCode {
    roam_conformance::run_with(SqliteEngine, sqlite_only())
}

/// Each test's store in a temporary directory of its own.
struct SqliteEngine;

/// `synchronous = NORMAL`: what the suite checks does not depend on fsync, and it runs faster.
fn options() -> Options {
    Options {
        synchronous: Synchronous::Normal,
        node: 0,
    }
}

fn db(dir: &TempDir) -> std::path::PathBuf {
    dir.path().join("roam.db")
}

impl Engine for SqliteEngine {
    type Place = TempDir;

    async fn place(&self) -> Result<TempDir, StoreError> {
        tempfile::tempdir().map_err(|e| StoreError::Engine(e.to_string()))
    }

    async fn open(&self, dir: &TempDir) -> Result<Arc<dyn Store>, StoreError> {
        Ok(Arc::new(SqliteStore::open(&db(dir), options())?))
    }
}

fn sqlite_only() -> Vec<Trial> {
    vec![
        async_trial(
            "sqlite::a_group_message_is_one_row_whatever_the_group_size",
            a_group_message_is_one_row_whatever_the_group_size,
        ),
        async_trial(
            "sqlite::the_list_order_survives_the_upgrade_that_indexes_it",
            the_list_order_survives_the_upgrade_that_indexes_it,
        ),
        async_trial(
            "sqlite::the_list_sql_floors_ids_as_the_domain_does",
            the_list_sql_floors_ids_as_the_domain_does,
        ),
    ]
}

async fn a_group_message_is_one_row_whatever_the_group_size() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&db(&dir), Options::default()).unwrap();
    let members: Vec<String> = (0..2000).map(|i| format!("u{i}")).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    s.create_group(new_group("big", "owner", &refs, 5000))
        .await
        .unwrap();
    let rows = || {
        let c = rusqlite::Connection::open(db(&dir)).unwrap();
        c.query_row("SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM user_conversations) + (SELECT COUNT(*) FROM conversations) + (SELECT COUNT(*) FROM device_cursors)", [], |r| r.get::<_, i64>(0)).unwrap()
    };
    let before = rows();
    group_send(&s, "owner", "big", "hello everyone").await;
    let after = rows();
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

async fn the_list_order_survives_the_upgrade_that_indexes_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&db(&dir), Options::default()).unwrap();
    for (from, to) in [
        ("bob", "alice"),
        ("carol", "alice"),
        ("alice", "dave"),
        ("bob", "alice"),
    ] {
        send(&s, from, "r", to, "x").await;
    }
    let m = s.append(chat("erin", "r", "alice", "gone")).await.unwrap();
    s.remove_messages(
        &uid("alice"),
        &t("erin"),
        Removal::Ids(vec![m.id]),
        no_events(),
    )
    .await
    .unwrap();
    let query = ListQuery {
        filter: ListFilter::All {
            include_empty: true,
        },
        limit: PageSize::parse(50).unwrap(),
        after: None,
    };
    let before = s.conversations(&uid("alice"), &query).await.unwrap();
    drop(s);
    // Back to schema version 3, then open: the upgrade computes every list position again.
    let c = rusqlite::Connection::open(db(&dir)).unwrap();
    c.execute_batch(
        "DROP INDEX user_conversations_list; DROP INDEX user_conversations_pinned; \
         ALTER TABLE user_conversations DROP COLUMN sort_key; \
         ALTER TABLE user_conversations DROP COLUMN vis_id; \
         ALTER TABLE conversations DROP COLUMN last_chat_id; PRAGMA user_version = 3;",
    )
    .unwrap();
    drop(c);
    let s = SqliteStore::open(&db(&dir), Options::default()).unwrap();
    let after = s.conversations(&uid("alice"), &query).await.unwrap();
    assert_eq!(after, before);
    assert_eq!(after.items.len(), 4);
}

/// The list's SQL (`roaming`, `schema_v4.sql`) places a side with nothing visible at the first
/// id of the ms it began, with the SQL function `roam_id_floor` the engine registers, not the
/// id layout written out in SQL. Checks that what it stores is [`MessageId::floor_at`], when a
/// write computes it and when the upgrade to schema version 4 does, also for times the id
/// layout clamps (before its epoch, past its end).
async fn the_list_sql_floors_ids_as_the_domain_does() {
    let dir = tempfile::tempdir().unwrap();
    let peers = ["p0", "p1", "p2", "p3", "p4"];
    let s = SqliteStore::open(&db(&dir), Options::default()).unwrap();
    for peer in peers {
        send(&s, peer, "r", "alice", "x").await;
        let deleted = s
            .delete_conversation(&uid("alice"), &t(peer), true, no_events())
            .await
            .unwrap();
        assert!(deleted.value);
    }
    drop(s);
    // alice's sides, as (peer, created_ms, sort_key): all placed by `roam_id_floor`.
    let sides = || {
        let c = rusqlite::Connection::open(db(&dir)).unwrap();
        let mut q = c
            .prepare(
                "SELECT uc.target, uc.created_ms, uc.sort_key FROM user_conversations uc \
                 JOIN conversations cv ON cv.id = uc.conv_id \
                 WHERE uc.user_id = 'alice' AND uc.kind = 0 \
                 AND uc.vis_seq = 0 AND cv.last_chat_seq <= uc.hidden_to ORDER BY uc.target",
            )
            .unwrap();
        q.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u64>(1)?,
                r.get::<_, u64>(2)?,
            ))
        })
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
    };
    let check = |sides: Vec<(String, u64, u64)>| {
        assert_eq!(sides.len(), peers.len(), "{sides:?}");
        for (peer, created_ms, sort_key) in sides {
            assert_eq!(
                sort_key,
                MessageId::floor_at(created_ms).0,
                "{peer} began at {created_ms}"
            );
        }
    };
    check(sides());
    // Sides begun at the edges of the id layout, then back to schema version 3 and open: the
    // upgrade places every side again.
    let c = rusqlite::Connection::open(db(&dir)).unwrap();
    let edges = [
        0,
        MessageId::EPOCH_MS - 1,
        MessageId::EPOCH_MS + 1,
        1_800_000_000_123,
        MessageId::LAST_MS + 5,
    ];
    for (peer, ms) in peers.iter().zip(edges) {
        c.execute(
            "UPDATE user_conversations SET created_ms = ?1 WHERE user_id = 'alice' AND target = ?2",
            rusqlite::params![ms, t(peer).encode()],
        )
        .unwrap();
    }
    c.execute_batch(
        "DROP INDEX user_conversations_list; DROP INDEX user_conversations_pinned; \
         ALTER TABLE user_conversations DROP COLUMN sort_key; \
         ALTER TABLE user_conversations DROP COLUMN vis_id; \
         ALTER TABLE conversations DROP COLUMN last_chat_id; PRAGMA user_version = 3;",
    )
    .unwrap();
    drop(c);
    drop(SqliteStore::open(&db(&dir), Options::default()).unwrap());
    let upgraded = sides();
    let mut began: Vec<u64> = upgraded.iter().map(|(_, ms, _)| *ms).collect();
    began.sort_unstable();
    assert_eq!(began, edges);
    check(upgraded);
}
