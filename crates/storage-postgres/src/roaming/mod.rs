//! Message roaming in PostgreSQL: the conversation list ([`list`]), history ([`history`]), and
//! the changes a user makes to their own view: pins, marks and one-way deletes ([`changes`]).
//!
//! The same model and SQL as the SQLite engine's roaming: everything here reads or moves a
//! user's small per-conversation positions (`user_conversations`, `deleted_messages`);
//! messages themselves are never copied or changed. Unread is arithmetic:
//! `(chat_count - read_ord) - (sent - read_sent)` minus the messages the user deleted after
//! the read position.
//!
//! # Several writers
//! Each call is one transaction on a pooled connection. Reads that take several statements
//! (the list, history) run in one REPEATABLE READ read-only transaction, so they agree. A
//! change takes, in this order: a transaction-level advisory lock on the user (their changes
//! to their own view are serialized across nodes: the pin limit and strictly increasing pin
//! times hold), the row of the user's own log if it exists (where the change's events go; an
//! append of a group read ack locks it before the user's side of the group, so the change
//! must too), then per conversation its `conversations` row (shared: appends to it wait, so
//! its last seq holds while the user's side is moved) before the user's side of it (for
//! update). Appends lock a conversation row before its sides too, so the order agrees. Should
//! PostgreSQL still pick a change as a deadlock's victim, it runs again (`transaction!`), its
//! events made once (`OnceEvents`).
use async_trait::async_trait;
use roam_domain::{
    conversation::Target,
    roaming::{HistoryPage, HistoryQuery, ListPage, ListQuery, Mark, Removal},
    store::{Committed, Events, RoamingStore, StoreError},
    user::UserId,
};
use tokio_postgres::IsolationLevel;

use crate::{
    PgStore,
    delivery::OnceEvents,
    rows::{Tx, conversation_key, engine, transaction},
};

mod changes;
mod history;
mod list;

#[async_trait]
impl RoamingStore for PgStore {
    async fn conversations(
        &self,
        user: &UserId,
        query: &ListQuery,
    ) -> Result<ListPage, StoreError> {
        let mut c = self.client().await?;
        let tx = read_only(&mut c).await?;
        let page = list::list(&tx, user, query).await?;
        tx.commit().await.map_err(engine)?;
        Ok(page)
    }

    async fn pin(
        &self,
        user: &UserId,
        target: &Target,
        pinned: bool,
        max_pinned: usize,
        events: Events<Option<u64>>,
    ) -> Result<Committed<Option<u64>>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            lock_user(&tx, user).await?;
            let at = changes::pin(&tx, user, target, pinned, max_pinned).await?;
            events.append(&tx, &self.ids, at).await
        })
    }

    async fn mark(
        &self,
        user: &UserId,
        targets: Vec<Target>,
        mark: Mark,
        on: bool,
        events: Events<Vec<Target>>,
    ) -> Result<Committed<Vec<Target>>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            lock_user(&tx, user).await?;
            let missing = changes::mark(&tx, user, &targets, mark.bit(), on).await?;
            events.append(&tx, &self.ids, missing).await
        })
    }

    async fn history(
        &self,
        user: &UserId,
        query: &HistoryQuery,
    ) -> Result<Option<HistoryPage>, StoreError> {
        let mut c = self.client().await?;
        let tx = read_only(&mut c).await?;
        let page = history::history(&tx, user, query).await?;
        tx.commit().await.map_err(engine)?;
        Ok(page)
    }

    async fn remove_messages(
        &self,
        user: &UserId,
        target: &Target,
        removal: Removal,
        events: Events<bool>,
    ) -> Result<Committed<bool>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            lock_user(&tx, user).await?;
            let found = changes::remove(&tx, user, target, &removal).await?;
            events.append(&tx, &self.ids, found).await
        })
    }

    async fn delete_conversation(
        &self,
        user: &UserId,
        target: &Target,
        with_history: bool,
        events: Events<bool>,
    ) -> Result<Committed<bool>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            lock_user(&tx, user).await?;
            let found = changes::delete_conversation(&tx, user, target, with_history).await?;
            events.append(&tx, &self.ids, found).await
        })
    }

    async fn delete_all_conversations(
        &self,
        user: &UserId,
        events: Events<Vec<Target>>,
    ) -> Result<Committed<Vec<Target>>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            lock_user(&tx, user).await?;
            let deleted = changes::delete_all(&tx, user).await?;
            events.append(&tx, &self.ids, deleted).await
        })
    }

    async fn evict_conversations(
        &self,
        user: &UserId,
        keep: usize,
    ) -> Result<Vec<Target>, StoreError> {
        transaction!(self, |tx| {
            lock_user(&tx, user).await?;
            changes::evict(&tx, user, keep).await
        })
    }
}

/// A read-only transaction whose statements all see one snapshot.
async fn read_only(c: &mut deadpool_postgres::Object) -> Result<Tx<'_>, StoreError> {
    c.build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(engine)
}

/// Takes the locks every change to the user's own view starts with (see the module docs):
/// the user's advisory lock, then their log's row.
async fn lock_user(tx: &Tx<'_>, user: &UserId) -> Result<(), StoreError> {
    let st = tx
        .prepare_cached(
            "SELECT pg_advisory_xact_lock(hashtext('roam-user:' || current_schema()), hashtext($1))",
        )
        .await
        .map_err(engine)?;
    tx.execute(&st, &[&user.as_str()]).await.map_err(engine)?;
    let st = tx
        .prepare_cached("SELECT 1 FROM conversations WHERE key = $1 FOR UPDATE")
        .await
        .map_err(engine)?;
    tx.execute(&st, &[&conversation_key(user, &Target::System)])
        .await
        .map_err(engine)?;
    Ok(())
}

/// A user's side of one conversation, as the roaming operations need it.
struct Side {
    conv: i64,
    start: i64,
    read: i64,
    hidden_to: i64,
    removed: bool,
    pinned_ms: i64,
    /// The conversation's last seq and its newest activity seq.
    last_seq: i64,
    last_chat_seq: i64,
}

/// The user's side of the single chat, group or chat room with `target`, as of the read's
/// snapshot (no locks: for reads).
async fn side(tx: &Tx<'_>, user: &UserId, target: &Target) -> Result<Option<Side>, StoreError> {
    let st = tx
        .prepare_cached(
            "SELECT uc.conv_id, uc.start_seq, uc.read_seq, uc.hidden_to, uc.removed, cv.last_seq, cv.last_chat_seq, uc.pinned_ms \
             FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
             WHERE uc.user_id = $1 AND uc.target = $2 AND uc.kind IN (0, 1, 2)",
        )
        .await
        .map_err(engine)?;
    tx.query_opt(&st, &[&user.as_str(), &target.encode()])
        .await
        .map_err(engine)?
        .map(|r| side_from_row(&r))
        .transpose()
}

/// The user's side of the conversation with `target`, locked for a change: the conversation's
/// row first (shared), then the side (for update), so neither moves until the commit.
async fn side_for_update(
    tx: &Tx<'_>,
    user: &UserId,
    target: &Target,
) -> Result<Option<Side>, StoreError> {
    let st = tx
        .prepare_cached(
            "SELECT id FROM conversations WHERE id = \
               (SELECT conv_id FROM user_conversations WHERE user_id = $1 AND target = $2 AND kind IN (0, 1, 2)) \
             FOR SHARE",
        )
        .await
        .map_err(engine)?;
    let Some(conv) = tx
        .query_opt(&st, &[&user.as_str(), &target.encode()])
        .await
        .map_err(engine)?
    else {
        return Ok(None);
    };
    let conv: i64 = conv.try_get(0).map_err(engine)?;
    let st = tx
        .prepare_cached(
            "SELECT uc.conv_id, uc.start_seq, uc.read_seq, uc.hidden_to, uc.removed, cv.last_seq, cv.last_chat_seq, uc.pinned_ms \
             FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
             WHERE uc.user_id = $1 AND uc.conv_id = $2 FOR UPDATE OF uc",
        )
        .await
        .map_err(engine)?;
    tx.query_opt(&st, &[&user.as_str(), &conv])
        .await
        .map_err(engine)?
        .map(|r| side_from_row(&r))
        .transpose()
}

fn side_from_row(r: &tokio_postgres::Row) -> Result<Side, StoreError> {
    let removed: i32 = r.try_get(4).map_err(engine)?;
    Ok(Side {
        conv: r.try_get(0).map_err(engine)?,
        start: r.try_get(1).map_err(engine)?,
        read: r.try_get(2).map_err(engine)?,
        hidden_to: r.try_get(3).map_err(engine)?,
        removed: removed != 0,
        last_seq: r.try_get(5).map_err(engine)?,
        last_chat_seq: r.try_get(6).map_err(engine)?,
        pinned_ms: r.try_get(7).map_err(engine)?,
    })
}

/// The SQL expressions on `uc`/`cv` that the list sorts and filters by, shared by the list's
/// statements and the eviction's (they must agree on what is listed and in which order).
mod sql {
    use std::sync::LazyLock;

    use crate::rows::id_floor_sql;

    /// Side kinds (`user_conversations.kind`).
    pub(super) const SINGLE: i64 = 0;
    pub(super) const GROUP: i64 = 1;

    /// Not deleted by the user, or back since (a pin or a mark needs this; an emptied
    /// conversation still qualifies, as `needEmptySession` lists it).
    pub(super) const ON_LIST: &str = "(cv.last_chat_seq > uc.hidden_to OR uc.removed = 0)";
    /// A list position, in message-id space: the id of the newest activity the user sees,
    /// else the first id of the ms the side began. Single chat sides keep it in `sort_key`.
    pub(super) static ACTIVITY: LazyLock<String> = LazyLock::new(|| {
        format!(
            "CASE WHEN cv.last_chat_seq > uc.hidden_to THEN cv.last_chat_id \
             WHEN uc.vis_seq > 0 THEN uc.vis_id ELSE {} END",
            id_floor_sql("uc.created_ms")
        )
    });
    /// The seq of the last message the list shows for the conversation (0: none).
    pub(super) const LAST: &str =
        "CASE WHEN cv.last_chat_seq > uc.hidden_to THEN cv.last_chat_seq ELSE uc.vis_seq END";

    /// The condition for a conversation to be in the user's list: activity the user has not
    /// deleted, or (not deleted by the user) a group they are in, or with `include_empty`
    /// (`needEmptySession`) a conversation whose messages they all deleted.
    pub(super) fn listed(include_empty: bool) -> String {
        format!(
            "(cv.last_chat_seq > uc.hidden_to OR (uc.removed = 0 AND (uc.vis_seq > 0 OR (uc.kind = {GROUP} AND uc.emptied = 0){})))",
            if include_empty {
                " OR uc.emptied = 1"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a panic is a failure")]
    use roam_domain::id::MessageId;

    use crate::rows::id_floor_sql;

    /// The id floor written in SQL is the domain's, at the epoch, around it and far after.
    #[tokio::test]
    async fn the_id_floor_in_sql_is_the_domain_s() {
        let url = std::env::var("ROAM_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
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
        use roam_domain::{
            conversation::Target,
            roaming::{
                Direction, HistoryQuery, ListCursor, ListFilter, ListQuery, Mark, PageSize, Removal,
            },
            store::{RoamingStore, no_events},
            user::UserId,
        };

        use crate::{Options, PgStore};

        let url = std::env::var("ROAM_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let schema = format!("roam_ut_roaming_{}", std::process::id());
        let store = PgStore::connect(
            &url,
            Options {
                schema: Some(schema.clone()),
                claim_node: false,
                pool_size: 2,
                ..Options::default()
            },
        )
        .await
        .unwrap();
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
        let page = |n| PageSize::parse(n).unwrap();
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
        let c = store.client().await.unwrap();
        c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .unwrap();
    }
}
