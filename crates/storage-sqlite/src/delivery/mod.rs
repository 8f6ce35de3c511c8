//! Delivery in SQLite: appending a message to its conversation ([`append`]), devices, what a
//! device is owed, and its acks. Functions take a connection: the writer's inside its
//! transaction for changes, a reader's for queries.
//!
//! A device is owed a conversation's messages after its position: its cursor if it has acked
//! any, else where its user's side begins (with messages others sent before the device
//! existed counted as delivered once any device of the user acked past them).
use async_trait::async_trait;
use roam_domain::{
    conversation::Target,
    device::{Device, Resource},
    id::{IdGenerator, MessageId},
    message::{NewMessage, StoredMessage},
    store::{DeliveryStore, PendingQueue, StoreError},
    user::UserId,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{
    SqliteStore,
    rows::{bad_row, engine, message_from_row},
};

mod acks;
mod append;

pub(crate) use acks::Acks;
pub(crate) use append::{append, with_events};

#[async_trait]
impl DeliveryStore for SqliteStore {
    async fn append(&self, m: NewMessage) -> Result<StoredMessage, StoreError> {
        self.writer.write(move |c, ids| append(c, ids, m)).await
    }

    async fn device(&self, user: &UserId, resource: &Resource) -> Result<Device, StoreError> {
        let (user, resource) = (user.clone(), resource.clone());
        self.writer
            .write(move |c, ids| device(c, ids, user, resource))
            .await
    }

    async fn pending(&self, device: &Device) -> Result<Vec<PendingQueue>, StoreError> {
        let d = device.clone();
        self.readers.read(move |c| pending(c, &d)).await
    }

    async fn owed(
        &self,
        device: &Device,
        target: &Target,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let (d, target) = (device.clone(), target.clone());
        self.readers
            .read(move |c| owed(c, &d, &target, limit))
            .await
    }

    async fn ack(
        &self,
        device: &Device,
        target: &Target,
        up_to: MessageId,
    ) -> Result<(), StoreError> {
        self.ack_at(device, target, up_to).await.map(|_| ())
    }

    async fn ack_at(
        &self,
        device: &Device,
        target: &Target,
        up_to: MessageId,
    ) -> Result<Option<u64>, StoreError> {
        self.acks.ack_at(&self.writer, device, target, up_to).await
    }
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
    .and_then(|mut st| st.execute(params![user.as_str(), resource.as_str(), fresh.0]))
    .map_err(engine)?;
    let registered: u64 = c
        .prepare_cached("SELECT registered_id FROM devices WHERE user_id = ?1 AND resource = ?2")
        .and_then(|mut st| st.query_row(params![user.as_str(), resource.as_str()], |r| r.get(0)))
        .map_err(engine)?;
    Ok(Device {
        user,
        resource,
        registered: MessageId(registered),
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
        // (At most 10000: the statement stops counting there.)
        let n: u32 = count.query_row(
            params![
                p.conv,
                p.start,
                d.user.as_str(),
                d.resource.as_str(),
                d.registered.0,
                p.floor
            ],
            |r| r.get(0),
        )?;
        if n > 0 {
            out.push(PendingQueue {
                target: Target::decode(&target).ok_or_else(|| bad_row("target"))?,
                count: n,
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
                d.registered.0,
                p.floor,
                limit
            ],
            message_from_row,
        )?
        .collect()
}

/// Moves the device's cursor in the conversation with `target` up to the message `up_to`
/// (never back): to the highest seq whose id is at most `up_to`, which ids increasing with the
/// seq make the position of that message, or of the last one before it. Only seqs after the
/// device's cursor are searched (the newest first), so an ack costs what the device had not
/// acked yet, and an id beyond the conversation's end (a client bug or forgery) is clamped to
/// the messages that exist. Answers the device's position afterwards when it has a cursor
/// (see `DeliveryStore::ack_at`).
pub(crate) fn ack(
    c: &Connection,
    d: &Device,
    target: &Target,
    up_to: MessageId,
) -> rusqlite::Result<Option<u64>> {
    let conv: Option<(i64, Option<i64>, i64)> = c
        .prepare_cached(
            "SELECT uc.conv_id, dc.seq, uc.start_seq FROM user_conversations uc \
             LEFT JOIN device_cursors dc ON dc.user_id = uc.user_id AND dc.resource = ?2 AND dc.conv_id = uc.conv_id \
             WHERE uc.user_id = ?1 AND uc.target = ?3",
        )?
        .query_row(
            params![d.user.as_str(), d.resource.as_str(), target.encode()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((conv, cursor, start)) = conv else {
        return Ok(None);
    };
    let position = |cursor: i64| Some(u64::try_from(cursor.max(start)).unwrap_or(0));
    // Ids stay below 2^63; a larger (forged) key means "everything", as i64::MAX does.
    let up_to = i64::try_from(up_to.0).unwrap_or(i64::MAX);
    let seq: Option<i64> = c
        .prepare_cached(
            "SELECT seq FROM messages WHERE conv_id = ?1 AND seq > ?2 AND id <= ?3 \
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![conv, cursor.unwrap_or(0), up_to], |r| r.get(0))
        .optional()?;
    let Some(seq) = seq else {
        return Ok(cursor.and_then(position));
    };
    c.prepare_cached(
        "INSERT INTO device_cursors (user_id, resource, conv_id, seq) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(user_id, resource, conv_id) DO UPDATE SET seq = MAX(seq, excluded.seq)",
    )?
    .execute(params![d.user.as_str(), d.resource.as_str(), conv, seq])?;
    c.prepare_cached(
        "UPDATE user_conversations SET synced_seq = MAX(synced_seq, ?3) WHERE user_id = ?1 AND conv_id = ?2",
    )?
    .execute(params![d.user.as_str(), conv, seq])?;
    Ok(position(seq.max(cursor.unwrap_or(0))))
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
