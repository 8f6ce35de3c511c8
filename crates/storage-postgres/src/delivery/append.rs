//! Appending a message to its conversation, in named steps; and the events a write causes,
//! appended in the write's transaction.
//!
//! Several nodes may append to one conversation at once: the conversation's row is locked
//! (`SELECT … FOR UPDATE`) before the message is numbered, so seqs stay gap-free and in order,
//! and the node's id generator is moved past the conversation's last id (`last_id`) so ids
//! increase with the seq whichever node wrote the previous message.
use roam_domain::{
    conversation::Target,
    id::{IdGenerator, MessageId},
    message::{MessageKind, NewMessage, StoredMessage},
    now_ms,
    store::{Committed, Events, StoreError},
    user::UserId,
};

use crate::rows::{
    Tx, conversation_key, exec, message_from_row, row, row_opt, sql_bound, unsigned,
};

/// Runs the events function of a write with its outcome and appends the events it returns,
/// in order, in the write's transaction: they commit with the write or not at all (see
/// `roam_domain::store`). (A write that may run again after a deadlock uses
/// [`super::OnceEvents`] instead.)
#[allow(dead_code, reason = "for the writes of the other parts (roaming)")]
pub(crate) async fn with_events<T>(
    tx: &Tx<'_>,
    ids: &IdGenerator,
    value: T,
    events: Events<T>,
) -> Result<Committed<T>, StoreError> {
    let messages = events(&value);
    append_all(tx, ids, value, messages).await
}

/// Appends `messages` in order and answers them with `value`.
pub(crate) async fn append_all<T>(
    tx: &Tx<'_>,
    ids: &IdGenerator,
    value: T,
    messages: Vec<NewMessage>,
) -> Result<Committed<T>, StoreError> {
    let mut events = Vec::with_capacity(messages.len());
    for m in messages {
        events.push(append(tx, ids, m).await?);
    }
    Ok(Committed { value, events })
}

/// Stores a message at the end of its conversation, in the write's transaction (see
/// [`try_append`]). A lost resend race is an error ([`is_resend_race`]) that must roll the
/// transaction back: `DeliveryStore::append` then answers the message the other stored.
pub(crate) async fn append(
    tx: &Tx<'_>,
    ids: &IdGenerator,
    m: NewMessage,
) -> Result<StoredMessage, StoreError> {
    try_append(tx, ids, m)
        .await?
        .ok_or_else(|| StoreError::Engine(RESEND_RACE.into()))
}

const RESEND_RACE: &str = "a message was stored concurrently under the same client id";

/// Whether [`append`] failed for a lost resend race.
pub(crate) fn is_resend_race(e: &StoreError) -> bool {
    matches!(e, StoreError::Engine(m) if m == RESEND_RACE)
}

/// Stores a message at the end of its conversation (see `DeliveryStore::append`), in named
/// steps: a resend is answered with what was stored; else the conversation's row is made if
/// new and locked, the message gets its id and next seq, is inserted, the sides it opens are
/// made, the activity is counted, and a read ack moves the sender's read position.
///
/// None: another transaction stored a message under the same device and client id between
/// the resend check and the insert (the unique index `messages_client_id` caught it). The
/// conversation's row has moved on already: the caller must roll back, then answer the
/// stored message.
async fn try_append(
    tx: &Tx<'_>,
    ids: &IdGenerator,
    m: NewMessage,
) -> Result<Option<StoredMessage>, StoreError> {
    if let Some(stored) = resend_of(tx, &m).await? {
        return Ok(Some(stored));
    }
    // A group read ack concerns the sender alone: it moves their read position and goes to
    // their own log (their other devices learn of it there), not to every member.
    let group_ack = m.kind == MessageKind::ChannelAck && matches!(m.to, Target::Group(_));
    let key = if group_ack {
        conversation_key(&m.from, &Target::System)
    } else {
        conversation_key(&m.from, &m.to)
    };
    let activity = m.activity && m.kind == MessageKind::Chat;
    let next = next_in_conversation(tx, ids, &key, activity).await?;
    if !insert_message(tx, &m, &next, activity).await? {
        return Ok(None);
    }
    match &m.to {
        Target::User(to) if activity => chat_activity(tx, &m, to, &next).await?,
        _ => {
            open_sides(tx, &m, &next, activity, group_ack, None).await?;
            if activity {
                count_sent(tx, &m, &next).await?;
            }
        }
    }
    apply_read_ack(tx, &m, &next, group_ack).await?;
    Ok(Some(StoredMessage {
        id: next.id,
        seq: next.seq,
        from: m.from,
        from_resource: m.from_resource,
        to: m.to,
        kind: m.kind,
        timestamp_ms: next.ts,
        payload: m.payload,
        activity,
    }))
}

/// Where a message lands: its conversation, its id, time and seq, and the conversation's
/// activity count with it.
struct Next {
    conv: i64,
    id: MessageId,
    ts: u64,
    seq: u64,
    count: u64,
}

impl Next {
    fn id_column(&self) -> i64 {
        sql_bound(self.id.0)
    }
}

/// The message device ($1 user, $2 resource) sent under client id $3.
const RESEND_OF: &str = "SELECT seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity \
     FROM messages WHERE from_user = $1 AND from_res = $2 AND client_id = $3";

/// A message the same device sent before with the same client id (a resend after a lost
/// ack): stored once, answered again.
pub(crate) async fn resend_of(
    c: &impl deadpool_postgres::GenericClient,
    m: &NewMessage,
) -> Result<Option<StoredMessage>, StoreError> {
    let Some(client_id) = m.client_id else {
        return Ok(None);
    };
    row_opt(
        c,
        RESEND_OF,
        &[
            &m.from.as_str(),
            &m.from_resource.as_str(),
            &client_id_column(client_id),
        ],
    )
    .await?
    .map(|r| message_from_row(&r))
    .transpose()
}

/// The `messages.client_id` column of a device's message id: any u64 the device chose (an
/// opaque key, only ever compared for equality), kept bit for bit in a BIGINT.
fn client_id_column(client_id: u64) -> i64 {
    client_id.cast_signed()
}

/// Locks the conversation's row, making it first if it is new (the common case, an existing
/// conversation, costs one statement), and takes the next id and seq: the id above the
/// conversation's last one (whichever node made it), the seq after its last.
async fn next_in_conversation(
    tx: &Tx<'_>,
    ids: &IdGenerator,
    key: &str,
    activity: bool,
) -> Result<Next, StoreError> {
    const LOCK: &str =
        "SELECT id, last_seq, last_id, chat_count FROM conversations WHERE key = $1 FOR UPDATE";
    let r = match row_opt(tx, LOCK, &[&key]).await? {
        Some(r) => r,
        None => {
            let now = sql_bound(now_ms());
            exec(
                tx,
                "INSERT INTO conversations (key, last_seq, last_ms, created_ms) VALUES ($1, 0, $2, $2) \
                 ON CONFLICT (key) DO NOTHING",
                &[&key, &now],
            )
            .await?;
            row(tx, LOCK, &[&key]).await?
        }
    };
    let conv: i64 = r.try_get(0).map_err(crate::rows::engine)?;
    let last_seq = unsigned(&r, 1)?;
    let last_id = MessageId(unsigned(&r, 2)?);
    let count = unsigned(&r, 3)? + u64::from(activity);
    let mut id = ids.next();
    if id <= last_id {
        ids.resume_after(last_id);
        id = ids.next();
    }
    Ok(Next {
        conv,
        id,
        ts: id.timestamp_ms(),
        seq: last_seq + 1,
        count,
    })
}

/// Moves the conversation's row on to the message and inserts it, in one statement; false if
/// a message of the same device and client id exists (see [`try_append`]).
async fn insert_message(
    tx: &Tx<'_>,
    m: &NewMessage,
    next: &Next,
    activity: bool,
) -> Result<bool, StoreError> {
    let kind = i32::try_from(m.kind.code()).map_err(|_| StoreError::Engine("kind".into()))?;
    let n = exec(
        tx,
        "WITH moved AS (UPDATE conversations SET last_seq = $2, last_id = $3, last_ms = $4, chat_count = $5, \
         last_chat_seq = CASE WHEN $6 THEN $2 ELSE last_chat_seq END, \
         last_chat_ms = CASE WHEN $6 THEN $4 ELSE last_chat_ms END, \
         last_chat_id = CASE WHEN $6 THEN $3 ELSE last_chat_id END \
         WHERE id = $1) \
         INSERT INTO messages (conv_id, seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity, ord, content_type, client_id) \
         VALUES ($1, $2, $3, $7, $8, $9, $10, $4, $11, CASE WHEN $6 THEN 1 ELSE 0 END, $5, $12, $13) \
         ON CONFLICT (from_user, from_res, client_id) WHERE client_id IS NOT NULL DO NOTHING",
        &[
            &next.conv,
            &sql_bound(next.seq),
            &next.id_column(),
            &sql_bound(next.ts),
            &sql_bound(next.count),
            &activity,
            &m.from.as_str(),
            &m.from_resource.as_str(),
            &m.to.encode(),
            &kind,
            &&m.payload[..],
            &m.content_type,
            &m.client_id.map(client_id_column),
        ],
    )
    .await?;
    Ok(n == 1)
}

/// A single chat's two sides exist from its first message on. A side created later than the
/// conversation (a user deleted and registered again under the same id) starts at this
/// message and inherits nothing before it. (Group members' sides are made when they join.)
/// `counted`: the sides are made with this chat message already counted on them (see
/// [`chat_activity`]), else as of before the message. A side another node made meanwhile is
/// kept as it is (`ON CONFLICT DO NOTHING`).
async fn open_sides(
    tx: &Tx<'_>,
    m: &NewMessage,
    next: &Next,
    activity: bool,
    group_ack: bool,
    counted: Option<MessageId>,
) -> Result<(), StoreError> {
    let sides: Vec<(&UserId, Target, i32)> = match &m.to {
        Target::User(to) => vec![
            (&m.from, m.to.clone(), 0),
            (to, Target::User(m.from.clone()), 0),
        ],
        Target::System => vec![(&m.from, Target::System, 3)],
        Target::Group(_) if group_ack => vec![(&m.from, Target::System, 3)],
        Target::Group(_) => vec![],
    };
    let sort_key = counted.unwrap_or_else(|| MessageId::floor_at(next.ts));
    for (user, other, kind) in sides {
        let sent = counted.is_some() && *user == m.from;
        exec(
            tx,
            "INSERT INTO user_conversations (user_id, conv_id, target, kind, start_seq, synced_seq, read_seq, read_ord, hidden_to, created_ms, sort_key, sent) \
             VALUES ($1, $2, $3, $4, $5, $5, $5, $6, $5, $7, $8, $9) ON CONFLICT DO NOTHING",
            &[
                &user.as_str(),
                &next.conv,
                &other.encode(),
                &kind,
                &sql_bound(next.seq - 1),
                &sql_bound(next.count - u64::from(activity)),
                &sql_bound(next.ts),
                &sql_bound(sort_key.0),
                &i64::from(sent),
            ],
        )
        .await?;
    }
    Ok(())
}

/// A single chat's message counts as activity: the sender's sent count grows (it is not
/// unread to them) and both sides move to the top of their lists, in one statement. Only if
/// a side is missing (the conversation's first message, or a user registered again under a
/// deleted id) are the sides made, with this message already counted.
async fn chat_activity(
    tx: &Tx<'_>,
    m: &NewMessage,
    to: &UserId,
    next: &Next,
) -> Result<(), StoreError> {
    let moved = exec(
        tx,
        "UPDATE user_conversations SET sent = sent + CASE WHEN user_id = $3 THEN 1 ELSE 0 END, sort_key = $2 \
         WHERE conv_id = $1 AND kind = 0",
        &[&next.conv, &next.id_column(), &m.from.as_str()],
    )
    .await?;
    let sides = if *to == m.from { 1 } else { 2 };
    if moved < sides {
        open_sides(tx, m, next, true, false, Some(next.id)).await?;
    }
    Ok(())
}

/// A group message counts as activity: the sender's sent count grows.
async fn count_sent(tx: &Tx<'_>, m: &NewMessage, next: &Next) -> Result<(), StoreError> {
    exec(
        tx,
        "UPDATE user_conversations SET sent = sent + 1 WHERE user_id = $1 AND conv_id = $2",
        &[&m.from.as_str(), &next.conv],
    )
    .await?;
    Ok(())
}

/// A conversation read ack: read up to here (a group's: up to its newest message), on every
/// device of the sender; unread becomes 0.
async fn apply_read_ack(
    tx: &Tx<'_>,
    m: &NewMessage,
    next: &Next,
    group_ack: bool,
) -> Result<(), StoreError> {
    if group_ack {
        exec(
            tx,
            "UPDATE user_conversations SET read_seq = cv.last_seq, read_ord = cv.chat_count, read_sent = sent \
             FROM conversations cv WHERE cv.key = $2 AND user_conversations.conv_id = cv.id AND user_conversations.user_id = $1",
            &[&m.from.as_str(), &conversation_key(&m.from, &m.to)],
        )
        .await?;
    } else if m.kind == MessageKind::ChannelAck {
        exec(
            tx,
            "UPDATE user_conversations SET read_seq = $3, read_ord = $4, read_sent = sent WHERE user_id = $1 AND conv_id = $2",
            &[
                &m.from.as_str(),
                &next.conv,
                &sql_bound(next.seq),
                &sql_bound(next.count),
            ],
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::MESSAGE_COLUMNS;

    #[test]
    fn the_resend_lookup_selects_the_message_columns() {
        assert!(RESEND_OF.starts_with(&format!("SELECT {MESSAGE_COLUMNS} ")));
    }
}
