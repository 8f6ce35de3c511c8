//! Message roaming in SQLite: the conversation list, history, pins, marks and one-way deletes.
//!
//! Everything here reads or moves a user's small per-conversation positions
//! (`user_conversations`, `deleted_messages`); messages themselves are never copied or
//! changed. Unread is arithmetic: `(chat_count - read_ord) - (sent - read_sent)` minus the
//! messages the user deleted after the read position (see `schema_v2.sql`).
use roam_domain::{
    conversation::Target,
    now_ms,
    roaming::{
        ConversationSummary, Direction, HistoryPage, HistoryQuery, ListCursor, ListFilter,
        ListPage, ListQuery, Marks, Removal,
    },
    store::StoreError,
    user::UserId,
};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};

use crate::{MESSAGE_COLUMNS, bad_row, engine, message_from_row};

/// Side kinds (`user_conversations.kind`).
const SINGLE: i64 = 0;
const GROUP: i64 = 1;

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

fn side(c: &Connection, user: &UserId, target: &Target) -> rusqlite::Result<Option<Side>> {
    c.prepare_cached(
        "SELECT uc.conv_id, uc.start_seq, uc.read_seq, uc.hidden_to, uc.removed, cv.last_seq, cv.last_chat_seq, uc.pinned_ms \
         FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
         WHERE uc.user_id = ?1 AND uc.target = ?2 AND uc.kind IN (0, 1, 2)",
    )?
    .query_row(
        params![user.as_str(), target.encode()],
        |r| {
            Ok(Side {
                conv: r.get(0)?,
                start: r.get(1)?,
                read: r.get(2)?,
                hidden_to: r.get(3)?,
                removed: r.get(4)?,
                last_seq: r.get(5)?,
                last_chat_seq: r.get(6)?,
                pinned_ms: r.get(7)?,
            })
        },
    )
    .optional()
}

/// The expressions the list sorts and filters by.
const LIVE: &str = "cv.last_chat_seq > uc.hidden_to";
/// Not deleted by the user, or back since (a pin or a mark needs this; an emptied
/// conversation still qualifies, as `needEmptySession` lists it).
const ON_LIST: &str = "(cv.last_chat_seq > uc.hidden_to OR uc.removed = 0)";
/// A list position, in message-id space (see `schema_v4.sql`): the id of the newest activity
/// the user sees, else the first id of the ms the side began. Single chat sides keep it in
/// `sort_key`.
const ACTIVITY: &str = "CASE WHEN cv.last_chat_seq > uc.hidden_to THEN cv.last_chat_id \
     WHEN uc.vis_seq > 0 THEN uc.vis_id ELSE MAX(uc.created_ms - 1577836800000, 0) << 22 END";
const LAST: &str =
    "CASE WHEN cv.last_chat_seq > uc.hidden_to THEN cv.last_chat_seq ELSE uc.vis_seq END";

/// The condition on `uc`/`cv` for a conversation to be in the user's list.
fn listed(include_empty: bool) -> String {
    format!(
        "({LIVE} OR (uc.removed = 0 AND (uc.vis_seq > 0 OR (uc.kind = {GROUP} AND uc.emptied = 0){})))",
        if include_empty {
            " OR uc.emptied = 1"
        } else {
            ""
        }
    )
}

/// One list row: (conv, target, key, last seq, pinned_ms, marks, unread before deletes,
/// read_seq).
type ListRow = (i64, String, i64, i64, i64, i64, i64, i64);

/// The columns of a list row, with `key` as the sort key.
fn list_columns(key: &str) -> String {
    format!(
        "uc.conv_id, uc.target, {key} AS k, {LAST} AS last, uc.pinned_ms, uc.marks, \
         cv.chat_count - uc.read_ord - (uc.sent - uc.read_sent) AS unread, uc.read_seq"
    )
}

fn list_rows(
    c: &Connection,
    sql: &str,
    user: &UserId,
    limit: usize,
    after: Option<ListCursor>,
) -> rusqlite::Result<Vec<ListRow>> {
    let mut args: Vec<Value> = vec![
        Value::Text(user.as_str().to_owned()),
        Value::Integer(limit as i64 + 1),
    ];
    if let Some(a) = after {
        args.extend([Value::Integer(a.key as i64), Value::Integer(a.tie as i64)]);
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
    // The cursor is bound, not written into the SQL: one cached statement serves every page.
    let after = |k: &str, tie: &str| {
        if q.after.is_some() {
            format!("AND ({k}, {tie}) < (?3, ?4)")
        } else {
            String::new()
        }
    };
    let computed = |key: &str, kinds: &str, filter: &str| {
        format!(
            "SELECT * FROM (SELECT {} FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
               WHERE uc.user_id = ?1 AND uc.kind IN ({kinds}) AND {filter}) \
             WHERE 1 {} ORDER BY k DESC, conv_id DESC LIMIT ?2",
            list_columns(key),
            after("k", "conv_id")
        )
    };
    let rows = match q.filter {
        // Listed: activity the user has not deleted, or (not deleted by the user) a group they
        // are in, or with needEmptySession a conversation whose messages they all deleted.
        ListFilter::All { include_empty } => {
            let filter = listed(include_empty);
            let singles = format!(
                "SELECT {} FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
                 WHERE uc.user_id = ?1 AND uc.kind = {SINGLE} AND {filter} {} \
                 ORDER BY uc.sort_key DESC, uc.conv_id DESC LIMIT ?2",
                list_columns("uc.sort_key"),
                after("uc.sort_key", "uc.conv_id")
            );
            let mut rows = list_rows(c, &singles, user, limit, q.after)?;
            let groups = computed(ACTIVITY, &GROUP.to_string(), &filter);
            rows.extend(list_rows(c, &groups, user, limit, q.after)?);
            rows.sort_by_key(|r| std::cmp::Reverse((r.2, r.0)));
            rows.truncate(limit + 1);
            rows
        }
        ListFilter::Pinned => list_rows(
            c,
            &computed(
                "uc.pinned_ms",
                &format!("{SINGLE}, {GROUP}"),
                &format!("uc.pinned_ms > 0 AND {ON_LIST}"),
            ),
            user,
            limit,
            q.after,
        )?,
        ListFilter::Marked(m) => list_rows(
            c,
            &computed(
                ACTIVITY,
                &format!("{SINGLE}, {GROUP}"),
                &format!("(uc.marks & {}) != 0 AND {ON_LIST}", m.bit()),
            ),
            user,
            limit,
            q.after,
        )?,
    };
    let more = rows.len() > limit;
    let mut items = Vec::with_capacity(limit.min(rows.len()));
    let mut last_stmt = c.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conv_id = ?1 AND seq = ?2"
    ))?;
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
            unread: (unread - deleted).max(0) as u64,
            pinned_ms: (pinned_ms > 0).then_some(pinned_ms as u64),
            marks: Marks(marks as u32),
            last,
            position: ListCursor {
                key: k as u64,
                tie: conv as u64,
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

/// Pins (returning the pin time) or unpins a conversation. Pin times are strictly increasing
/// per user, so "newest pin first" is a total order.
pub(crate) fn pin(
    c: &Connection,
    user: &UserId,
    target: &Target,
    on: bool,
    max_pinned: usize,
) -> Result<Option<u64>, StoreError> {
    // Only a conversation still on the user's list can be pinned: one they deleted is gone
    // until a new message brings it back.
    let current: Option<i64> = c
        .query_row(
            &format!(
                "SELECT uc.pinned_ms FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
                 WHERE uc.user_id = ?1 AND uc.target = ?2 AND uc.kind IN (0, 1) AND {ON_LIST}"
            ),
            params![user.as_str(), target.encode()],
            |r| r.get(0),
        )
        .optional()
        .map_err(engine)?;
    let Some(current) = current else {
        return Err(StoreError::ConversationNotFound(target.clone()));
    };
    if !on {
        c.execute(
            "UPDATE user_conversations SET pinned_ms = 0 WHERE user_id = ?1 AND target = ?2",
            params![user.as_str(), target.encode()],
        )
        .map_err(engine)?;
        return Ok(None);
    }
    if current > 0 {
        return Ok(Some(current as u64));
    }
    let (count, newest): (i64, i64) = c
        .query_row(
            "SELECT COUNT(*), COALESCE(MAX(pinned_ms), 0) FROM user_conversations WHERE user_id = ?1 AND pinned_ms > 0",
            [user.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(engine)?;
    if count as usize >= max_pinned {
        return Err(StoreError::PinLimit(max_pinned));
    }
    let at = (now_ms() as i64).max(newest + 1);
    c.execute(
        "UPDATE user_conversations SET pinned_ms = ?3 WHERE user_id = ?1 AND target = ?2",
        params![user.as_str(), target.encode(), at],
    )
    .map_err(engine)?;
    Ok(Some(at as u64))
}

/// Adds or removes a mark; returns the targets the user has no conversation with.
pub(crate) fn mark(
    c: &Connection,
    user: &UserId,
    targets: &[Target],
    bit: u32,
    on: bool,
) -> Result<Vec<Target>, StoreError> {
    let set = if on { "marks | ?3" } else { "marks & ~?3" };
    let sql = format!(
        "UPDATE user_conversations AS uc SET marks = {set} FROM conversations cv \
         WHERE cv.id = uc.conv_id AND uc.user_id = ?1 AND uc.target = ?2 AND uc.kind IN (0, 1) AND {ON_LIST}"
    );
    let mut missing = Vec::new();
    for t in targets {
        let n = c
            .execute(&sql, params![user.as_str(), t.encode(), bit as i64])
            .map_err(engine)?;
        if n == 0 {
            missing.push(t.clone());
        }
    }
    Ok(missing)
}

/// A page of history; `None` when the user has no side of the conversation (for a group or
/// chat room: not a member).
pub(crate) fn history(
    c: &Connection,
    user: &UserId,
    q: &HistoryQuery,
) -> Result<Option<HistoryPage>, StoreError> {
    let Some(side) = side(c, user, &q.target).map_err(engine)? else {
        return Ok(None);
    };
    let newest_first = q.direction == Direction::NewestFirst;
    let mut args: Vec<Value> = vec![
        Value::Integer(side.conv),
        Value::Integer(side.start),
        Value::Text(user.as_str().to_owned()),
    ];
    let mut sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE conv_id = ?1 AND seq > ?2 AND kind = 0 \
         AND NOT EXISTS (SELECT 1 FROM deleted_messages d WHERE d.user_id = ?3 AND d.conv_id = m.conv_id AND d.seq = m.seq)"
    );
    if let Some(from) = q.from {
        let seq: Option<i64> = c
            .prepare_cached("SELECT seq FROM messages WHERE id = ?1 AND conv_id = ?2")
            .and_then(|mut st| st.query_row(params![from.0 as i64, side.conv], |r| r.get(0)))
            .optional()
            .map_err(engine)?;
        let seq = seq.ok_or(StoreError::MessageNotFound(from))?;
        args.push(Value::Integer(seq));
        sql += &format!(
            " AND seq {} ?{}",
            if newest_first { "<" } else { ">" },
            args.len()
        );
    }
    if !q.content_types.is_empty() {
        let first = args.len() + 1;
        args.extend(q.content_types.iter().map(|t| Value::Text(t.clone())));
        let marks: Vec<String> = (first..=args.len()).map(|i| format!("?{i}")).collect();
        sql += &format!(" AND content_type IN ({})", marks.join(","));
    }
    if let Some(t) = q.start_ms {
        args.push(Value::Integer(t as i64));
        sql += &format!(" AND ts_ms >= ?{}", args.len());
    }
    if let Some(t) = q.end_ms {
        args.push(Value::Integer(t as i64));
        sql += &format!(" AND ts_ms <= ?{}", args.len());
    }
    if let Some(u) = &q.sender {
        args.push(Value::Text(u.as_str().to_owned()));
        sql += &format!(" AND from_user = ?{}", args.len());
    }
    let limit = q.limit.get();
    args.push(Value::Integer(limit as i64 + 1));
    sql += &format!(
        " ORDER BY seq {} LIMIT ?{}",
        if newest_first { "DESC" } else { "ASC" },
        args.len()
    );
    let mut stmt = c.prepare_cached(&sql).map_err(engine)?;
    let mut messages = stmt
        .query_map(params_from_iter(args), message_from_row)
        .map_err(engine)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(engine)?;
    let is_last = messages.len() <= limit;
    messages.truncate(limit);
    Ok(Some(HistoryPage { messages, is_last }))
}

/// The last seq of the conversation whose message was made at or before `ms` (server time
/// never decreases along a conversation, so a binary search over seq finds it).
fn last_seq_at(c: &Connection, side: &Side, ms: u64) -> rusqlite::Result<i64> {
    let mut stmt =
        c.prepare_cached("SELECT ts_ms FROM messages WHERE conv_id = ?1 AND seq = ?2")?;
    let (mut lo, mut hi) = (side.start, side.last_seq);
    // Invariant: messages up to lo are at or before ms (or not the user's); after hi, after ms.
    while lo < hi {
        let mid = lo + (hi - lo + 1) / 2;
        let ts: i64 = stmt.query_row(params![side.conv, mid], |r| r.get(0))?;
        if ts as u64 <= ms {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(lo)
}

/// Moves the user's side start (the cleared-before point) up to `start`: nothing at or before
/// it is theirs any more, on any device. The read position follows if it was behind.
fn clear_to(c: &Connection, user: &UserId, side: &mut Side, start: i64) -> rusqlite::Result<()> {
    if start <= side.start {
        return Ok(());
    }
    c.execute(
        "UPDATE user_conversations SET start_seq = ?3 WHERE user_id = ?1 AND conv_id = ?2",
        params![user.as_str(), side.conv, start],
    )?;
    c.execute(
        "DELETE FROM deleted_messages WHERE user_id = ?1 AND conv_id = ?2 AND seq <= ?3",
        params![user.as_str(), side.conv, start],
    )?;
    side.start = start;
    if start > side.read {
        read_to(c, user, side, start)?;
    }
    Ok(())
}

/// Sets the user's read position to `seq` (a seq of the conversation).
fn read_to(c: &Connection, user: &UserId, side: &mut Side, seq: i64) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE user_conversations SET read_seq = ?3, \
            read_ord = COALESCE((SELECT ord FROM messages WHERE conv_id = ?2 AND seq = ?3), 0), \
            read_sent = sent - (SELECT COUNT(*) FROM messages WHERE conv_id = ?2 AND seq > ?3 AND from_user = ?1 AND activity = 1) \
         WHERE user_id = ?1 AND conv_id = ?2",
        params![user.as_str(), side.conv, seq],
    )?;
    side.read = seq;
    Ok(())
}

/// After a delete: looks again at what the user still sees of the conversation's activity,
/// so that the list's order and lastMessage skip what they deleted.
fn review(c: &Connection, user: &UserId, side: &Side) -> rusqlite::Result<()> {
    let was_live = side.last_chat_seq > side.hidden_to;
    let hidden_to = side.hidden_to.max(side.last_chat_seq);
    let vis: Option<(i64, i64, i64)> = c
        .query_row(
            "SELECT seq, ts_ms, id FROM messages m WHERE conv_id = ?2 AND seq > ?3 AND seq <= ?4 AND activity = 1 \
             AND NOT EXISTS (SELECT 1 FROM deleted_messages d WHERE d.user_id = ?1 AND d.conv_id = m.conv_id AND d.seq = m.seq) \
             ORDER BY seq DESC LIMIT 1",
            params![user.as_str(), side.conv, side.start, hidden_to],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (vis_seq, vis_ms, vis_id) = vis.unwrap_or((0, 0, 0));
    c.execute(
        "UPDATE user_conversations SET hidden_to = ?3, vis_seq = ?4, vis_ms = ?5, vis_id = ?8, emptied = ?6, removed = ?7, \
            sort_key = CASE WHEN ?4 > 0 THEN ?8 ELSE MAX(created_ms - 1577836800000, 0) << 22 END \
         WHERE user_id = ?1 AND conv_id = ?2",
        params![
            user.as_str(),
            side.conv,
            hidden_to,
            vis_seq,
            vis_ms,
            vis.is_none(),
            side.removed && !was_live,
            vis_id
        ],
    )?;
    Ok(())
}

/// A one-way delete. False when the user has no such conversation.
pub(crate) fn remove(
    c: &Connection,
    user: &UserId,
    target: &Target,
    removal: &Removal,
) -> Result<bool, StoreError> {
    let Some(mut side) = side(c, user, target).map_err(engine)? else {
        return Ok(false);
    };
    match removal {
        Removal::Ids(ids) => {
            let mut find = c
                .prepare_cached(
                    "SELECT seq FROM messages WHERE id = ?1 AND conv_id = ?2 AND seq > ?3",
                )
                .map_err(engine)?;
            let mut insert = c
                .prepare_cached(
                    "INSERT OR IGNORE INTO deleted_messages (user_id, conv_id, seq) VALUES (?1, ?2, ?3)",
                )
                .map_err(engine)?;
            for id in ids {
                let seq: Option<i64> = find
                    .query_row(params![id.0 as i64, side.conv, side.start], |r| r.get(0))
                    .optional()
                    .map_err(engine)?;
                if let Some(seq) = seq {
                    insert
                        .execute(params![user.as_str(), side.conv, seq])
                        .map_err(engine)?;
                }
            }
        }
        Removal::Before(ms) => {
            let start = last_seq_at(c, &side, *ms).map_err(engine)?;
            clear_to(c, user, &mut side, start).map_err(engine)?;
        }
    }
    review(c, user, &side).map_err(engine)?;
    Ok(true)
}

/// Removes a conversation from the user's list (unpinned, unmarked, read); with
/// `with_history` also everything in it up to now. False when there is no such conversation.
pub(crate) fn delete_conversation(
    c: &Connection,
    user: &UserId,
    target: &Target,
    with_history: bool,
) -> Result<bool, StoreError> {
    let Some(mut side) = side(c, user, target).map_err(engine)? else {
        return Ok(false);
    };
    delete_side(c, user, &mut side, with_history).map_err(engine)?;
    Ok(true)
}

fn delete_side(
    c: &Connection,
    user: &UserId,
    side: &mut Side,
    with_history: bool,
) -> rusqlite::Result<()> {
    if with_history {
        clear_to(c, user, side, side.last_seq)?;
    }
    if side.read < side.last_seq {
        read_to(c, user, side, side.last_seq)?;
    }
    side.removed = true;
    side.hidden_to = side.hidden_to.max(side.last_chat_seq);
    review(c, user, side)?;
    c.execute(
        "UPDATE user_conversations SET removed = 1, emptied = 0, pinned_ms = 0, marks = 0 WHERE user_id = ?1 AND conv_id = ?2",
        params![user.as_str(), side.conv],
    )?;
    Ok(())
}

/// Deletes every single and group conversation of the user with its history; returns them.
pub(crate) fn delete_all(c: &Connection, user: &UserId) -> Result<Vec<Target>, StoreError> {
    let targets: Vec<String> = c
        .prepare_cached(
            "SELECT target FROM user_conversations WHERE user_id = ?1 AND kind IN (0, 1) ORDER BY conv_id",
        )
        .and_then(|mut s| {
            s.query_map([user.as_str()], |r| r.get(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(engine)?;
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        let target = Target::decode(&t).ok_or_else(|| engine(bad_row("target")))?;
        delete_conversation(c, user, &target, true)?;
        out.push(target);
    }
    Ok(out)
}

/// Keeps the user's `keep` most active listed conversations (pinned ones always stay) and
/// removes the rest from the list, as a delete without history would; returns those removed.
pub(crate) fn evict(c: &Connection, user: &UserId, keep: usize) -> Result<Vec<Target>, StoreError> {
    let sql = format!(
        "SELECT uc.target FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
         WHERE uc.user_id = ?1 AND uc.kind IN ({SINGLE}, {GROUP}) AND {} \
         ORDER BY uc.pinned_ms > 0 DESC, {ACTIVITY} DESC, uc.conv_id DESC LIMIT -1 OFFSET ?2",
        listed(false)
    );
    let targets: Vec<String> = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map(params![user.as_str(), keep as i64], |r| r.get(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(engine)?;
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        let target = Target::decode(&t).ok_or_else(|| engine(bad_row("target")))?;
        if let Some(mut side) = side(c, user, &target).map_err(engine)?
            && side.pinned_ms == 0
        {
            delete_side(c, user, &mut side, false).map_err(engine)?;
            out.push(target);
        }
    }
    Ok(out)
}
