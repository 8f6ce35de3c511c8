//! The storage conformance suite against the SQLite engine, and the checks only SQLite has
//! (its tables, its schema upgrades). `cargo test -p roam-storage-sqlite --test conformance --
//! FILTER` runs the tests whose name contains FILTER (`history`, `ids::`, `sqlite::`, …).
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
        Trial::test("sqlite::the_id_layout_the_list_sql_assumes", || {
            // The list's SQL (roaming.rs, schema_v4.sql) writes "the first id of a ms" with these.
            assert_eq!(
                (MessageId::EPOCH_MS, MessageId::TIME_SHIFT),
                (1_577_836_800_000, 22)
            );
            Ok(())
        }),
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
    s.remove_messages(&uid("alice"), &t("erin"), Removal::Ids(vec![m.id]))
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
