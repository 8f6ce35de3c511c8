//! The conversation list: a page of a user's conversations, newest activity first (or the
//! pinned ones, newest pin first, or those with a mark).
use std::sync::LazyLock;

use roam_domain::{
    conversation::Target,
    roaming::{ConversationSummary, ListCursor, ListFilter, ListPage, ListQuery, Marks},
    user::UserId,
};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};

use super::sql::{ACTIVITY, GROUP, LAST, ON_LIST, SINGLE, listed};
use crate::rows::{bad_row, message_from_row, sql_bound, sql_count};

/// One list row: (conv, target, key, last seq, pinned_ms, marks, unread before deletes,
/// read_seq).
type ListRow = (u64, String, u64, i64, u64, u32, i64, i64);

/// Message ?2 of conversation ?1 (a conversation's lastMessage).
const MESSAGE_AT: &str = "SELECT seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity \
     FROM messages WHERE conv_id = ?1 AND seq = ?2";

/// The list's statements, one per shape of query, made once. Each binds `?1` the user and
/// `?2` the limit; a page after a cursor binds the cursor's key and tie next (the cursor is
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
            format!("AND ({k}, {tie}) < (?3, ?4)")
        } else {
            String::new()
        }
    };
    let singles = |include_empty: bool, on: bool| {
        format!(
            "SELECT {} FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
             WHERE uc.user_id = ?1 AND uc.kind = {SINGLE} AND {} {} \
             ORDER BY uc.sort_key DESC, uc.conv_id DESC LIMIT ?2",
            columns("uc.sort_key"),
            listed(include_empty),
            after("uc.sort_key", "uc.conv_id", on)
        )
    };
    let computed = |key: &str, kinds: &str, filter: &str, on: bool| {
        format!(
            "SELECT * FROM (SELECT {} FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
               WHERE uc.user_id = ?1 AND uc.kind IN ({kinds}) AND {filter}) \
             WHERE 1 {} ORDER BY k DESC, conv_id DESC LIMIT ?2",
            columns(key),
            after("k", "conv_id", on)
        )
    };
    let both = format!("{SINGLE}, {GROUP}");
    let groups = |include_empty: bool, on: bool| {
        computed(ACTIVITY, &GROUP.to_string(), &listed(include_empty), on)
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
        let bit = if on { "?5" } else { "?3" };
        computed(
            ACTIVITY,
            &both,
            &format!("(uc.marks & {bit}) != 0 AND {ON_LIST}"),
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

fn page_rows(
    c: &Connection,
    sql: &str,
    user: &UserId,
    limit: usize,
    after: Option<ListCursor>,
    bit: Option<u32>,
) -> rusqlite::Result<Vec<ListRow>> {
    let mut args: Vec<Value> = vec![
        Value::Text(user.as_str().to_owned()),
        Value::Integer(sql_count(limit + 1)),
    ];
    if let Some(a) = after {
        args.extend([
            Value::Integer(sql_bound(a.key)),
            Value::Integer(sql_bound(a.tie)),
        ]);
    }
    if let Some(bit) = bit {
        args.push(Value::Integer(i64::from(bit)));
    }
    let mut stmt = c.prepare_cached(sql)?;
    stmt.query_map(params_from_iter(args), |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ))
    })?
    .collect()
}

/// A page of the user's conversation list.
///
/// The full list merges two sources: single chats read in order from an index on their
/// `sort_key` (so a page costs about a page of rows, whatever the list's length), and groups,
/// whose order is computed from their conversation rows (a group message writes no member
/// row). Pinned and marked lists are small and computed.
pub(crate) fn list(c: &Connection, user: &UserId, q: &ListQuery) -> rusqlite::Result<ListPage> {
    let limit = q.limit.get();
    let on = usize::from(q.after.is_some());
    let s = &*STATEMENTS;
    let rows = match q.filter {
        ListFilter::All { include_empty } => {
            let e = usize::from(include_empty);
            let mut rows = page_rows(c, &s.singles[e][on], user, limit, q.after, None)?;
            rows.extend(page_rows(c, &s.groups[e][on], user, limit, q.after, None)?);
            rows.sort_by_key(|r| std::cmp::Reverse((r.2, r.0)));
            rows.truncate(limit + 1);
            rows
        }
        ListFilter::Pinned => page_rows(c, &s.pinned[on], user, limit, q.after, None)?,
        ListFilter::Marked(m) => page_rows(c, &s.marked[on], user, limit, q.after, Some(m.bit()))?,
    };
    let more = rows.len() > limit;
    let mut items = Vec::with_capacity(limit.min(rows.len()));
    let mut last_stmt = c.prepare_cached(MESSAGE_AT)?;
    let mut deleted_stmt = c.prepare_cached(
        "SELECT COUNT(*) FROM deleted_messages d JOIN messages m ON m.conv_id = d.conv_id AND m.seq = d.seq \
         WHERE d.user_id = ?1 AND d.conv_id = ?2 AND d.seq > ?3 AND m.activity = 1 AND m.from_user != ?1",
    )?;
    for (conv, target, k, last, pinned_ms, marks, unread, read_seq) in rows.into_iter().take(limit)
    {
        let last = if last > 0 {
            last_stmt
                .query_row(params![conv, last], message_from_row)
                .optional()?
        } else {
            None
        };
        let deleted: i64 = if unread > 0 {
            deleted_stmt.query_row(params![user.as_str(), conv, read_seq], |r| r.get(0))?
        } else {
            0
        };
        items.push(ConversationSummary {
            target: Target::decode(&target).ok_or_else(|| bad_row("target"))?,
            unread: u64::try_from(unread - deleted).unwrap_or(0),
            pinned_ms: (pinned_ms > 0).then_some(pinned_ms),
            marks: Marks(marks),
            last,
            position: ListCursor { key: k, tie: conv },
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
        assert!(MESSAGE_AT.starts_with(&format!("SELECT {MESSAGE_COLUMNS} ")));
    }
}
