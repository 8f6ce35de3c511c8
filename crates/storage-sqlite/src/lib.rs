//! Roam's embedded storage engine: SQLite, bundled, in WAL mode.
//!
//! Writes go through one writer thread with group commit (the `writer` module); reads use a small pool
//! of read-only connections on tokio's blocking threads, which WAL lets run beside the writer.
//! Each call of the [`Store`] trait is one short transaction.
use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

use async_trait::async_trait;
use bytes::Bytes;
use roam_domain::{
    auth::{Principal, TokenHash, TokenRecord},
    conversation::Target,
    device::{Device, Resource},
    group::{Group, GroupId, GroupKind, Member, NewGroup},
    id::{IdGenerator, MessageId},
    message::{MessageKind, NewMessage, StoredMessage},
    now_ms,
    roaming::{HistoryPage, HistoryQuery, ListPage, ListQuery, Mark, Removal},
    store::{PendingQueue, Store, StoreError},
    user::{NewUser, PasswordHash, User, UserId},
};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

mod groups;
mod roaming;
mod writer;

use writer::Writer;

/// How hard SQLite syncs to disk on commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// fsync on every commit (one per group-commit batch): nothing acked is ever lost.
    #[default]
    Full,
    /// Survives a crash of the process, may lose the last commits on power loss; faster.
    Normal,
}

/// Opening options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub synchronous: Synchronous,
    /// This node's id in message ids (0..1024).
    pub node: u16,
}

/// The SQLite store. Cheap to share behind an `Arc`; dropping the last handle flushes the writer.
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    /// Open read connections not in use.
    readers: Mutex<Vec<Connection>>,
    /// One permit per read connection: a read waits for a free connection rather than
    /// opening a new one (opening costs far more than a typical read).
    reading: tokio::sync::Semaphore,
}

/// The schema scripts: `MIGRATIONS[n]` takes a database from version n to n + 1.
const MIGRATIONS: [&str; 4] = [
    include_str!("schema.sql"),
    include_str!("schema_v2.sql"),
    include_str!("schema_v3.sql"),
    include_str!("schema_v4.sql"),
];
const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Prepared statements kept per connection: every statement the engine runs, with room to
/// spare (parsing and planning showed up in profiles when the default 16 were cycled).
const STATEMENT_CACHE: usize = 128;

/// Read connections, and so reads running at once.
const READERS: usize = 4;

pub(crate) fn engine(e: rusqlite::Error) -> StoreError {
    StoreError::Engine(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies the schema.
    pub fn open(path: &Path, options: Options) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path).map_err(engine)?;
        let sync = match options.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=OFF;"
        ))
        .map_err(engine)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(engine)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Engine(format!(
                "database schema version {version} is newer than this roamd knows ({SCHEMA_VERSION})"
            )));
        }
        // Each version's script, applied in order from the database's version on, each in
        // its own transaction with the version bump.
        for (v, script) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            conn.execute_batch(&format!(
                "BEGIN; {script} PRAGMA user_version={}; COMMIT;",
                v + 1
            ))
            .map_err(engine)?;
        }
        let ids = IdGenerator::new(options.node);
        // Never hand out an id below one already stored (a clock that stepped back across a
        // restart): start the generator after the newest stored id.
        let newest: Option<i64> = conn
            .query_row("SELECT MAX(id) FROM messages", [], |r| r.get(0))
            .map_err(engine)?;
        if let Some(newest) = newest {
            ids.next_at(MessageId(newest as u64).timestamp_ms());
        }
        Ok(SqliteStore {
            path: path.to_owned(),
            writer: Writer::start(conn, ids),
            readers: Mutex::new(Vec::new()),
            reading: tokio::sync::Semaphore::new(READERS),
        })
    }

    /// Runs `f` on a read connection, on a blocking thread.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        self.read_with(move |c| f(c).map_err(engine)).await
    }

    /// [`SqliteStore::read`] for a function that fails with a [`StoreError`].
    async fn read_with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .reading
            .acquire()
            .await
            .map_err(|e| StoreError::Engine(e.to_string()))?;
        let conn = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(engine)?;
                c.busy_timeout(std::time::Duration::from_secs(5))
                    .map_err(engine)?;
                c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                c
            }
        };
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let r = f(&conn);
            (conn, r)
        })
        .await
        .map_err(|e| StoreError::Engine(e.to_string()))?;
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        result
    }
}

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: parse_user(r.get::<_, String>(0)?)?,
        uuid: r.get(1)?,
        password: PasswordHash::from_stored(r.get(2)?),
        nickname: r.get(3)?,
        created_ms: r.get::<_, i64>(4)? as u64,
        modified_ms: r.get::<_, i64>(5)? as u64,
    })
}

const USER_COLUMNS: &str = "id, uuid, password_hash, nickname, created_ms, modified_ms";

pub(crate) fn bad_row(what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(0, what.to_owned(), rusqlite::types::Type::Text)
}

fn parse_user(s: String) -> rusqlite::Result<UserId> {
    UserId::parse(&s).map_err(|_| bad_row("user id"))
}

/// The columns [`message_from_row`] reads, in order.
pub(crate) const MESSAGE_COLUMNS: &str =
    "seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity";

pub(crate) fn message_from_row(r: &Row<'_>) -> rusqlite::Result<StoredMessage> {
    Ok(StoredMessage {
        seq: r.get::<_, i64>(0)? as u64,
        id: MessageId(r.get::<_, i64>(1)? as u64),
        from: parse_user(r.get(2)?)?,
        from_resource: Resource::parse(&r.get::<_, String>(3)?).map_err(|_| bad_row("resource"))?,
        to: Target::decode(&r.get::<_, String>(4)?).ok_or_else(|| bad_row("target"))?,
        kind: MessageKind::from_code(r.get(5)?).ok_or_else(|| bad_row("kind"))?,
        timestamp_ms: r.get::<_, i64>(6)? as u64,
        payload: Bytes::from(r.get::<_, Vec<u8>>(7)?),
        activity: r.get(8)?,
    })
}

/// The conversation a message to `to` from `from` belongs to.
fn conversation_key(from: &UserId, to: &Target) -> String {
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

/// Messages of conversation ?1 that device (?3 user, ?4 resource, ?5 registration id) is owed
/// after position ?2 (its cursor, or where its user joined), with ?6 the floor below which
/// others' messages count as delivered (its cursor, or if it has none, the highest seq any
/// device of the user acked). Never the device's own sends, nor its user's sends from before
/// the device existed.
const OWED: &str = "FROM messages WHERE conv_id = ?1 AND seq > ?2 \
     AND (seq > ?6 OR id >= ?5) \
     AND NOT (from_user = ?3 AND (from_res = ?4 OR id < ?5))";

/// A device's position in one conversation.
struct Position {
    conv: i64,
    /// Nothing at or before this seq is owed.
    start: i64,
    /// Without a cursor of its own, the device is owed others' messages after this seq, and
    /// everything made since it registered.
    floor: i64,
}

const POSITION_COLUMNS: &str = "uc.conv_id, dc.seq, uc.start_seq, uc.synced_seq";

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
    c.prepare_cached(&format!(
        "SELECT {POSITION_COLUMNS} FROM user_conversations uc \
         LEFT JOIN device_cursors dc ON dc.user_id = uc.user_id AND dc.resource = ?2 AND dc.conv_id = uc.conv_id \
         WHERE uc.user_id = ?1 AND uc.target = ?3"
    ))?
    .query_row(
        params![device.user.as_str(), device.resource.as_str(), target.encode()],
        position_from_row,
    )
    .optional()
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_users(&self, users: Vec<NewUser>) -> Result<Vec<User>, StoreError> {
        self.writer
            .write(move |c, _| {
                let now = now_ms();
                let mut out = Vec::with_capacity(users.len());
                for u in users {
                    let n = c
                        .execute(
                            "INSERT OR IGNORE INTO users (id, uuid, password_hash, nickname, created_ms, modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                            params![u.id.as_str(), u.uuid, u.password.as_str(), u.nickname, now as i64],
                        )
                        .map_err(engine)?;
                    if n == 0 {
                        return Err(StoreError::DuplicateUser(u.id));
                    }
                    out.push(User {
                        id: u.id,
                        uuid: u.uuid,
                        password: u.password,
                        nickname: u.nickname,
                        created_ms: now,
                        modified_ms: now,
                    });
                }
                Ok(out)
            })
            .await
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let id = id.clone();
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
                [id.as_str()],
                user_from_row,
            )
            .optional()
        })
        .await
    }

    async fn delete_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let id = id.clone();
        self.writer
            .write(move |c, _| {
                let user = c
                    .query_row(
                        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
                        [id.as_str()],
                        user_from_row,
                    )
                    .optional()
                    .map_err(engine)?;
                if user.is_some() {
                    for table in [
                        "users WHERE id",
                        "tokens WHERE user_id",
                        "devices WHERE user_id",
                        "device_cursors WHERE user_id",
                        "user_conversations WHERE user_id",
                        "deleted_messages WHERE user_id",
                    ] {
                        c.execute(&format!("DELETE FROM {table} = ?1"), [id.as_str()])
                            .map_err(engine)?;
                    }
                }
                Ok(user)
            })
            .await
    }

    async fn set_password(&self, id: &UserId, hash: PasswordHash) -> Result<bool, StoreError> {
        let id = id.clone();
        self.writer
            .write(move |c, _| {
                let n = c
                    .execute(
                        "UPDATE users SET password_hash = ?2, modified_ms = ?3 WHERE id = ?1",
                        params![id.as_str(), hash.as_str(), now_ms() as i64],
                    )
                    .map_err(engine)?;
                c.execute("DELETE FROM tokens WHERE user_id = ?1", [id.as_str()])
                    .map_err(engine)?;
                Ok(n == 1)
            })
            .await
    }

    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.writer
            .write(move |c, _| {
                let user = match &token.principal {
                    Principal::User(u) => Some(u.as_str().to_owned()),
                    Principal::Admin => None,
                };
                c.execute(
                    "INSERT INTO tokens (hash, user_id, expires_ms) VALUES (?1, ?2, ?3)",
                    params![&token.hash.0[..], user, token.expires_ms as i64],
                )
                .map_err(engine)?;
                // Expired tokens are of no use to anyone: sweep a few on every issue.
                c.execute(
                    "DELETE FROM tokens WHERE hash IN (SELECT hash FROM tokens WHERE expires_ms < ?1 LIMIT 16)",
                    [now_ms() as i64],
                )
                .map_err(engine)?;
                Ok(())
            })
            .await
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let hash = *hash;
        self.read(move |c| {
            c.prepare_cached("SELECT user_id, expires_ms FROM tokens WHERE hash = ?1")?
                .query_row([&hash.0[..]], |r| {
                    let user: Option<String> = r.get(0)?;
                    let principal = match user {
                        Some(u) => Principal::User(parse_user(u)?),
                        None => Principal::Admin,
                    };
                    Ok(TokenRecord {
                        hash,
                        principal,
                        expires_ms: r.get::<_, i64>(1)? as u64,
                    })
                })
                .optional()
        })
        .await
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.read(move |c| {
            c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
        })
        .await
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.writer
            .write(move |c, _| {
                c.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    params![key, value],
                )
                .map_err(engine)?;
                Ok(())
            })
            .await
    }

    async fn append(&self, m: NewMessage) -> Result<StoredMessage, StoreError> {
        self.writer
            .write(move |c, ids| {
                // A group read ack concerns the sender alone: it moves their read position
                // and goes to their own log (their other devices learn of it there), not to
                // every member of the group.
                let group_ack = m.kind == MessageKind::ChannelAck && matches!(m.to, Target::Group(_));
                let key = if group_ack {
                    conversation_key(&m.from, &Target::System)
                } else {
                    conversation_key(&m.from, &m.to)
                };
                if let Some(client_id) = m.client_id {
                    let again = c
                        .query_row(
                            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE from_user = ?1 AND from_res = ?2 AND client_id = ?3"),
                            params![m.from.as_str(), m.from_resource.as_str(), client_id as i64],
                            message_from_row,
                        )
                        .optional()
                        .map_err(engine)?;
                    if let Some(stored) = again {
                        return Ok(stored);
                    }
                }
                let id = ids.next();
                let ts = id.timestamp_ms() as i64;
                let activity = m.activity && m.kind == MessageKind::Chat;
                c.execute(
                    "INSERT INTO conversations (key, last_seq, last_ms, created_ms) VALUES (?1, 0, ?2, ?2) ON CONFLICT(key) DO NOTHING",
                    params![key, ts],
                )
                .map_err(engine)?;
                // (SET expressions see the row's old values: last_seq + 1 is the new seq.)
                let (conv, seq, count): (i64, i64, i64) = c
                    .query_row(
                        "UPDATE conversations SET last_seq = last_seq + 1, last_ms = ?2, chat_count = chat_count + ?3, \
                         last_chat_seq = CASE WHEN ?3 THEN last_seq + 1 ELSE last_chat_seq END, \
                         last_chat_ms = CASE WHEN ?3 THEN ?2 ELSE last_chat_ms END, \
                         last_chat_id = CASE WHEN ?3 THEN ?4 ELSE last_chat_id END \
                         WHERE key = ?1 RETURNING id, last_seq, chat_count",
                        params![key, ts, activity, id.0 as i64],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .map_err(engine)?;
                c.execute(
                    "INSERT INTO messages (conv_id, seq, id, from_user, from_res, to_target, kind, ts_ms, payload, activity, ord, content_type, client_id) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                    params![conv, seq, id.0 as i64, m.from.as_str(), m.from_resource.as_str(), m.to.encode(), m.kind.code(), ts, &m.payload[..], activity, count, m.content_type, m.client_id.map(|c| c as i64)],
                )
                .map_err(engine)?;
                // A single chat's two sides exist from its first message on. A side created
                // later than the conversation (a user deleted and registered again under the
                // same id) starts at this message and inherits nothing before it. (Group
                // members' sides are made when they join.)
                let sides: Vec<(&UserId, Target, i64)> = match &m.to {
                    Target::User(to) => vec![(&m.from, m.to.clone(), 0), (to, Target::User(m.from.clone()), 0)],
                    Target::System => vec![(&m.from, Target::System, 3)],
                    Target::Group(_) if group_ack => vec![(&m.from, Target::System, 3)],
                    Target::Group(_) => vec![],
                };
                for (user, other, kind) in sides {
                    c.execute(
                        "INSERT INTO user_conversations (user_id, conv_id, target, kind, start_seq, synced_seq, read_seq, read_ord, hidden_to, created_ms, sort_key) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5, ?6, ?5, ?7, ?8) ON CONFLICT DO NOTHING",
                        params![user.as_str(), conv, other.encode(), kind, seq - 1, count - activity as i64, ts, MessageId::floor_at(ts as u64).0 as i64],
                    )
                    .map_err(engine)?;
                }
                if activity {
                    c.execute(
                        "UPDATE user_conversations SET sent = sent + 1 WHERE user_id = ?1 AND conv_id = ?2",
                        params![m.from.as_str(), conv],
                    )
                    .map_err(engine)?;
                    if matches!(m.to, Target::User(_)) {
                        // Both sides of a single chat move to the top of their lists.
                        c.prepare_cached(
                            "UPDATE user_conversations SET sort_key = ?2 WHERE conv_id = ?1 AND kind = 0",
                        )
                        .and_then(|mut st| st.execute(params![conv, id.0 as i64]))
                        .map_err(engine)?;
                    }
                }
                if group_ack {
                    // Read up to the group's newest message, on every device of the sender.
                    c.execute(
                        "UPDATE user_conversations SET read_seq = cv.last_seq, read_ord = cv.chat_count, read_sent = sent \
                         FROM conversations cv WHERE cv.key = ?2 AND user_conversations.conv_id = cv.id AND user_conversations.user_id = ?1",
                        params![m.from.as_str(), conversation_key(&m.from, &m.to)],
                    )
                    .map_err(engine)?;
                } else if m.kind == MessageKind::ChannelAck {
                    // Read up to here, on every device of the sender: unread becomes 0.
                    c.execute(
                        "UPDATE user_conversations SET read_seq = ?3, read_ord = ?4, read_sent = sent WHERE user_id = ?1 AND conv_id = ?2",
                        params![m.from.as_str(), conv, seq, count],
                    )
                    .map_err(engine)?;
                }
                Ok(StoredMessage {
                    id,
                    seq: seq as u64,
                    from: m.from,
                    from_resource: m.from_resource,
                    to: m.to,
                    kind: m.kind,
                    timestamp_ms: ts as u64,
                    payload: m.payload,
                    activity,
                })
            })
            .await
    }

    async fn device(&self, user: &UserId, resource: &Resource) -> Result<Device, StoreError> {
        let (user, resource) = (user.clone(), resource.clone());
        self.writer
            .write(move |c, ids| {
                let fresh = ids.next();
                c.execute(
                    "INSERT INTO devices (user_id, resource, registered_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    params![user.as_str(), resource.as_str(), fresh.0 as i64],
                )
                .map_err(engine)?;
                let registered: i64 = c
                    .query_row(
                        "SELECT registered_id FROM devices WHERE user_id = ?1 AND resource = ?2",
                        params![user.as_str(), resource.as_str()],
                        |r| r.get(0),
                    )
                    .map_err(engine)?;
                Ok(Device {
                    user,
                    resource,
                    registered: MessageId(registered as u64),
                })
            })
            .await
    }

    async fn pending(&self, device: &Device) -> Result<Vec<PendingQueue>, StoreError> {
        let d = device.clone();
        self.read(move |c| {
            let mut candidates = c.prepare_cached(&format!(
                "SELECT {POSITION_COLUMNS}, uc.target FROM user_conversations uc \
                 JOIN conversations cv ON cv.id = uc.conv_id \
                 LEFT JOIN device_cursors dc ON dc.user_id = uc.user_id AND dc.resource = ?2 AND dc.conv_id = uc.conv_id \
                 WHERE uc.user_id = ?1 AND cv.last_seq > MAX(COALESCE(dc.seq, 0), uc.start_seq)"
            ))?;
            let rows = candidates
                .query_map(params![d.user.as_str(), d.resource.as_str()], |r| {
                    Ok((position_from_row(r)?, r.get::<_, String>(4)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut count = c.prepare_cached(&format!(
                "SELECT COUNT(*) FROM (SELECT 1 {OWED} LIMIT 10000)"
            ))?;
            let mut out = Vec::new();
            for (p, target) in rows {
                let n: i64 = count.query_row(
                    params![p.conv, p.start, d.user.as_str(), d.resource.as_str(), d.registered.0 as i64, p.floor],
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
        })
        .await
    }

    async fn owed(
        &self,
        device: &Device,
        target: &Target,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let (d, target) = (device.clone(), target.clone());
        self.read(move |c| {
            let Some(p) = position(c, &d, &target)? else {
                return Ok(Vec::new());
            };
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} {OWED} ORDER BY seq LIMIT ?7"
            ))?;
            stmt.query_map(
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
        })
        .await
    }

    async fn ack(&self, device: &Device, target: &Target, seq: u64) -> Result<(), StoreError> {
        let (d, target) = (device.clone(), target.clone());
        self.writer
            .write(move |c, _| {
                let conv: Option<(i64, i64)> = c
                    .query_row(
                        "SELECT uc.conv_id, cv.last_seq FROM user_conversations uc JOIN conversations cv ON cv.id = uc.conv_id WHERE uc.user_id = ?1 AND uc.target = ?2",
                        params![d.user.as_str(), target.encode()],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(engine)?;
                let Some((conv, last)) = conv else {
                    return Ok(());
                };
                // A key beyond the conversation's end is a client bug or forgery: clamp it.
                let seq = (seq as i64).min(last);
                c.execute(
                    "INSERT INTO device_cursors (user_id, resource, conv_id, seq) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT(user_id, resource, conv_id) DO UPDATE SET seq = MAX(seq, excluded.seq)",
                    params![d.user.as_str(), d.resource.as_str(), conv, seq],
                )
                .map_err(engine)?;
                c.execute(
                    "UPDATE user_conversations SET synced_seq = MAX(synced_seq, ?3) WHERE user_id = ?1 AND conv_id = ?2",
                    params![d.user.as_str(), conv, seq],
                )
                .map_err(engine)?;
                Ok(())
            })
            .await
    }

    async fn create_group(&self, group: NewGroup) -> Result<Group, StoreError> {
        self.writer
            .write(move |c, _| groups::create(c, group))
            .await
    }

    async fn group(&self, id: &GroupId) -> Result<Option<Group>, StoreError> {
        let id = id.clone();
        self.read(move |c| groups::get(c, &id)).await
    }

    async fn groups_of(&self, user: &UserId, kind: GroupKind) -> Result<Vec<Group>, StoreError> {
        let user = user.clone();
        self.read(move |c| groups::of_user(c, &user, kind)).await
    }

    async fn list_groups(
        &self,
        kind: GroupKind,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Group>, StoreError> {
        self.read(move |c| groups::list(c, kind, offset, limit))
            .await
    }

    async fn members(
        &self,
        id: &GroupId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Member>, StoreError> {
        let id = id.clone();
        self.read(move |c| groups::members(c, &id, offset, limit))
            .await
    }

    async fn member_ids(&self, id: &GroupId) -> Result<Vec<UserId>, StoreError> {
        let id = id.clone();
        self.read(move |c| groups::member_ids(c, &id)).await
    }

    async fn member(&self, id: &GroupId, user: &UserId) -> Result<Option<Member>, StoreError> {
        let (id, user) = (id.clone(), user.clone());
        self.read(move |c| groups::member(c, &id, &user)).await
    }

    async fn add_members(
        &self,
        id: &GroupId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserId>, StoreError> {
        let id = id.clone();
        self.writer
            .write(move |c, _| groups::add_members(c, &id, users))
            .await
    }

    async fn remove_members(
        &self,
        id: &GroupId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserId>, StoreError> {
        let id = id.clone();
        self.writer
            .write(move |c, _| groups::remove_members(c, &id, users))
            .await
    }

    async fn set_owner(&self, id: &GroupId, user: &UserId) -> Result<(), StoreError> {
        let (id, user) = (id.clone(), user.clone());
        self.writer
            .write(move |c, _| groups::set_owner(c, &id, &user))
            .await
    }

    async fn delete_group(&self, id: &GroupId) -> Result<bool, StoreError> {
        let id = id.clone();
        self.writer.write(move |c, _| groups::delete(c, &id)).await
    }

    async fn conversations(
        &self,
        user: &UserId,
        query: &ListQuery,
    ) -> Result<ListPage, StoreError> {
        let (user, query) = (user.clone(), query.clone());
        self.read(move |c| roaming::list(c, &user, &query)).await
    }

    async fn pin(
        &self,
        user: &UserId,
        target: &Target,
        pinned: bool,
        max_pinned: usize,
    ) -> Result<Option<u64>, StoreError> {
        let (user, target) = (user.clone(), target.clone());
        self.writer
            .write(move |c, _| roaming::pin(c, &user, &target, pinned, max_pinned))
            .await
    }

    async fn mark(
        &self,
        user: &UserId,
        targets: Vec<Target>,
        mark: Mark,
        on: bool,
    ) -> Result<Vec<Target>, StoreError> {
        let user = user.clone();
        self.writer
            .write(move |c, _| roaming::mark(c, &user, &targets, mark.bit(), on))
            .await
    }

    async fn history(
        &self,
        user: &UserId,
        query: &HistoryQuery,
    ) -> Result<Option<HistoryPage>, StoreError> {
        let (user, query) = (user.clone(), query.clone());
        self.read_with(move |c| roaming::history(c, &user, &query))
            .await
    }

    async fn remove_messages(
        &self,
        user: &UserId,
        target: &Target,
        removal: Removal,
    ) -> Result<bool, StoreError> {
        let (user, target) = (user.clone(), target.clone());
        self.writer
            .write(move |c, _| roaming::remove(c, &user, &target, &removal))
            .await
    }

    async fn evict_conversations(
        &self,
        user: &UserId,
        keep: usize,
    ) -> Result<Vec<Target>, StoreError> {
        let user = user.clone();
        self.writer
            .write(move |c, _| roaming::evict(c, &user, keep))
            .await
    }

    async fn delete_conversation(
        &self,
        user: &UserId,
        target: &Target,
        with_history: bool,
    ) -> Result<bool, StoreError> {
        let (user, target) = (user.clone(), target.clone());
        self.writer
            .write(move |c, _| roaming::delete_conversation(c, &user, &target, with_history))
            .await
    }

    async fn delete_all_conversations(&self, user: &UserId) -> Result<Vec<Target>, StoreError> {
        let user = user.clone();
        self.writer
            .write(move |c, _| roaming::delete_all(c, &user))
            .await
    }
}
