//! Delivery in SQLite: appending a message to its conversation, devices, what a device is
//! owed, and its acks. Functions take a connection: the writer's inside its transaction for
//! changes, a reader's for queries.
//!
//! A device is owed a conversation's messages after its position: its cursor if it has acked
//! any, else where its user's side begins (with messages others sent before the device
//! existed counted as delivered once any device of the user acked past them).
use roam_domain::{
    conversation::Target,
    device::{Device, Resource},
    id::{IdGenerator, MessageId},
    message::{MessageKind, NewMessage, StoredMessage},
    store::{PendingQueue, StoreError},
    user::UserId,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::rows::{bad_row, conversation_key, engine, message_from_row};

/// Stores a message at the end of its conversation (see `Store::append`), in named steps:
/// a resend is answered with what was stored; else the conversation gets its next seq, the
/// message is inserted, the sides it opens are made, the activity is counted, and a read ack
/// moves the sender's read position.
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
    let ts = id.timestamp_ms() as i64;
    let activity = m.activity && m.kind == MessageKind::Chat;
    let next = next_in_conversation(c, &key, id, ts, activity).map_err(engine)?;
    insert_message(c, &m, &next, id, ts, activity).map_err(engine)?;
    open_sides(c, &m, &next, ts, activity, group_ack).map_err(engine)?;
    if activity {
        count_activity(c, &m, &next, id).map_err(engine)?;
    }
    apply_read_ack(c, &m, &next, group_ack).map_err(engine)?;
    Ok(StoredMessage {
        id,
        seq: next.seq as u64,
        from: m.from,
        from_resource: m.from_resource,
        to: m.to,
        kind: m.kind,
        timestamp_ms: ts as u64,
        payload: m.payload,
        activity,
    })
}

/// Where a message lands: its conversation, its seq, and the conversation's activity count
/// with it.
struct Next {
    conv: i64,
    seq: i64,
    count: i64,
}

/// A message the same device sent before with the same client id (a resend after a lost
/// ack): stored once, answered again.
fn resend_of(c: &Connection, m: &NewMessage) -> rusqlite::Result<Option<StoredMessage>> {
    let Some(client_id) = m.client_id else {
        return Ok(None);
    };
    c.prepare_cached(
        "SELECT seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity \
         FROM messages WHERE from_user = ?1 AND from_res = ?2 AND client_id = ?3",
    )?
    .query_row(
        params![m.from.as_str(), m.from_resource.as_str(), client_id as i64],
        message_from_row,
    )
    .optional()
}

/// Makes the conversation row if it is new and takes its next seq.
fn next_in_conversation(
    c: &Connection,
    key: &str,
    id: MessageId,
    ts: i64,
    activity: bool,
) -> rusqlite::Result<Next> {
    c.prepare_cached(
        "INSERT INTO conversations (key, last_seq, last_ms, created_ms) VALUES (?1, 0, ?2, ?2) \
         ON CONFLICT(key) DO NOTHING",
    )?
    .execute(params![key, ts])?;
    // (SET expressions see the row's old values: last_seq + 1 is the new seq.)
    c.prepare_cached(
        "UPDATE conversations SET last_seq = last_seq + 1, last_ms = ?2, chat_count = chat_count + ?3, \
         last_chat_seq = CASE WHEN ?3 THEN last_seq + 1 ELSE last_chat_seq END, \
         last_chat_ms = CASE WHEN ?3 THEN ?2 ELSE last_chat_ms END, \
         last_chat_id = CASE WHEN ?3 THEN ?4 ELSE last_chat_id END \
         WHERE key = ?1 RETURNING id, last_seq, chat_count",
    )?
    .query_row(params![key, ts, activity, id.0 as i64], |r| {
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
    ts: i64,
    activity: bool,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO messages (conv_id, seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity, ord, content_type, client_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        next.conv,
        next.seq,
        id.0 as i64,
        m.from.as_str(),
        m.from_resource.as_str(),
        m.to.encode(),
        m.kind.code(),
        ts,
        &m.payload[..],
        activity,
        next.count,
        m.content_type,
        m.client_id.map(|c| c as i64)
    ])?;
    Ok(())
}

/// A single chat's two sides exist from its first message on. A side created later than the
/// conversation (a user deleted and registered again under the same id) starts at this
/// message and inherits nothing before it. (Group members' sides are made when they join.)
fn open_sides(
    c: &Connection,
    m: &NewMessage,
    next: &Next,
    ts: i64,
    activity: bool,
    group_ack: bool,
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
        "INSERT INTO user_conversations (user_id, conv_id, target, kind, start_seq, synced_seq, read_seq, read_ord, hidden_to, created_ms, sort_key) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5, ?6, ?5, ?7, ?8) ON CONFLICT DO NOTHING",
    )?;
    for (user, other, kind) in sides {
        insert.execute(params![
            user.as_str(),
            next.conv,
            other.encode(),
            kind,
            next.seq - 1,
            next.count - activity as i64,
            ts,
            MessageId::floor_at(ts as u64).0 as i64
        ])?;
    }
    Ok(())
}

/// Conversation activity: the sender's sent count (not unread to them), and a single chat's
/// two sides move to the top of their lists.
fn count_activity(
    c: &Connection,
    m: &NewMessage,
    next: &Next,
    id: MessageId,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "UPDATE user_conversations SET sent = sent + 1 WHERE user_id = ?1 AND conv_id = ?2",
    )?
    .execute(params![m.from.as_str(), next.conv])?;
    if matches!(m.to, Target::User(_)) {
        c.prepare_cached(
            "UPDATE user_conversations SET sort_key = ?2 WHERE conv_id = ?1 AND kind = 0",
        )?
        .execute(params![next.conv, id.0 as i64])?;
    }
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

/// The device `resource` of `user`, registered now (with a fresh id as its birth mark) if new.
pub(crate) fn device(
    c: &Connection,
    ids: &IdGenerator,
    user: UserId,
    resource: Resource,
) -> Result<Device, StoreError> {
    let fresh = ids.next();
    c.prepare_cached(
        "INSERT INTO devices (user_id, resource, registered_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    )
    .and_then(|mut st| st.execute(params![user.as_str(), resource.as_str(), fresh.0 as i64]))
    .map_err(engine)?;
    let registered: i64 = c
        .prepare_cached("SELECT registered_id FROM devices WHERE user_id = ?1 AND resource = ?2")
        .and_then(|mut st| st.query_row(params![user.as_str(), resource.as_str()], |r| r.get(0)))
        .map_err(engine)?;
    Ok(Device {
        user,
        resource,
        registered: MessageId(registered as u64),
    })
}

/// Messages of conversation ?1 that device (?3 user, ?4 resource, ?5 registration id) is owed
/// after position ?2 (its cursor, or where its user joined), with ?6 the floor below which
/// others' messages count as delivered (its cursor, or if it has none, the highest seq any
/// device of the user acked). Never the device's own sends, nor its user's sends from before
/// the device existed. (Spelled out in the statements below, which are constants.)
#[cfg(test)]
const OWED: &str = "FROM messages WHERE conv_id = ?1 AND seq > ?2 \
     AND (seq > ?6 OR id >= ?5) \
     AND NOT (from_user = ?3 AND (from_res = ?4 OR id < ?5))";

const COUNT_OWED: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE conv_id = ?1 AND seq > ?2 \
     AND (seq > ?6 OR id >= ?5) \
     AND NOT (from_user = ?3 AND (from_res = ?4 OR id < ?5)) LIMIT 10000)";

const SELECT_OWED: &str = "SELECT seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity \
     FROM messages WHERE conv_id = ?1 AND seq > ?2 \
     AND (seq > ?6 OR id >= ?5) \
     AND NOT (from_user = ?3 AND (from_res = ?4 OR id < ?5)) ORDER BY seq LIMIT ?7";

/// A device's position in one conversation.
struct Position {
    conv: i64,
    /// Nothing at or before this seq is owed.
    start: i64,
    /// Without a cursor of its own, the device is owed others' messages after this seq, and
    /// everything made since it registered.
    floor: i64,
}

/// Reads the columns `uc.conv_id, dc.seq, uc.start_seq, uc.synced_seq` (in this order).
fn position_from_row(r: &Row<'_>) -> rusqlite::Result<Position> {
    let cursor: Option<i64> = r.get(1)?;
    let start: i64 = r.get(2)?;
    let synced: i64 = r.get(3)?;
    Ok(Position {
        conv: r.get(0)?,
        start: cursor.unwrap_or(0).max(start),
        floor: cursor.unwrap_or(synced).max(start),
    })
}

fn position(
    c: &Connection,
    device: &Device,
    target: &Target,
) -> rusqlite::Result<Option<Position>> {
    c.prepare_cached(
        "SELECT uc.conv_id, dc.seq, uc.start_seq, uc.synced_seq FROM user_conversations uc \
         LEFT JOIN device_cursors dc ON dc.user_id = uc.user_id AND dc.resource = ?2 AND dc.conv_id = uc.conv_id \
         WHERE uc.user_id = ?1 AND uc.target = ?3",
    )?
    .query_row(
        params![device.user.as_str(), device.resource.as_str(), target.encode()],
        position_from_row,
    )
    .optional()
}

/// The queues that hold messages the device is owed, with how many (counted up to 10000).
pub(crate) fn pending(c: &Connection, d: &Device) -> rusqlite::Result<Vec<PendingQueue>> {
    let rows = c
        .prepare_cached(
            "SELECT uc.conv_id, dc.seq, uc.start_seq, uc.synced_seq, uc.target FROM user_conversations uc \
             JOIN conversations cv ON cv.id = uc.conv_id \
             LEFT JOIN device_cursors dc ON dc.user_id = uc.user_id AND dc.resource = ?2 AND dc.conv_id = uc.conv_id \
             WHERE uc.user_id = ?1 AND cv.last_seq > MAX(COALESCE(dc.seq, 0), uc.start_seq)",
        )?
        .query_map(params![d.user.as_str(), d.resource.as_str()], |r| {
            Ok((position_from_row(r)?, r.get::<_, String>(4)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut count = c.prepare_cached(COUNT_OWED)?;
    let mut out = Vec::new();
    for (p, target) in rows {
        let n: i64 = count.query_row(
            params![
                p.conv,
                p.start,
                d.user.as_str(),
                d.resource.as_str(),
                d.registered.0 as i64,
                p.floor
            ],
            |r| r.get(0),
        )?;
        if n > 0 {
            out.push(PendingQueue {
                target: Target::decode(&target).ok_or_else(|| bad_row("target"))?,
                count: n as u32,
            });
        }
    }
    Ok(out)
}

/// Up to `limit` messages of the conversation with `target` the device is owed, oldest first.
pub(crate) fn owed(
    c: &Connection,
    d: &Device,
    target: &Target,
    limit: usize,
) -> rusqlite::Result<Vec<StoredMessage>> {
    let Some(p) = position(c, d, target)? else {
        return Ok(Vec::new());
    };
    c.prepare_cached(SELECT_OWED)?
        .query_map(
            params![
                p.conv,
                p.start,
                d.user.as_str(),
                d.resource.as_str(),
                d.registered.0 as i64,
                p.floor,
                limit as i64
            ],
            message_from_row,
        )?
        .collect()
}

/// Moves the device's cursor in the conversation with `target` up to `seq` (never back).
pub(crate) fn ack(c: &Connection, d: &Device, target: &Target, seq: u64) -> rusqlite::Result<()> {
    let conv: Option<(i64, i64)> = c
        .prepare_cached(
            "SELECT uc.conv_id, cv.last_seq FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id \
             WHERE uc.user_id = ?1 AND uc.target = ?2",
        )?
        .query_row(params![d.user.as_str(), target.encode()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((conv, last)) = conv else {
        return Ok(());
    };
    // A key beyond the conversation's end is a client bug or forgery: clamp it.
    let seq = (seq as i64).min(last);
    c.prepare_cached(
        "INSERT INTO device_cursors (user_id, resource, conv_id, seq) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(user_id, resource, conv_id) DO UPDATE SET seq = MAX(seq, excluded.seq)",
    )?
    .execute(params![d.user.as_str(), d.resource.as_str(), conv, seq])?;
    c.prepare_cached(
        "UPDATE user_conversations SET synced_seq = MAX(synced_seq, ?3) WHERE user_id = ?1 AND conv_id = ?2",
    )?
    .execute(params![d.user.as_str(), conv, seq])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::MESSAGE_COLUMNS;

    #[test]
    fn the_owed_statements_share_one_condition_and_the_message_columns() {
        assert!(COUNT_OWED.contains(OWED));
        assert!(SELECT_OWED.contains(OWED));
        assert!(SELECT_OWED.starts_with(&format!("SELECT {MESSAGE_COLUMNS} ")));
    }
}
