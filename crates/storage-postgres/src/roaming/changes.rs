//! The changes a user makes to their own view of conversations: pins, marks, one-way deletes
//! of messages or whole conversations, and eviction from an over-long list. Each runs inside
//! the call's transaction, after the user's locks (see the module docs of `roaming`); a side
//! is moved only while locked (`side_for_update`) or in one statement.
use std::{collections::HashSet, sync::LazyLock};

use roam_domain::{conversation::Target, roaming::Removal, store::StoreError, user::UserId};

use super::{
    Side, lock_sides, side_for_update,
    sql::{ACTIVITY, GROUP, SINGLE, listed},
};
use crate::rows::{Tx, bad_row, engine, id_column, id_floor_sql, sql_bound, sql_count};

/// The pin time of the user's conversation with $2, if it is on their list; its side locked.
const PINNED_MS: &str = "SELECT uc.pinned_ms FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
     WHERE uc.user_id = $1 AND uc.target = $2 AND uc.kind IN (0, 1) \
     AND (cv.last_chat_seq > uc.hidden_to OR uc.removed = 0) FOR UPDATE OF uc";

/// Puts mark bit $3 on (or takes it off) the user's listed conversations with the targets
/// $2, answering the targets it found.
const MARK_ON: &str = "UPDATE user_conversations AS uc SET marks = marks | $3::BIGINT FROM conversations cv \
     WHERE cv.id = uc.conv_id AND uc.user_id = $1 AND uc.target = ANY($2) AND uc.kind IN (0, 1) \
     AND (cv.last_chat_seq > uc.hidden_to OR uc.removed = 0) RETURNING uc.target";
const MARK_OFF: &str = "UPDATE user_conversations AS uc SET marks = marks & ~$3::BIGINT FROM conversations cv \
     WHERE cv.id = uc.conv_id AND uc.user_id = $1 AND uc.target = ANY($2) AND uc.kind IN (0, 1) \
     AND (cv.last_chat_seq > uc.hidden_to OR uc.removed = 0) RETURNING uc.target";

/// The user's listed conversations beyond the $2 most active (pinned ones first), in the
/// list's order: what eviction takes off the list.
static EVICTABLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT uc.target FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
         WHERE uc.user_id = $1 AND uc.kind IN ({SINGLE}, {GROUP}) AND {} \
         ORDER BY uc.pinned_ms > 0 DESC, {} DESC, uc.conv_id DESC OFFSET $2",
        listed(false),
        *ACTIVITY
    )
});

/// After a delete, the user's view of the conversation's activity: see [`review`].
static REVIEW: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE user_conversations SET hidden_to = $3, vis_seq = $4, vis_ms = $5, vis_id = $8, emptied = $6, removed = $7, \
            sort_key = CASE WHEN $4::BIGINT > 0 THEN $8::BIGINT ELSE {} END \
         WHERE user_id = $1 AND conv_id = $2",
        id_floor_sql("created_ms")
    )
});

/// Pins (returning the pin time: `now`, or just after the user's newest pin) or unpins a
/// conversation. Pin times are strictly increasing per user (the user's lock serializes their
/// pins), so "newest pin first" is a total order.
pub(crate) async fn pin(
    tx: &Tx<'_>,
    user: &UserId,
    target: &Target,
    on: bool,
    max_pinned: usize,
    now: u64,
) -> Result<Option<u64>, StoreError> {
    lock_sides(tx, user, std::slice::from_ref(target)).await?;
    // Only a conversation still on the user's list can be pinned: one they deleted is gone
    // until a new message brings it back.
    let st = tx.prepare_cached(PINNED_MS).await.map_err(engine)?;
    let current: Option<i64> = tx
        .query_opt(&st, &[&user.as_str(), &target.encode()])
        .await
        .map_err(engine)?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(engine)?;
    let Some(current) = current else {
        return Err(StoreError::ConversationNotFound(target.clone()));
    };
    let set = |at: i64| async move {
        let st = tx
            .prepare_cached(
                "UPDATE user_conversations SET pinned_ms = $3 WHERE user_id = $1 AND target = $2",
            )
            .await
            .map_err(engine)?;
        tx.execute(&st, &[&user.as_str(), &target.encode(), &at])
            .await
            .map_err(engine)
    };
    if !on {
        set(0).await?;
        return Ok(None);
    }
    if current > 0 {
        return Ok(Some(
            u64::try_from(current).map_err(|_| bad_row("pin time"))?,
        ));
    }
    let st = tx
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(MAX(pinned_ms), 0) FROM user_conversations WHERE user_id = $1 AND pinned_ms > 0",
        )
        .await
        .map_err(engine)?;
    let r = tx.query_one(&st, &[&user.as_str()]).await.map_err(engine)?;
    let count: i64 = r.try_get(0).map_err(engine)?;
    let newest: i64 = r.try_get(1).map_err(engine)?;
    if usize::try_from(count).is_ok_and(|n| n >= max_pinned) {
        return Err(StoreError::PinLimit(max_pinned));
    }
    let at = sql_bound(now).max(newest + 1);
    set(at).await?;
    Ok(Some(u64::try_from(at).map_err(|_| bad_row("pin time"))?))
}

/// Adds or removes a mark; returns the targets the user has no conversation with.
pub(crate) async fn mark(
    tx: &Tx<'_>,
    user: &UserId,
    targets: &[Target],
    bit: u32,
    on: bool,
) -> Result<Vec<Target>, StoreError> {
    lock_sides(tx, user, targets).await?;
    let st = tx
        .prepare_cached(if on { MARK_ON } else { MARK_OFF })
        .await
        .map_err(engine)?;
    let encoded: Vec<String> = targets.iter().map(Target::encode).collect();
    let found = tx
        .query(&st, &[&user.as_str(), &encoded, &i64::from(bit)])
        .await
        .map_err(engine)?
        .iter()
        .map(|r| r.try_get::<_, String>(0))
        .collect::<Result<HashSet<_>, _>>()
        .map_err(engine)?;
    Ok(targets
        .iter()
        .zip(&encoded)
        .filter(|(_, e)| !found.contains(*e))
        .map(|(t, _)| t.clone())
        .collect())
}

/// The last seq of the conversation whose message was made at or before `ms` (server time
/// never decreases along a conversation, so a binary search over seq finds it).
async fn last_seq_at(tx: &Tx<'_>, side: &Side, ms: u64) -> Result<i64, StoreError> {
    let st = tx
        .prepare_cached("SELECT ts_ms FROM messages WHERE conv_id = $1 AND seq = $2")
        .await
        .map_err(engine)?;
    let ms = sql_bound(ms);
    let (mut lo, mut hi) = (side.start, side.last_seq);
    // Invariant: messages up to lo are at or before ms (or not the user's); after hi, after ms.
    while lo < hi {
        let mid = lo + (hi - lo + 1) / 2;
        let ts: i64 = tx
            .query_one(&st, &[&side.conv, &mid])
            .await
            .map_err(engine)?
            .try_get(0)
            .map_err(engine)?;
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
async fn clear_to(
    tx: &Tx<'_>,
    user: &UserId,
    side: &mut Side,
    start: i64,
) -> Result<(), StoreError> {
    if start <= side.start {
        return Ok(());
    }
    let st = tx
        .prepare_cached(
            "UPDATE user_conversations SET start_seq = $3 WHERE user_id = $1 AND conv_id = $2",
        )
        .await
        .map_err(engine)?;
    tx.execute(&st, &[&user.as_str(), &side.conv, &start])
        .await
        .map_err(engine)?;
    let st = tx
        .prepare_cached(
            "DELETE FROM deleted_messages WHERE user_id = $1 AND conv_id = $2 AND seq <= $3",
        )
        .await
        .map_err(engine)?;
    tx.execute(&st, &[&user.as_str(), &side.conv, &start])
        .await
        .map_err(engine)?;
    side.start = start;
    if start > side.read {
        read_to(tx, user, side, start).await?;
    }
    Ok(())
}

/// Sets the user's read position to `seq` (a seq of the conversation).
async fn read_to(tx: &Tx<'_>, user: &UserId, side: &mut Side, seq: i64) -> Result<(), StoreError> {
    let st = tx
        .prepare_cached(
            "UPDATE user_conversations SET read_seq = $3, \
                read_ord = COALESCE((SELECT ord FROM messages WHERE conv_id = $2 AND seq = $3), 0), \
                read_sent = sent - (SELECT COUNT(*) FROM messages WHERE conv_id = $2 AND seq > $3 AND from_user = $1 AND activity = 1) \
             WHERE user_id = $1 AND conv_id = $2",
        )
        .await
        .map_err(engine)?;
    tx.execute(&st, &[&user.as_str(), &side.conv, &seq])
        .await
        .map_err(engine)?;
    side.read = seq;
    Ok(())
}

/// After a delete: looks again at what the user still sees of the conversation's activity,
/// so that the list's order and lastMessage skip what they deleted.
async fn review(tx: &Tx<'_>, user: &UserId, side: &Side) -> Result<(), StoreError> {
    let was_live = side.last_chat_seq > side.hidden_to;
    let hidden_to = side.hidden_to.max(side.last_chat_seq);
    let st = tx
        .prepare_cached(
            "SELECT seq, ts_ms, id FROM messages m WHERE conv_id = $2 AND seq > $3 AND seq <= $4 AND activity = 1 \
             AND NOT EXISTS (SELECT 1 FROM deleted_messages d WHERE d.user_id = $1 AND d.conv_id = m.conv_id AND d.seq = m.seq) \
             ORDER BY seq DESC LIMIT 1",
        )
        .await
        .map_err(engine)?;
    let vis = tx
        .query_opt(&st, &[&user.as_str(), &side.conv, &side.start, &hidden_to])
        .await
        .map_err(engine)?;
    let (vis_seq, vis_ms, vis_id): (i64, i64, i64) = match &vis {
        Some(r) => (
            r.try_get(0).map_err(engine)?,
            r.try_get(1).map_err(engine)?,
            r.try_get(2).map_err(engine)?,
        ),
        None => (0, 0, 0),
    };
    let emptied = i32::from(vis.is_none());
    let removed = i32::from(side.removed && !was_live);
    let st = tx.prepare_cached(&REVIEW).await.map_err(engine)?;
    tx.execute(
        &st,
        &[
            &user.as_str(),
            &side.conv,
            &hidden_to,
            &vis_seq,
            &vis_ms,
            &emptied,
            &removed,
            &vis_id,
        ],
    )
    .await
    .map_err(engine)?;
    Ok(())
}

/// A one-way delete. False when the user has no such conversation.
pub(crate) async fn remove(
    tx: &Tx<'_>,
    user: &UserId,
    target: &Target,
    removal: &Removal,
) -> Result<bool, StoreError> {
    lock_sides(tx, user, std::slice::from_ref(target)).await?;
    let Some(mut side) = side_for_update(tx, user, target).await? else {
        return Ok(false);
    };
    match removal {
        Removal::Ids(ids) => {
            // (An id past every message's, or not of this conversation, or before the side's
            // start, deletes nothing.)
            let ids: Vec<i64> = ids.iter().filter_map(|id| id_column(*id)).collect();
            let st = tx
                .prepare_cached(
                    "INSERT INTO deleted_messages (user_id, conv_id, seq) \
                     SELECT $1, conv_id, seq FROM messages WHERE id = ANY($4) AND conv_id = $2 AND seq > $3 \
                     ON CONFLICT DO NOTHING",
                )
                .await
                .map_err(engine)?;
            tx.execute(&st, &[&user.as_str(), &side.conv, &side.start, &ids])
                .await
                .map_err(engine)?;
        }
        Removal::Before(ms) => {
            let start = last_seq_at(tx, &side, *ms).await?;
            clear_to(tx, user, &mut side, start).await?;
        }
    }
    review(tx, user, &side).await?;
    Ok(true)
}

/// Removes a conversation from the user's list (unpinned, unmarked, read); with
/// `with_history` also everything in it up to now. False when there is no such conversation.
pub(crate) async fn delete_conversation(
    tx: &Tx<'_>,
    user: &UserId,
    target: &Target,
    with_history: bool,
) -> Result<bool, StoreError> {
    lock_sides(tx, user, std::slice::from_ref(target)).await?;
    delete_locked(tx, user, target, with_history).await
}

/// [`delete_conversation`] once its locks are held.
async fn delete_locked(
    tx: &Tx<'_>,
    user: &UserId,
    target: &Target,
    with_history: bool,
) -> Result<bool, StoreError> {
    let Some(mut side) = side_for_update(tx, user, target).await? else {
        return Ok(false);
    };
    delete_side(tx, user, &mut side, with_history).await?;
    Ok(true)
}

async fn delete_side(
    tx: &Tx<'_>,
    user: &UserId,
    side: &mut Side,
    with_history: bool,
) -> Result<(), StoreError> {
    if with_history {
        let last = side.last_seq;
        clear_to(tx, user, side, last).await?;
    }
    if side.read < side.last_seq {
        let last = side.last_seq;
        read_to(tx, user, side, last).await?;
    }
    side.removed = true;
    side.hidden_to = side.hidden_to.max(side.last_chat_seq);
    review(tx, user, side).await?;
    let st = tx
        .prepare_cached(
            "UPDATE user_conversations SET removed = 1, emptied = 0, pinned_ms = 0, marks = 0 WHERE user_id = $1 AND conv_id = $2",
        )
        .await
        .map_err(engine)?;
    tx.execute(&st, &[&user.as_str(), &side.conv])
        .await
        .map_err(engine)?;
    Ok(())
}

/// The targets of the statement `sql` (binding the user, and `n` if given).
async fn targets(
    tx: &Tx<'_>,
    sql: &str,
    user: &UserId,
    n: Option<i64>,
) -> Result<Vec<Target>, StoreError> {
    let st = tx.prepare_cached(sql).await.map_err(engine)?;
    let rows = match n {
        Some(n) => tx.query(&st, &[&user.as_str(), &n]).await,
        None => tx.query(&st, &[&user.as_str()]).await,
    }
    .map_err(engine)?;
    rows.iter()
        .map(|r| {
            Target::decode(r.try_get::<_, &str>(0).map_err(engine)?)
                .ok_or_else(|| bad_row("target"))
        })
        .collect()
}

/// Deletes every single and group conversation of the user with its history; returns them.
pub(crate) async fn delete_all(tx: &Tx<'_>, user: &UserId) -> Result<Vec<Target>, StoreError> {
    let all = targets(
        tx,
        "SELECT target FROM user_conversations WHERE user_id = $1 AND kind IN (0, 1) ORDER BY conv_id",
        user,
        None,
    )
    .await?;
    lock_sides(tx, user, &all).await?;
    let mut out = Vec::with_capacity(all.len());
    for target in all {
        // (A side gone since the read, with its group, is no longer there to delete.)
        if delete_locked(tx, user, &target, true).await? {
            out.push(target);
        }
    }
    Ok(out)
}

/// Keeps the user's `keep` most active listed conversations (pinned ones always stay) and
/// removes the rest from the list, as a delete without history would; returns those removed.
pub(crate) async fn evict(
    tx: &Tx<'_>,
    user: &UserId,
    keep: usize,
) -> Result<Vec<Target>, StoreError> {
    let evictable = targets(tx, &EVICTABLE, user, Some(sql_count(keep))).await?;
    lock_sides(tx, user, &evictable).await?;
    let mut out = Vec::with_capacity(evictable.len());
    for target in evictable {
        if let Some(mut side) = side_for_update(tx, user, &target).await?
            && side.pinned_ms == 0
        {
            delete_side(tx, user, &mut side, false).await?;
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
        for sql in [MARK_ON, MARK_OFF] {
            assert!(
                sql.ends_with(&format!("AND {ON_LIST} RETURNING uc.target")),
                "{sql}"
            );
        }
        assert!(PINNED_MS.ends_with(&format!("AND {ON_LIST} FOR UPDATE OF uc")));
    }
}
