//! How domain values sit in PostgreSQL: error mapping, row mappers and the column lists they
//! read, the conversation keys. The same keys and column orders as the SQLite engine.
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
use tokio_postgres::Row;

/// Turns an engine error into the store's error (with its text and SQLSTATE, for the log).
pub(crate) fn engine(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Engine(format!("{} ({})", db.message(), db.code().code())),
        None => StoreError::Engine(e.to_string()),
    }
}

/// Whether the error is a unique-constraint violation (a row that exists already).
pub(crate) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}

/// A stored value that does not parse: the database was written by something else, or is
/// damaged.
pub(crate) fn bad_row(what: &str) -> StoreError {
    StoreError::Engine(format!("a stored {what} does not parse"))
}

/// A column read as the unsigned number it always holds (ids, seqs, times, counts).
pub(crate) fn unsigned(r: &Row, i: usize) -> Result<u64, StoreError> {
    u64::try_from(r.try_get::<_, i64>(i).map_err(engine)?).map_err(|_| bad_row("number"))
}

/// A u64 bound for a BIGINT column: past i64 is past every stored value, so it saturates.
pub(crate) fn sql_bound(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A number of rows for `LIMIT` or `OFFSET` (saturating, as [`sql_bound`]).
pub(crate) fn sql_count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The `messages.id` a message id is stored as, if any message can have it: ids are below
/// 2^63 ([`MessageId`]), so a larger one (a client's) names no message.
pub(crate) fn id_column(id: MessageId) -> Option<i64> {
    i64::try_from(id.0).ok()
}

pub(crate) fn parse_user(s: &str) -> Result<UserId, StoreError> {
    UserId::parse(s).map_err(|_| bad_row("user id"))
}

/// One user by id, with the columns [`user_from_row`] reads.
pub(crate) const SELECT_USER: &str =
    "SELECT id, uuid, password_hash, nickname, created_ms, modified_ms FROM users WHERE id = $1";

pub(crate) fn user_from_row(r: &Row) -> Result<User, StoreError> {
    Ok(User {
        id: parse_user(r.try_get(0).map_err(engine)?)?,
        uuid: r.try_get(1).map_err(engine)?,
        password: PasswordHash::from_stored(r.try_get(2).map_err(engine)?),
        nickname: r.try_get(3).map_err(engine)?,
        created_ms: unsigned(r, 4)?,
        modified_ms: unsigned(r, 5)?,
    })
}

/// The columns [`message_from_row`] reads, in order (statements spell them out).
pub(crate) const MESSAGE_COLUMNS: &str =
    "seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity";

pub(crate) fn message_from_row(r: &Row) -> Result<StoredMessage, StoreError> {
    let kind: i32 = r.try_get(5).map_err(engine)?;
    let activity: i32 = r.try_get(8).map_err(engine)?;
    Ok(StoredMessage {
        seq: unsigned(r, 0)?,
        id: MessageId(unsigned(r, 1)?),
        from: parse_user(r.try_get(2).map_err(engine)?)?,
        from_resource: Resource::parse(r.try_get::<_, &str>(3).map_err(engine)?)
            .map_err(|_| bad_row("resource"))?,
        to: Target::decode(r.try_get::<_, &str>(4).map_err(engine)?)
            .ok_or_else(|| bad_row("target"))?,
        kind: MessageKind::from_code(i64::from(kind)).ok_or_else(|| bad_row("kind"))?,
        timestamp_ms: unsigned(r, 6)?,
        payload: Bytes::from(r.try_get::<_, Vec<u8>>(7).map_err(engine)?),
        activity: activity != 0,
    })
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

// Statements and transactions (added with users, delivery and groups).

/// The transaction a write runs in (deadpool's: its statements are prepared once per
/// connection, `prepare_cached`).
pub(crate) type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// Whether a failed write may simply run again: PostgreSQL chose it as a deadlock's victim
/// (40P01) or could not serialize it (40001). (Read from the SQLSTATE [`engine`] appends.)
pub(crate) fn retryable(e: &StoreError) -> bool {
    matches!(e, StoreError::Engine(m) if m.ends_with("(40P01)") || m.ends_with("(40001)"))
}

/// Every row of a statement prepared once per connection.
pub(crate) async fn rows(
    c: &impl deadpool_postgres::GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Row>, StoreError> {
    let st = c.prepare_cached(sql).await.map_err(engine)?;
    c.query(&st, params).await.map_err(engine)
}

/// The row of a statement that answers at most one.
pub(crate) async fn row_opt(
    c: &impl deadpool_postgres::GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Option<Row>, StoreError> {
    let st = c.prepare_cached(sql).await.map_err(engine)?;
    c.query_opt(&st, params).await.map_err(engine)
}

/// The row of a statement that answers exactly one.
pub(crate) async fn row(
    c: &impl deadpool_postgres::GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Row, StoreError> {
    let st = c.prepare_cached(sql).await.map_err(engine)?;
    c.query_one(&st, params).await.map_err(engine)
}

/// Runs a statement; answers how many rows it changed.
pub(crate) async fn exec(
    c: &impl deadpool_postgres::GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<u64, StoreError> {
    let st = c.prepare_cached(sql).await.map_err(engine)?;
    c.execute(&st, params).await.map_err(engine)
}

/// `transaction!(store, |tx| { … })`: runs the block in a transaction on a pooled connection
/// and commits it, answering the block's value. The whole transaction runs again (up to 8
/// times) when PostgreSQL aborts it as a deadlock's victim or for a serialization failure
/// ([`retryable`]), so the block must be fit to run again (see `crate::delivery::OnceEvents`
/// for the events of a write). `?` in the block leaves the block (the transaction rolls back).
macro_rules! transaction {
    ($store:expr, |$tx:ident| $body:block) => {{
        let mut attempt = 0_u32;
        loop {
            let mut client = $store.client().await?;
            let $tx = client
                .transaction()
                .await
                .map_err($crate::rows::engine)?;
            let outcome: Result<_, roam_domain::store::StoreError> = async { $body }.await;
            let outcome = match outcome {
                Ok(v) => $tx.commit().await.map(|()| v).map_err($crate::rows::engine),
                Err(e) => Err(e),
            };
            match outcome {
                Err(e) if $crate::rows::retryable(&e) && attempt < 8 => {
                    attempt += 1;
                    tracing::debug!(error = %e, attempt, "transaction retried");
                }
                other => break other,
            }
        }
    }};
}
pub(crate) use transaction;

/// The smallest message id that can be made at the epoch ms in SQL expression `ms`
/// ([`MessageId::floor_at`]) as a PostgreSQL expression: the id layout comes from the domain's
/// constants, clamped as the domain clamps (checked against it by a test).
pub(crate) fn id_floor_sql(ms: &str) -> String {
    format!(
        "((LEAST(GREATEST({ms}, {epoch}), {last}) - {epoch}) << {shift})",
        epoch = MessageId::EPOCH_MS,
        last = MessageId::LAST_MS,
        shift = MessageId::TIME_SHIFT,
    )
}
