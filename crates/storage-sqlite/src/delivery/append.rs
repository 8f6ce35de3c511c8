//! Appending a message to its conversation, in named steps; and the events a write causes,
//! appended in the write's transaction.
use roam_domain::{
    conversation::Target,
    id::{IdGenerator, MessageId},
    message::{MessageKind, NewMessage, StoredMessage},
    store::{Committed, Events, StoreError},
    user::UserId,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::rows::{conversation_key, engine, message_from_row};

/// Runs the events function of a write with its outcome and appends the events it returns,
/// in order, on the write's connection: they commit with the write or not at all (see
/// `roam_domain::store`).
pub(crate) fn with_events<T>(
    c: &Connection,
    ids: &IdGenerator,
    value: T,
    events: Events<T>,
) -> Result<Committed<T>, StoreError> {
    let events = events(&value)
        .into_iter()
        .map(|m| append(c, ids, m))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Committed { value, events })
}

/// Stores a message at the end of its conversation (see `DeliveryStore::append`), in named
/// steps: a resend is answered with what was stored; else the conversation gets its next seq,
/// the message is inserted, the sides it opens are made, the activity is counted, and a read
/// ack moves the sender's read position. A single chat's message, the common case, costs
/// four statements once its conversation exists (resend check, upsert, insert, both sides).
pub(crate) fn append(
    c: &Connection,
    ids: &IdGenerator,
    m: NewMessage,
) -> Result<StoredMessage, StoreError> {
    if let Some(stored) = resend_of(c, &m).map_err(engine)? {
        return Ok(stored);
    }
    // A group read ack concerns the sender alone: it moves their read position and goes to
    // their own log (their other devices learn of it there), not to every member.
    let group_ack = m.kind == MessageKind::ChannelAck && matches!(m.to, Target::Group(_));
    let key = if group_ack {
        conversation_key(&m.from, &Target::System)
    } else {
        conversation_key(&m.from, &m.to)
    };
    let id = ids.next();
    let ts = id.timestamp_ms();
    let activity = m.activity && m.kind == MessageKind::Chat;
    let next = next_in_conversation(c, &key, id, ts, activity).map_err(engine)?;
    insert_message(c, &m, &next, id, ts, activity).map_err(engine)?;
    match &m.to {
        Target::User(to) if activity => chat_activity(c, &m, to, &next, id, ts).map_err(engine)?,
        _ => {
            open_sides(c, &m, &next, ts, activity, group_ack, None).map_err(engine)?;
            if activity {
                count_sent(c, &m, &next).map_err(engine)?;
            }
        }
    }
    apply_read_ack(c, &m, &next, group_ack).map_err(engine)?;
    Ok(StoredMessage {
        id,
        seq: next.seq,
        from: m.from,
        from_resource: m.from_resource,
        to: m.to,
        kind: m.kind,
        timestamp_ms: ts,
        payload: m.payload,
        activity,
    })
}

/// Where a message lands: its conversation, its seq, and the conversation's activity count
/// with it.
struct Next {
    conv: i64,
    seq: u64,
    count: u64,
}

/// The message device (?1 user, ?2 resource) sent under client id ?3.
const RESEND_OF: &str = "SELECT seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity \
     FROM messages WHERE from_user = ?1 AND from_res = ?2 AND client_id = ?3";

/// A message the same device sent before with the same client id (a resend after a lost
/// ack): stored once, answered again.
fn resend_of(c: &Connection, m: &NewMessage) -> rusqlite::Result<Option<StoredMessage>> {
    let Some(client_id) = m.client_id else {
        return Ok(None);
    };
    c.prepare_cached(RESEND_OF)?
        .query_row(
            params![
                m.from.as_str(),
                m.from_resource.as_str(),
                client_id_column(client_id)
            ],
            message_from_row,
        )
        .optional()
}

/// The `messages.client_id` column of a device's message id: any u64 the device chose (an
/// opaque key, only ever compared for equality), kept bit for bit in SQLite's i64.
fn client_id_column(client_id: u64) -> i64 {
    client_id.cast_signed()
}

/// Makes the conversation row if it is new and takes its next seq, in one statement: a new
/// row holds the conversation's first message, an existing one moves on by one. (SET
/// expressions see the row's old values: last_seq + 1 is the new seq.)
fn next_in_conversation(
    c: &Connection,
    key: &str,
    id: MessageId,
    ts: u64,
    activity: bool,
) -> rusqlite::Result<Next> {
    c.prepare_cached(
        "INSERT INTO conversations (key, last_seq, last_ms, created_ms, chat_count, last_chat_seq, last_chat_ms, last_chat_id) \
         VALUES (?1, 1, ?2, ?2, ?3, ?3, CASE WHEN ?3 THEN ?2 ELSE 0 END, CASE WHEN ?3 THEN ?4 ELSE 0 END) \
         ON CONFLICT(key) DO UPDATE SET last_seq = last_seq + 1, last_ms = ?2, chat_count = chat_count + ?3, \
         last_chat_seq = CASE WHEN ?3 THEN last_seq + 1 ELSE last_chat_seq END, \
         last_chat_ms = CASE WHEN ?3 THEN ?2 ELSE last_chat_ms END, \
         last_chat_id = CASE WHEN ?3 THEN ?4 ELSE last_chat_id END \
         RETURNING id, last_seq, chat_count",
    )?
    .query_row(params![key, ts, activity, id.0], |r| {
        Ok(Next {
            conv: r.get(0)?,
            seq: r.get(1)?,
            count: r.get(2)?,
        })
    })
}

fn insert_message(
    c: &Connection,
    m: &NewMessage,
    next: &Next,
    id: MessageId,
    ts: u64,
    activity: bool,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO messages (conv_id, seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity, ord, content_type, client_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        next.conv,
        next.seq,
        id.0,
        m.from.as_str(),
        m.from_resource.as_str(),
        m.to.encode(),
        m.kind.code(),
        ts,
        &m.payload[..],
        activity,
        next.count,
        m.content_type,
        m.client_id.map(client_id_column)
    ])?;
    Ok(())
}

/// A single chat's two sides exist from its first message on. A side created later than the
/// conversation (a user deleted and registered again under the same id) starts at this
/// message and inherits nothing before it. (Group members' sides are made when they join.)
/// `counted`: the sides are made with this chat message already counted on them (see
/// [`chat_activity`]), else as of before the message.
fn open_sides(
    c: &Connection,
    m: &NewMessage,
    next: &Next,
    ts: u64,
    activity: bool,
    group_ack: bool,
    counted: Option<MessageId>,
) -> rusqlite::Result<()> {
    let sides: Vec<(&UserId, Target, i64)> = match &m.to {
        Target::User(to) => vec![
            (&m.from, m.to.clone(), 0),
            (to, Target::User(m.from.clone()), 0),
        ],
        Target::System => vec![(&m.from, Target::System, 3)],
        Target::Group(_) if group_ack => vec![(&m.from, Target::System, 3)],
        Target::Group(_) => vec![],
    };
    let mut insert = c.prepare_cached(
        "INSERT INTO user_conversations (user_id, conv_id, target, kind, start_seq, synced_seq, read_seq, read_ord, hidden_to, created_ms, sort_key, sent) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5, ?6, ?5, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
    )?;
    let sort_key = counted.unwrap_or_else(|| MessageId::floor_at(ts));
    for (user, other, kind) in sides {
        let sent = counted.is_some() && *user == m.from;
        insert.execute(params![
            user.as_str(),
            next.conv,
            other.encode(),
            kind,
            next.seq - 1,
            next.count - u64::from(activity),
            ts,
            sort_key.0,
            sent
        ])?;
    }
    Ok(())
}

/// A single chat's message counts as activity: the sender's sent count grows (it is not
/// unread to them) and both sides move to the top of their lists, in one statement. Only if
/// a side is missing (the conversation's first message, or a user registered again under a
/// deleted id) are the sides made, with this message already counted.
fn chat_activity(
    c: &Connection,
    m: &NewMessage,
    to: &UserId,
    next: &Next,
    id: MessageId,
    ts: u64,
) -> rusqlite::Result<()> {
    let moved = c
        .prepare_cached(
            "UPDATE user_conversations SET sent = sent + (user_id = ?3), sort_key = ?2 \
             WHERE conv_id = ?1 AND kind = 0",
        )?
        .execute(params![next.conv, id.0, m.from.as_str()])?;
    let sides = if *to == m.from { 1 } else { 2 };
    if moved < sides {
        open_sides(c, m, next, ts, true, false, Some(id))?;
    }
    Ok(())
}

/// A group message counts as activity: the sender's sent count grows.
fn count_sent(c: &Connection, m: &NewMessage, next: &Next) -> rusqlite::Result<()> {
    c.prepare_cached(
        "UPDATE user_conversations SET sent = sent + 1 WHERE user_id = ?1 AND conv_id = ?2",
    )?
    .execute(params![m.from.as_str(), next.conv])?;
    Ok(())
}

/// A conversation read ack: read up to here (a group's: up to its newest message), on every
/// device of the sender; unread becomes 0.
fn apply_read_ack(
    c: &Connection,
    m: &NewMessage,
    next: &Next,
    group_ack: bool,
) -> rusqlite::Result<()> {
    if group_ack {
        c.prepare_cached(
            "UPDATE user_conversations SET read_seq = cv.last_seq, read_ord = cv.chat_count, read_sent = sent \
             FROM conversations cv WHERE cv.key = ?2 AND user_conversations.conv_id = cv.id AND user_conversations.user_id = ?1",
        )?
        .execute(params![m.from.as_str(), conversation_key(&m.from, &m.to)])?;
    } else if m.kind == MessageKind::ChannelAck {
        c.prepare_cached(
            "UPDATE user_conversations SET read_seq = ?3, read_ord = ?4, read_sent = sent WHERE user_id = ?1 AND conv_id = ?2",
        )?
        .execute(params![m.from.as_str(), next.conv, next.seq, next.count])?;
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
