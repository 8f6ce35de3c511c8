//! The changes a user makes to their own view of conversations: pins, marks, one-way deletes
//! of messages or whole conversations, and eviction from an over-long list. Each runs on the
//! writer's connection, inside its transaction.
use std::sync::LazyLock;

use roam_domain::{
    conversation::Target, now_ms, roaming::Removal, store::StoreError, user::UserId,
};
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    Side, side,
    sql::{ACTIVITY, GROUP, SINGLE, listed},
};
use crate::rows::{bad_row, engine, id_column, sql_count};

/// The pin time of the user's conversation with ?2, if it is on their list.
const PINNED_MS: &str = "SELECT uc.pinned_ms FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
     WHERE uc.user_id = ?1 AND uc.target = ?2 AND uc.kind IN (0, 1) \
     AND (cv.last_chat_seq > uc.hidden_to OR uc.removed = 0)";

/// Puts mark bit ?3 on (or takes it off) the user's listed conversation with ?2.
const MARK_ON: &str = "UPDATE user_conversations AS uc SET marks = marks | ?3 FROM conversations cv \
     WHERE cv.id = uc.conv_id AND uc.user_id = ?1 AND uc.target = ?2 AND uc.kind IN (0, 1) \
     AND (cv.last_chat_seq > uc.hidden_to OR uc.removed = 0)";
const MARK_OFF: &str = "UPDATE user_conversations AS uc SET marks = marks & ~?3 FROM conversations cv \
     WHERE cv.id = uc.conv_id AND uc.user_id = ?1 AND uc.target = ?2 AND uc.kind IN (0, 1) \
     AND (cv.last_chat_seq > uc.hidden_to OR uc.removed = 0)";

/// The user's listed conversations beyond the ?2 most active (pinned ones first), in the
/// list's order: what eviction takes off the list.
static EVICTABLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT uc.target FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
         WHERE uc.user_id = ?1 AND uc.kind IN ({SINGLE}, {GROUP}) AND {} \
         ORDER BY uc.pinned_ms > 0 DESC, {ACTIVITY} DESC, uc.conv_id DESC LIMIT -1 OFFSET ?2",
        listed(false)
    )
});

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
    let current: Option<u64> = c
        .prepare_cached(PINNED_MS)
        .and_then(|mut st| {
            st.query_row(params![user.as_str(), target.encode()], |r| r.get(0))
                .optional()
        })
        .map_err(engine)?;
    let Some(current) = current else {
        return Err(StoreError::ConversationNotFound(target.clone()));
    };
    let set = |at: u64| {
        c.prepare_cached(
            "UPDATE user_conversations SET pinned_ms = ?3 WHERE user_id = ?1 AND target = ?2",
        )
        .and_then(|mut st| st.execute(params![user.as_str(), target.encode(), at]))
        .map_err(engine)
    };
    if !on {
        set(0)?;
        return Ok(None);
    }
    if current > 0 {
        return Ok(Some(current));
    }
    let (count, newest): (usize, u64) = c
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(MAX(pinned_ms), 0) FROM user_conversations WHERE user_id = ?1 AND pinned_ms > 0",
        )
        .and_then(|mut st| st.query_row([user.as_str()], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(engine)?;
    if count >= max_pinned {
        return Err(StoreError::PinLimit(max_pinned));
    }
    let at = now_ms().max(newest + 1);
    set(at)?;
    Ok(Some(at))
}

/// Adds or removes a mark; returns the targets the user has no conversation with.
pub(crate) fn mark(
    c: &Connection,
    user: &UserId,
    targets: &[Target],
    bit: u32,
    on: bool,
) -> Result<Vec<Target>, StoreError> {
    let mut stmt = c
        .prepare_cached(if on { MARK_ON } else { MARK_OFF })
        .map_err(engine)?;
    let mut missing = Vec::new();
    for t in targets {
        let n = stmt
            .execute(params![user.as_str(), t.encode(), i64::from(bit)])
            .map_err(engine)?;
        if n == 0 {
            missing.push(t.clone());
        }
    }
    Ok(missing)
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
        let ts: u64 = stmt.query_row(params![side.conv, mid], |r| r.get(0))?;
        if ts <= ms {
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
    c.prepare_cached(
        "UPDATE user_conversations SET start_seq = ?3 WHERE user_id = ?1 AND conv_id = ?2",
    )?
    .execute(params![user.as_str(), side.conv, start])?;
    c.prepare_cached(
        "DELETE FROM deleted_messages WHERE user_id = ?1 AND conv_id = ?2 AND seq <= ?3",
    )?
    .execute(params![user.as_str(), side.conv, start])?;
    side.start = start;
    if start > side.read {
        read_to(c, user, side, start)?;
    }
    Ok(())
}

/// Sets the user's read position to `seq` (a seq of the conversation).
fn read_to(c: &Connection, user: &UserId, side: &mut Side, seq: i64) -> rusqlite::Result<()> {
    c.prepare_cached(
        "UPDATE user_conversations SET read_seq = ?3, \
            read_ord = COALESCE((SELECT ord FROM messages WHERE conv_id = ?2 AND seq = ?3), 0), \
            read_sent = sent - (SELECT COUNT(*) FROM messages WHERE conv_id = ?2 AND seq > ?3 AND from_user = ?1 AND activity = 1) \
         WHERE user_id = ?1 AND conv_id = ?2",
    )?
    .execute(params![user.as_str(), side.conv, seq])?;
    side.read = seq;
    Ok(())
}

/// After a delete: looks again at what the user still sees of the conversation's activity,
/// so that the list's order and lastMessage skip what they deleted.
fn review(c: &Connection, user: &UserId, side: &Side) -> rusqlite::Result<()> {
    let was_live = side.last_chat_seq > side.hidden_to;
    let hidden_to = side.hidden_to.max(side.last_chat_seq);
    let vis: Option<(i64, i64, i64)> = c
        .prepare_cached(
            "SELECT seq, ts_ms, id FROM messages m WHERE conv_id = ?2 AND seq > ?3 AND seq <= ?4 AND activity = 1 \
             AND NOT EXISTS (SELECT 1 FROM deleted_messages d WHERE d.user_id = ?1 AND d.conv_id = m.conv_id AND d.seq = m.seq) \
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(
            params![user.as_str(), side.conv, side.start, hidden_to],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (vis_seq, vis_ms, vis_id) = vis.unwrap_or((0, 0, 0));
    c.prepare_cached(
        "UPDATE user_conversations SET hidden_to = ?3, vis_seq = ?4, vis_ms = ?5, vis_id = ?8, emptied = ?6, removed = ?7, \
            sort_key = CASE WHEN ?4 > 0 THEN ?8 ELSE roam_id_floor(created_ms) END \
         WHERE user_id = ?1 AND conv_id = ?2",
    )?
    .execute(params![
        user.as_str(),
        side.conv,
        hidden_to,
        vis_seq,
        vis_ms,
        vis.is_none(),
        side.removed && !was_live,
        vis_id
    ])?;
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
                let Some(id) = id_column(*id) else {
                    continue;
                };
                let seq: Option<i64> = find
                    .query_row(params![id, side.conv, side.start], |r| r.get(0))
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
    c.prepare_cached(
        "UPDATE user_conversations SET removed = 1, emptied = 0, pinned_ms = 0, marks = 0 WHERE user_id = ?1 AND conv_id = ?2",
    )?
    .execute(params![user.as_str(), side.conv])?;
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
    let targets: Vec<String> = c
        .prepare_cached(&EVICTABLE)
        .and_then(|mut s| {
            s.query_map(params![user.as_str(), sql_count(keep)], |r| r.get(0))?
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roaming::sql::ON_LIST;

    #[test]
    fn the_spelled_out_statements_use_the_list_condition() {
        for sql in [PINNED_MS, MARK_ON, MARK_OFF] {
            assert!(sql.ends_with(&format!("AND {ON_LIST}")), "{sql}");
        }
    }
}
