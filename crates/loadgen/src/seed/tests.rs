//! The bulk path makes the rows the store makes: a small seed both ways, compared row by row
//! (all but ids and times), and the ids, times and aggregates checked for the rules `append`
//! keeps.
use rusqlite::Connection;

use super::seed;

/// Rows of `sql` as text, one string per row.
fn rows(c: &Connection, sql: &str) -> Vec<String> {
    let mut st = c.prepare(sql).unwrap();
    let n = st.column_count();
    st.query_map([], |r| {
        (0..n)
            .map(|i| {
                r.get::<_, rusqlite::types::Value>(i)
                    .map(|v| format!("{v:?}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join("|"))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn count(c: &Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// (The store's many appends in flight may commit a conversation's two directions in either
/// order within a round, so seqs are compared by the rules, not row by row.)
const MESSAGES: &str = "SELECT cv.key, m.from_user, m.from_res, m.to_target, m.kind, m.payload, \
     m.activity, m.content_type, m.client_id FROM messages m JOIN conversations cv ON cv.id = m.conv_id";
const CONVERSATIONS: &str =
    "SELECT key, last_seq, chat_count, last_chat_seq FROM conversations ORDER BY key";
const SIDES: &str = "SELECT uc.user_id, cv.key, uc.target, uc.kind, uc.start_seq, uc.synced_seq, uc.read_seq, \
     uc.read_ord, uc.read_sent, uc.sent, uc.hidden_to, uc.vis_seq, uc.vis_ms, uc.vis_id, uc.removed, \
     uc.emptied, uc.pinned_ms > 0, uc.marks FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
     ORDER BY uc.user_id, cv.key";

/// What `append` keeps whichever way the rows were written.
fn check_rules(c: &Connection) {
    // Ids carry their time; per conversation, seqs are gap-free and ids grow with them.
    assert_eq!(
        count(
            c,
            &format!(
                "SELECT COUNT(*) FROM messages WHERE ts_ms != (id >> 22) + {}",
                roam_domain::id::MessageId::EPOCH_MS
            )
        ),
        0
    );
    assert_eq!(
        count(
            c,
            "SELECT COUNT(*) FROM messages a JOIN messages b ON a.conv_id = b.conv_id AND b.seq = a.seq + 1 \
             WHERE b.id <= a.id OR b.ord != a.ord + b.activity"
        ),
        0
    );
    assert_eq!(
        count(
            c,
            "SELECT COUNT(*) FROM conversations cv WHERE last_seq != (SELECT COUNT(*) FROM messages m WHERE m.conv_id = cv.id)"
        ),
        0
    );
    // The conversation's newest (activity) message and the list positions.
    assert_eq!(
        count(
            c,
            "SELECT COUNT(*) FROM conversations cv JOIN messages m ON m.conv_id = cv.id AND m.seq = cv.last_chat_seq \
             WHERE m.id != cv.last_chat_id OR m.ts_ms != cv.last_chat_ms OR cv.last_ms != \
             (SELECT ts_ms FROM messages l WHERE l.conv_id = cv.id AND l.seq = cv.last_seq)"
        ),
        0
    );
    assert_eq!(
        count(
            c,
            "SELECT COUNT(*) FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
             WHERE uc.kind = 0 AND uc.sort_key != cv.last_chat_id"
        ),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bulk_seed_holds_the_rows_a_store_seed_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let (store_db, bulk_db) = (tmp.path().join("store.db"), tmp.path().join("bulk.db"));
    let (messages, conversations) = (3000, 20);
    let by_store = seed(&store_db, messages, conversations, false)
        .await
        .unwrap();
    let by_bulk = seed(&bulk_db, messages, conversations, true).await.unwrap();
    assert_eq!(by_store.messages, by_bulk.messages);
    assert_eq!(by_store.per_conversation, by_bulk.per_conversation);
    assert_eq!(by_store.list_unread, by_bulk.list_unread);

    let (s, b) = (
        Connection::open(&store_db).unwrap(),
        Connection::open(&bulk_db).unwrap(),
    );
    // The bulk path wrote most of the history messages (not just the first of each).
    let history = count(
        &b,
        "SELECT COUNT(*) FROM messages WHERE from_user LIKE 'h%'",
    );
    assert_eq!(
        history,
        i64::try_from(by_bulk.per_conversation.iter().sum::<u64>()).unwrap()
    );
    assert!(history > 1000, "{history}");
    for sql in [MESSAGES, CONVERSATIONS, SIDES] {
        let (mut rs, mut rb) = (rows(&s, sql), rows(&b, sql));
        rs.sort();
        rb.sort();
        assert!(!rs.is_empty());
        assert_eq!(rs.len(), rb.len(), "{sql}");
        for (x, y) in rs.iter().zip(&rb) {
            assert_eq!(x, y, "{sql}");
        }
    }
    check_rules(&s);
    check_rules(&b);
    // The sampled cursors are stored messages of their conversation.
    for (i, id) in &by_bulk.samples {
        let (a, _) = super::history_pair(*i);
        let n = count(
            &b,
            &format!(
                "SELECT COUNT(*) FROM messages WHERE id = {id} AND (from_user = '{a}' OR to_target = '{a}')"
            ),
        );
        assert_eq!(n, 1, "sample {i} {id}");
    }
}
