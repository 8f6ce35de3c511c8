//! Delivery: appending messages ([`append`]), devices, what a device is owed, acks
//! ([`acks`], coalesced).
//!
//! A device is owed a conversation's messages after its position: its cursor if it has acked
//! any, else where its user's side begins (with messages others sent before the device
//! existed counted as delivered once any device of the user acked past them).
use async_trait::async_trait;
use roam_domain::{
    conversation::Target,
    device::{Device, Resource},
    id::MessageId,
    message::{NewMessage, StoredMessage},
    store::{DeliveryStore, PendingQueue, StoreError},
    user::UserId,
};
use tokio_postgres::Row;

use crate::{
    PgStore,
    rows::{
        bad_row, engine, message_from_row, row, row_opt, rows, sql_bound, sql_count, transaction,
        unsigned,
    },
};

mod acks;
mod append;
mod events;

pub(crate) use acks::Acks;
#[allow(unused_imports, reason = "for the other parts' writes (roaming)")]
pub(crate) use append::{append, append_all, is_resend_race, resend_of, with_events};
pub(crate) use events::OnceEvents;

#[async_trait]
impl DeliveryStore for PgStore {
    async fn append(&self, m: NewMessage) -> Result<StoredMessage, StoreError> {
        for _ in 0..8 {
            match transaction!(self, |tx| { append(&tx, &self.ids, m.clone()).await }) {
                Err(e) if is_resend_race(&e) => {}
                done => return done,
            }
            // Lost a race with the same resend (rolled back): answer what the other stored,
            // or try again if that did not commit after all.
            if let Some(stored) = resend_of(&self.client().await?, &m).await? {
                return Ok(stored);
            }
        }
        Err(StoreError::Engine(
            "a resend kept racing with itself".into(),
        ))
    }

    async fn device(&self, user: &UserId, resource: &Resource) -> Result<Device, StoreError> {
        let c = self.client().await?;
        let fresh = self.ids.next();
        let inserted = row_opt(
            &c,
            "INSERT INTO devices (user_id, resource, registered_id) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING RETURNING registered_id",
            &[&user.as_str(), &resource.as_str(), &sql_bound(fresh.0)],
        )
        .await?;
        let registered = match inserted {
            Some(r) => unsigned(&r, 0)?,
            None => unsigned(
                &row(
                    &c,
                    "SELECT registered_id FROM devices WHERE user_id = $1 AND resource = $2",
                    &[&user.as_str(), &resource.as_str()],
                )
                .await?,
                0,
            )?,
        };
        Ok(Device {
            user: user.clone(),
            resource: resource.clone(),
            registered: MessageId(registered),
        })
    }

    async fn pending(&self, device: &Device) -> Result<Vec<PendingQueue>, StoreError> {
        let d = device;
        rows(
            &self.client().await?,
            PENDING,
            &[
                &d.user.as_str(),
                &d.resource.as_str(),
                &sql_bound(d.registered.0),
            ],
        )
        .await?
        .iter()
        .map(|r| {
            let target: &str = r.try_get(0).map_err(engine)?;
            Ok(PendingQueue {
                target: Target::decode(target).ok_or_else(|| bad_row("target"))?,
                // (At most 10000: the statement stops counting there.)
                count: u32::try_from(unsigned(r, 1)?).unwrap_or(u32::MAX),
            })
        })
        .collect()
    }

    async fn owed(
        &self,
        device: &Device,
        target: &Target,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let c = self.client().await?;
        let d = device;
        let Some(r) = row_opt(
            &c,
            "SELECT uc.conv_id, dc.seq, uc.start_seq, uc.synced_seq FROM user_conversations uc \
             LEFT JOIN device_cursors dc ON dc.user_id = uc.user_id AND dc.resource = $2 AND dc.conv_id = uc.conv_id \
             WHERE uc.user_id = $1 AND uc.target = $3",
            &[&d.user.as_str(), &d.resource.as_str(), &target.encode()],
        )
        .await?
        else {
            return Ok(Vec::new());
        };
        let p = position_from_row(&r)?;
        rows(
            &c,
            SELECT_OWED,
            &[
                &p.conv,
                &p.start,
                &d.user.as_str(),
                &d.resource.as_str(),
                &sql_bound(d.registered.0),
                &p.floor,
                &sql_count(limit),
            ],
        )
        .await?
        .iter()
        .map(message_from_row)
        .collect()
    }

    async fn ack(
        &self,
        device: &Device,
        target: &Target,
        up_to: MessageId,
    ) -> Result<(), StoreError> {
        self.ack_at(device, target, up_to).await.map(|_| ())
    }

    /// Moves the device's cursor in the conversation with `target` up to the message `up_to`
    /// (never back): to the highest seq whose id is at most `up_to`. Only seqs after the
    /// device's cursor are searched (the newest first), and an id beyond the conversation's end
    /// is clamped to the messages that exist. Coalesced with the acks that wait at the same
    /// time: one transaction per batch (see the `acks` module).
    async fn ack_at(
        &self,
        device: &Device,
        target: &Target,
        up_to: MessageId,
    ) -> Result<Option<u64>, StoreError> {
        self.acks.ack_at(self, device, target, up_to).await
    }
}

/// Messages of conversation $1 that device ($3 user, $4 resource, $5 registration id) is owed
/// after position $2 (its cursor, or where its user joined), with $6 the floor below which
/// others' messages count as delivered (its cursor, or if it has none, the highest seq any
/// device of the user acked). Never the device's own sends, nor its user's sends from before
/// the device existed. (Spelled out in the statements below, which are constants.)
#[cfg(test)]
const OWED: &str = "FROM messages WHERE conv_id = $1 AND seq > $2 \
     AND (seq > $6 OR id >= $5) \
     AND NOT (from_user = $3 AND (from_res = $4 OR id < $5))";

/// The queues of device ($1 user, $2 resource, $3 registration id) that hold messages it is
/// owed, with how many (counted up to 10000), in one statement: [`OWED`] with each side's
/// position (`start`: `GREATEST(COALESCE(dc.seq, 0), uc.start_seq)`, `floor`:
/// `GREATEST(COALESCE(dc.seq, uc.synced_seq), uc.start_seq)`, as [`position_from_row`]).
const PENDING: &str = "SELECT uc.target, owed.n FROM user_conversations uc \
     JOIN conversations cv ON cv.id = uc.conv_id \
     LEFT JOIN device_cursors dc ON dc.user_id = uc.user_id AND dc.resource = $2 AND dc.conv_id = uc.conv_id \
     CROSS JOIN LATERAL (SELECT COUNT(*) AS n FROM (SELECT 1 FROM messages \
       WHERE conv_id = uc.conv_id AND seq > GREATEST(COALESCE(dc.seq, 0), uc.start_seq) \
       AND (seq > GREATEST(COALESCE(dc.seq, uc.synced_seq), uc.start_seq) OR id >= $3) \
       AND NOT (from_user = $1 AND (from_res = $2 OR id < $3)) LIMIT 10000) counted) owed \
     WHERE uc.user_id = $1 AND cv.last_seq > GREATEST(COALESCE(dc.seq, 0), uc.start_seq) AND owed.n > 0";

const SELECT_OWED: &str = "SELECT seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity \
     FROM messages WHERE conv_id = $1 AND seq > $2 \
     AND (seq > $6 OR id >= $5) \
     AND NOT (from_user = $3 AND (from_res = $4 OR id < $5)) ORDER BY seq LIMIT $7";

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
fn position_from_row(r: &Row) -> Result<Position, StoreError> {
    let cursor: Option<i64> = r.try_get(1).map_err(engine)?;
    let start: i64 = r.try_get(2).map_err(engine)?;
    let synced: i64 = r.try_get(3).map_err(engine)?;
    Ok(Position {
        conv: r.try_get(0).map_err(engine)?,
        start: cursor.unwrap_or(0).max(start),
        floor: cursor.unwrap_or(synced).max(start),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::MESSAGE_COLUMNS;

    #[test]
    fn the_owed_statements_share_one_condition_and_the_message_columns() {
        assert!(SELECT_OWED.contains(OWED));
        assert!(SELECT_OWED.starts_with(&format!("SELECT {MESSAGE_COLUMNS} ")));
    }
}
