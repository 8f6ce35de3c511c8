//! The conversation list: a page of a user's conversations, newest activity first (or the
//! pinned ones, newest pin first, or those with a mark).
use std::{collections::HashMap, sync::LazyLock};

use roam_domain::{
    conversation::Target,
    message::StoredMessage,
    roaming::{ConversationSummary, ListCursor, ListFilter, ListPage, ListQuery, Marks},
    store::StoreError,
    user::UserId,
};
use tokio_postgres::types::ToSql;

use super::sql::{ACTIVITY, GROUP, LAST, ON_LIST, SINGLE, listed};
use crate::rows::{Tx, bad_row, engine, message_from_row, sql_bound, sql_count};

/// One list row: conv, target, key, last seq, pinned_ms, marks, unread before deletes,
/// read_seq.
struct ListRow {
    conv: i64,
    target: String,
    key: i64,
    last: i64,
    pinned_ms: i64,
    marks: i64,
    unread: i64,
    read_seq: i64,
}

/// The messages at seqs $2 of conversations $1 (arrays of one length): a page's
/// lastMessages, in one round trip.
const MESSAGES_AT: &str = "SELECT seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity, conv_id \
     FROM messages WHERE (conv_id, seq) IN (SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[]))";

/// Per conversation of $2, the activity messages from others after the read seq in $3 (arrays
/// of one length) that the user $1 deleted: what unread must not count, in one round trip.
const DELETED_UNREAD: &str = "SELECT d.conv_id, COUNT(*) FROM unnest($2::BIGINT[], $3::BIGINT[]) AS w(conv, read_seq) \
     JOIN deleted_messages d ON d.user_id = $1 AND d.conv_id = w.conv AND d.seq > w.read_seq \
     JOIN messages m ON m.conv_id = d.conv_id AND m.seq = d.seq \
     WHERE m.activity = 1 AND m.from_user != $1 GROUP BY d.conv_id";

/// The list's statements, one per shape of query, made once. Each binds `$1` the user and
/// `$2` the limit; a page after a cursor binds the cursor's key and tie next (the cursor is
/// bound, not written into the SQL, so one cached statement serves every page), and the
/// marked list binds its mark's bit last.
struct Statements {
    /// `[include_empty][after]`: single chats, read in `sort_key` index order.
    singles: [[String; 2]; 2],
    /// `[include_empty][after]`: groups, ordered by their conversation rows.
    groups: [[String; 2]; 2],
    /// `[after]`.
    pinned: [String; 2],
    /// `[after]`.
    marked: [String; 2],
}

static STATEMENTS: LazyLock<Statements> = LazyLock::new(|| {
    let after = |k: &str, tie: &str, on: bool| {
        if on {
            format!("AND ({k}, {tie}) < ($3, $4)")
        } else {
            String::new()
        }
    };
    let singles = |include_empty: bool, on: bool| {
        format!(
            "SELECT {} FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
             WHERE uc.user_id = $1 AND uc.kind = {SINGLE} AND {} {} \
             ORDER BY uc.sort_key DESC, uc.conv_id DESC LIMIT $2",
            columns("uc.sort_key"),
            listed(include_empty),
            after("uc.sort_key", "uc.conv_id", on)
        )
    };
    let computed = |key: &str, kinds: &str, filter: &str, on: bool| {
        format!(
            "SELECT * FROM (SELECT {} FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
               WHERE uc.user_id = $1 AND uc.kind IN ({kinds}) AND {filter}) AS l \
             WHERE TRUE {} ORDER BY k DESC, conv_id DESC LIMIT $2",
            columns(key),
            after("k", "conv_id", on)
        )
    };
    let both = format!("{SINGLE}, {GROUP}");
    let groups = |include_empty: bool, on: bool| {
        computed(&ACTIVITY, &GROUP.to_string(), &listed(include_empty), on)
    };
    let pinned = |on: bool| {
        computed(
            "uc.pinned_ms",
            &both,
            &format!("uc.pinned_ms > 0 AND {ON_LIST}"),
            on,
        )
    };
    // The bit comes after the cursor's two parameters, or in their place without one.
    let marked = |on: bool| {
        let bit = if on { "$5" } else { "$3" };
        computed(
            &ACTIVITY,
            &both,
            &format!("(uc.marks & {bit}::BIGINT) != 0 AND {ON_LIST}"),
            on,
        )
    };
    Statements {
        singles: [
            [singles(false, false), singles(false, true)],
            [singles(true, false), singles(true, true)],
        ],
        groups: [
            [groups(false, false), groups(false, true)],
            [groups(true, false), groups(true, true)],
        ],
        pinned: [pinned(false), pinned(true)],
        marked: [marked(false), marked(true)],
    }
});

/// The columns of a list row, with `key` as the sort key.
fn columns(key: &str) -> String {
    format!(
        "uc.conv_id, uc.target, {key} AS k, {LAST} AS last, uc.pinned_ms, uc.marks, \
         cv.chat_count - uc.read_ord - (uc.sent - uc.read_sent) AS unread, uc.read_seq"
    )
}

async fn page_rows(
    tx: &Tx<'_>,
    sql: &str,
    user: &UserId,
    limit: usize,
    after: Option<ListCursor>,
    bit: Option<u32>,
) -> Result<Vec<ListRow>, StoreError> {
    let user = user.as_str();
    let limit = sql_count(limit + 1);
    let cursor = after.map(|a| (sql_bound(a.key), sql_bound(a.tie)));
    let bit = bit.map(i64::from);
    let mut args: Vec<&(dyn ToSql + Sync)> = vec![&user, &limit];
    if let Some((key, tie)) = &cursor {
        args.extend([key as &(dyn ToSql + Sync), tie]);
    }
    if let Some(bit) = &bit {
        args.push(bit);
    }
    let st = tx.prepare_cached(sql).await.map_err(engine)?;
    let rows = tx.query(&st, &args).await.map_err(engine)?;
    rows.iter()
        .map(|r| {
            Ok(ListRow {
                conv: r.try_get(0)?,
                target: r.try_get(1)?,
                key: r.try_get(2)?,
                last: r.try_get(3)?,
                pinned_ms: r.try_get(4)?,
                marks: r.try_get(5)?,
                unread: r.try_get(6)?,
                read_seq: r.try_get(7)?,
            })
        })
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(engine)
}

/// The lastMessage of each row that shows one, by conversation.
async fn last_messages(
    tx: &Tx<'_>,
    rows: &[ListRow],
) -> Result<HashMap<i64, StoredMessage>, StoreError> {
    let (convs, seqs): (Vec<i64>, Vec<i64>) = rows
        .iter()
        .filter(|r| r.last > 0)
        .map(|r| (r.conv, r.last))
        .unzip();
    if convs.is_empty() {
        return Ok(HashMap::new());
    }
    let st = tx.prepare_cached(MESSAGES_AT).await.map_err(engine)?;
    tx.query(&st, &[&convs, &seqs])
        .await
        .map_err(engine)?
        .iter()
        .map(|r| Ok((r.try_get(9).map_err(engine)?, message_from_row(r)?)))
        .collect()
}

/// How many of each row's unread the user deleted, by conversation (absent: none).
async fn deleted_unread(
    tx: &Tx<'_>,
    user: &UserId,
    rows: &[ListRow],
) -> Result<HashMap<i64, i64>, StoreError> {
    let (convs, reads): (Vec<i64>, Vec<i64>) = rows
        .iter()
        .filter(|r| r.unread > 0)
        .map(|r| (r.conv, r.read_seq))
        .unzip();
    if convs.is_empty() {
        return Ok(HashMap::new());
    }
    let st = tx.prepare_cached(DELETED_UNREAD).await.map_err(engine)?;
    tx.query(&st, &[&user.as_str(), &convs, &reads])
        .await
        .map_err(engine)?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(engine)
}

/// A number the list shows, from a column that always holds one.
fn count(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| bad_row("number"))
}

/// A page of the user's conversation list.
///
/// The full list merges two sources: single chats read in order from an index on their
/// `sort_key` (so a page costs about a page of rows, whatever the list's length), and groups,
/// whose order is computed from their conversation rows (a group message writes no member
/// row). Pinned and marked lists are small and computed. Runs in one snapshot.
pub(crate) async fn list(
    tx: &Tx<'_>,
    user: &UserId,
    q: &ListQuery,
) -> Result<ListPage, StoreError> {
    let limit = q.limit.get();
    let on = usize::from(q.after.is_some());
    let s = &*STATEMENTS;
    let rows = match q.filter {
        ListFilter::All { include_empty } => {
            let e = usize::from(include_empty);
            let mut rows = page_rows(tx, &s.singles[e][on], user, limit, q.after, None).await?;
            rows.extend(page_rows(tx, &s.groups[e][on], user, limit, q.after, None).await?);
            rows.sort_by_key(|r| std::cmp::Reverse((r.key, r.conv)));
            rows.truncate(limit + 1);
            rows
        }
        ListFilter::Pinned => page_rows(tx, &s.pinned[on], user, limit, q.after, None).await?,
        ListFilter::Marked(m) => {
            page_rows(tx, &s.marked[on], user, limit, q.after, Some(m.bit())).await?
        }
    };
    let more = rows.len() > limit;
    let rows: Vec<ListRow> = rows.into_iter().take(limit).collect();
    let mut lasts = last_messages(tx, &rows).await?;
    let deleted = deleted_unread(tx, user, &rows).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let last = lasts.remove(&row.conv);
        let deleted = deleted.get(&row.conv).copied().unwrap_or(0);
        let pinned_ms = count(row.pinned_ms)?;
        items.push(ConversationSummary {
            target: Target::decode(&row.target).ok_or_else(|| bad_row("target"))?,
            unread: u64::try_from(row.unread - deleted).unwrap_or(0),
            pinned_ms: (pinned_ms > 0).then_some(pinned_ms),
            marks: Marks(u32::try_from(row.marks).map_err(|_| bad_row("marks"))?),
            last,
            position: ListCursor {
                key: count(row.key)?,
                tie: count(row.conv)?,
            },
        });
    }
    let next = if more {
        items.last().map(|i| i.position)
    } else {
        None
    };
    Ok(ListPage { items, next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::MESSAGE_COLUMNS;

    #[test]
    fn the_last_message_lookup_selects_the_message_columns() {
        assert!(MESSAGES_AT.starts_with(&format!("SELECT {MESSAGE_COLUMNS}, conv_id ")));
    }
}
