//! The roaming part on PostgreSQL itself: the SQL's id floor, every statement on hand-made
//! rows, and ([`races`]) what only several writers can break (two nodes changing one user's
//! view, a user's deletes racing appends from another node). The conformance suite covers the
//! rest.
#![allow(clippy::unwrap_used, reason = "tests: a panic is a failure")]
use std::sync::Arc;

use roam_conformance::fixtures::{chat, gid, new_group, t, to_target, uid};
use roam_domain::{
    conversation::Target,
    id::MessageId,
    message::{MessageKind, NewMessage},
    roaming::{
        Direction, HistoryQuery, ListCursor, ListFilter, ListQuery, Mark, PageSize, Removal,
    },
    store::{DeliveryStore, Events, GroupStore, RoamingStore, StoreError, no_events},
    user::UserId,
};

use crate::{Options, PgStore, rows::id_floor_sql};

mod races;

fn url() -> String {
    std::env::var("ROAM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A schema of this test's own, named as the conformance suite names its schemas (so a run
/// of it drops any left by a test that failed).
fn schema(test: &str) -> String {
    format!("roam_ct_{}_roaming_{test}", std::process::id())
}

/// A store of node `node` in `schema` (several may share one).
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

fn page(n: i64) -> PageSize {
    PageSize::parse(n).unwrap()
}

fn all_of(limit: i64) -> ListQuery {
    ListQuery {
        filter: ListFilter::All {
            include_empty: false,
        },
        limit: page(limit),
        after: None,
    }
}

fn newest(target: Target, limit: i64) -> HistoryQuery {
    HistoryQuery {
        target,
        from: None,
        direction: Direction::NewestFirst,
        limit: page(limit),
        content_types: Vec::new(),
        start_ms: None,
        end_ms: None,
        sender: None,
    }
}

/// An events function that records one conversation event in `user`'s own log.
fn log_event<T>(user: &'static str) -> Events<T> {
    Box::new(move |_| {
        vec![NewMessage {
            kind: MessageKind::ConversationEvent,
            activity: false,
            ..to_target(user, "web", Target::System, "changed")
        }]
    })
}

/// The id floor written in SQL is the domain's, at the epoch, around it and far after.
#[tokio::test]
async fn the_id_floor_in_sql_is_the_domain_s() {
    let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let sql = format!("SELECT {}", id_floor_sql("$1::BIGINT"));
    for ms in [
        0_i64,
        1_577_836_799_999,
        1_577_836_800_000,
        1_577_836_800_001,
        1_800_000_000_123,
        i64::try_from(MessageId::LAST_MS).unwrap(),
        i64::MAX,
    ] {
        let got: i64 = client.query_one(&sql, &[&ms]).await.unwrap().get(0);
        assert_eq!(
            u64::try_from(got).unwrap(),
            MessageId::floor_at(u64::try_from(ms).unwrap()).0,
            "{ms}"
        );
    }
}

/// Every roaming statement runs on PostgreSQL (hand-made rows: one single chat of two
/// messages), whatever the engine's other parts do.
#[tokio::test]
async fn every_roaming_statement_runs() {
    let schema = schema("statements");
    let store = open(&schema, 0).await;
    let (alice, bob) = (
        UserId::parse("alice").unwrap(),
        UserId::parse("bob").unwrap(),
    );
    let id = |n: i64| i64::try_from(MessageId::floor_at(1_800_000_000_000).0).unwrap() + n;
    {
        let c = store.client().await.unwrap();
        c.batch_execute(
            "INSERT INTO conversations (key, last_seq, last_id, last_ms, created_ms, chat_count, last_chat_seq, last_chat_ms, last_chat_id) \
             OVERRIDING SYSTEM VALUE VALUES ('c:alice:bob', 2, 0, 1800000000000, 1800000000000, 2, 2, 1800000000000, 0)",
        )
        .await
        .unwrap();
        for (seq, from, to) in [(1_i64, "alice", "bob"), (2, "bob", "alice")] {
            c.execute(
                "INSERT INTO messages (conv_id, seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity, ord, content_type) \
                 VALUES (1, $1, $2, $3, 'web', $4, 0, 1800000000000, '\\x00', 1, $1, 'txt')",
                &[&seq, &id(seq), &from, &to],
            )
            .await
            .unwrap();
        }
        c.execute(
            "UPDATE conversations SET last_id = $1, last_chat_id = $1",
            &[&id(2)],
        )
        .await
        .unwrap();
        for (user, target) in [("alice", "bob"), ("bob", "alice")] {
            c.execute(
                "INSERT INTO user_conversations (user_id, conv_id, target, created_ms, sent, sort_key) \
                 VALUES ($1, 1, $2, 1800000000000, 1, $3)",
                &[&user, &target, &id(2)],
            )
            .await
            .unwrap();
        }
    }
    let bob_t = Target::User(bob.clone());
    let cursor = Some(ListCursor {
        key: u64::MAX,
        tie: u64::MAX,
    });
    for filter in [
        ListFilter::All {
            include_empty: false,
        },
        ListFilter::All {
            include_empty: true,
        },
        ListFilter::Pinned,
        ListFilter::Marked(Mark::from_index(3).unwrap()),
    ] {
        for after in [None, cursor] {
            let q = ListQuery {
                filter,
                limit: page(10),
                after,
            };
            store.conversations(&alice, &q).await.unwrap();
        }
    }
    let all = ListQuery {
        filter: ListFilter::All {
            include_empty: false,
        },
        limit: page(10),
        after: None,
    };
    let listed = store.conversations(&alice, &all).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].unread, 1);
    assert_eq!(listed.items[0].last.as_ref().unwrap().seq, 2);
    let h = store
        .history(
            &alice,
            &HistoryQuery {
                target: bob_t.clone(),
                from: Some(MessageId(u64::try_from(id(2)).unwrap())),
                direction: Direction::NewestFirst,
                limit: page(10),
                content_types: vec!["txt".to_owned(), "img".to_owned()],
                start_ms: Some(0),
                end_ms: Some(u64::MAX),
                sender: Some(alice.clone()),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.messages.len(), 1);
    let pinned = store
        .pin(&alice, &bob_t, true, 5, no_events())
        .await
        .unwrap();
    assert!(pinned.value.is_some());
    store
        .pin(&alice, &bob_t, false, 5, no_events())
        .await
        .unwrap();
    let mark = Mark::from_index(3).unwrap();
    let missing = store
        .mark(
            &alice,
            vec![bob_t.clone(), Target::User(UserId::parse("carol").unwrap())],
            mark,
            true,
            no_events(),
        )
        .await
        .unwrap();
    assert_eq!(missing.value.len(), 1);
    store
        .mark(&alice, vec![bob_t.clone()], mark, false, no_events())
        .await
        .unwrap();
    let ids = Removal::Ids(vec![
        MessageId(u64::try_from(id(2)).unwrap()),
        MessageId(u64::MAX),
    ]);
    assert!(
        store
            .remove_messages(&alice, &bob_t, ids, no_events())
            .await
            .unwrap()
            .value
    );
    assert!(
        store
            .remove_messages(
                &alice,
                &bob_t,
                Removal::Before(1_800_000_000_000),
                no_events()
            )
            .await
            .unwrap()
            .value
    );
    let alice_t = Target::User(alice.clone());
    assert!(
        store
            .delete_conversation(&bob, &alice_t, false, no_events())
            .await
            .unwrap()
            .value
    );
    assert_eq!(
        store.evict_conversations(&alice, 0).await.unwrap(),
        Vec::<Target>::new()
    );
    assert_eq!(
        store
            .delete_all_conversations(&alice, no_events())
            .await
            .unwrap()
            .value,
        vec![bob_t]
    );
    drop_schema(&store, &schema).await;
}
