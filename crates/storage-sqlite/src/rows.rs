//! How domain values sit in SQLite: row mappers and the column lists they read, the
//! conversation keys, and the SQL functions the schema and queries call.
//!
//! Every statement that reads a user or a message selects exactly the columns named here, in
//! this order, so that one mapper serves them all.
use bytes::Bytes;
use roam_domain::{
    conversation::Target,
    device::Resource,
    group::GroupId,
    id::MessageId,
    message::{MessageKind, StoredMessage},
    store::StoreError,
    user::{PasswordHash, User, UserId},
};
use rusqlite::{Connection, Row, functions::FunctionFlags};

/// Turns an engine error into the store's error (with its text, for the log).
pub(crate) fn engine(e: rusqlite::Error) -> StoreError {
    StoreError::Engine(e.to_string())
}

/// A stored value that does not parse: the database was written by something else, or is
/// damaged. Reported as an engine error naming what failed.
pub(crate) fn bad_row(what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(0, what.to_owned(), rusqlite::types::Type::Text)
}

pub(crate) fn parse_user(s: String) -> rusqlite::Result<UserId> {
    UserId::parse(&s).map_err(|_| bad_row("user id"))
}

/// One user by id, with the columns [`user_from_row`] reads.
pub(crate) const SELECT_USER: &str =
    "SELECT id, uuid, password_hash, nickname, created_ms, modified_ms FROM users WHERE id = ?1";

pub(crate) fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: parse_user(r.get::<_, String>(0)?)?,
        uuid: r.get(1)?,
        password: PasswordHash::from_stored(r.get(2)?),
        nickname: r.get(3)?,
        created_ms: r.get(4)?,
        modified_ms: r.get(5)?,
    })
}

/// The columns [`message_from_row`] reads, in order. Statements that select them spell
/// them out (a literal keeps each statement a constant); a test checks they match.
pub(crate) const MESSAGE_COLUMNS: &str =
    "seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity";

pub(crate) fn message_from_row(r: &Row<'_>) -> rusqlite::Result<StoredMessage> {
    Ok(StoredMessage {
        seq: r.get(0)?,
        id: MessageId(r.get(1)?),
        from: parse_user(r.get(2)?)?,
        from_resource: Resource::parse(&r.get::<_, String>(3)?).map_err(|_| bad_row("resource"))?,
        to: Target::decode(&r.get::<_, String>(4)?).ok_or_else(|| bad_row("target"))?,
        kind: MessageKind::from_code(r.get(5)?).ok_or_else(|| bad_row("kind"))?,
        timestamp_ms: r.get(6)?,
        payload: Bytes::from(r.get::<_, Vec<u8>>(7)?),
        activity: r.get(8)?,
    })
}

/// The `messages.id` a message id is stored as, if any message can have it: ids are below
/// 2^63 ([`MessageId`]), so a larger one (a client's) names no message.
pub(crate) fn id_column(id: MessageId) -> Option<i64> {
    i64::try_from(id.0).ok()
}

/// A number of rows for `LIMIT` or `OFFSET`: one past SQLite's i64 is past any table's end,
/// so it saturates (an offset that far gives an empty page, as it should).
pub(crate) fn sql_count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A bound (a time, a list cursor's key) compared with a column of non-negative i64s: one past
/// SQLite's i64 is past every stored value, so it saturates.
pub(crate) fn sql_bound(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The conversation a message to `to` from `from` belongs to (`conversations.key`).
pub(crate) fn conversation_key(from: &UserId, to: &Target) -> String {
    match to {
        Target::User(to) => {
            let (lo, hi) = if from <= to { (from, to) } else { (to, from) };
            format!("c:{lo}:{hi}")
        }
        Target::Group(g) => group_conversation_key(g),
        Target::System => format!("s:{from}"),
    }
}

pub(crate) fn group_conversation_key(g: &GroupId) -> String {
    format!("g:{g}")
}

/// Registers the SQL functions Roam's statements call, on every connection before it runs
/// any of them (the writer's before the migrations):
///
/// - `roam_id_floor(ms)`: the smallest message id that can be made at epoch ms `ms`
///   ([`MessageId::floor_at`]), so the id layout is written once, in the domain, and not
///   again in SQL.
pub(crate) fn register_functions(c: &Connection) -> rusqlite::Result<()> {
    c.create_scalar_function(
        "roam_id_floor",
        1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            // (Before 1970 is before the epoch: the floor is id 0.)
            let ms = u64::try_from(ctx.get::<i64>(0)?).unwrap_or(0);
            // (Below 2^63, as every id: binding it cannot fail.)
            Ok(MessageId::floor_at(ms).0)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_floor_in_sql_is_the_domain_s() {
        let c = Connection::open_in_memory().unwrap();
        register_functions(&c).unwrap();
        for ms in [
            0_i64,
            1_577_836_800_000,
            1_577_836_800_001,
            1_800_000_000_123,
        ] {
            let sql: i64 = c
                .query_row("SELECT roam_id_floor(?1)", [ms], |r| r.get(0))
                .unwrap();
            assert_eq!(
                u64::try_from(sql).unwrap(),
                MessageId::floor_at(u64::try_from(ms).unwrap()).0,
                "{ms}"
            );
            // What the SQL wrote by hand before the function existed.
            let by_hand: i64 = c
                .query_row("SELECT MAX(?1 - 1577836800000, 0) << 22", [ms], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(sql, by_hand, "{ms}");
        }
    }
}
