//! Roam's embedded storage engine: SQLite, bundled, in WAL mode.
//!
//! Writes go through one writer thread with group commit ([`writer`]); reads use a small pool
//! of read-only connections on tokio's blocking threads ([`pool`]), which WAL lets run beside
//! the writer. Each call of the [`Store`] trait is one short transaction.
//!
//! # Layout
//! - [`migrations`]: the schema scripts and their versions.
//! - [`rows`]: row mappers, column lists, conversation keys, the SQL functions.
//! - [`users`]: users, tokens, settings.
//! - [`delivery`]: appending messages, devices, what a device is owed, acks.
//! - [`groups`]: groups and chat rooms, their members.
//! - [`roaming`]: the conversation list, history, pins, marks, one-way deletes.
//!
//! Those modules hold plain functions on a [`rusqlite::Connection`]; this file only routes
//! each trait call to the writer (changes) or the pool (queries). Every statement that runs
//! more than once is prepared through the connection's statement cache (`prepare_cached`).
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use roam_domain::{
    auth::{TokenHash, TokenRecord},
    conversation::Target,
    device::{Device, Resource},
    group::{Group, GroupId, GroupKind, Member, NewGroup},
    id::{IdGenerator, MessageId},
    message::{NewMessage, StoredMessage},
    roaming::{HistoryPage, HistoryQuery, ListPage, ListQuery, Mark, Removal},
    store::{PendingQueue, Store, StoreError},
    user::{NewUser, PasswordHash, User, UserId},
};
use rusqlite::Connection;

mod delivery;
mod groups;
mod migrations;
mod pool;
mod roaming;
mod rows;
mod users;
mod writer;

use pool::Readers;
use rows::engine;
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
    readers: Readers,
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
        conn.set_prepared_statement_cache_capacity(pool::STATEMENT_CACHE);
        rows::register_functions(&conn).map_err(engine)?;
        migrations::apply(&conn)?;
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
            readers: Readers::new(path),
        })
    }

    /// The database file (tests reopen it to look at or change the schema directly).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_users(&self, users: Vec<NewUser>) -> Result<Vec<User>, StoreError> {
        self.writer.write(move |c, _| users::insert(c, users)).await
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let id = id.clone();
        self.readers.read(move |c| users::get(c, &id)).await
    }

    async fn delete_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let id = id.clone();
        self.writer.write(move |c, _| users::delete(c, &id)).await
    }

    async fn set_password(&self, id: &UserId, hash: PasswordHash) -> Result<bool, StoreError> {
        let id = id.clone();
        self.writer
            .write(move |c, _| users::set_password(c, &id, &hash))
            .await
    }

    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.writer
            .write(move |c, _| users::insert_token(c, &token))
            .await
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let hash = *hash;
        self.readers.read(move |c| users::token(c, hash)).await
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.readers.read(move |c| users::setting(c, &key)).await
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.writer
            .write(move |c, _| users::put_setting(c, &key, &value))
            .await
    }

    async fn append(&self, m: NewMessage) -> Result<StoredMessage, StoreError> {
        self.writer
            .write(move |c, ids| delivery::append(c, ids, m))
            .await
    }

    async fn device(&self, user: &UserId, resource: &Resource) -> Result<Device, StoreError> {
        let (user, resource) = (user.clone(), resource.clone());
        self.writer
            .write(move |c, ids| delivery::device(c, ids, user, resource))
            .await
    }

    async fn pending(&self, device: &Device) -> Result<Vec<PendingQueue>, StoreError> {
        let d = device.clone();
        self.readers.read(move |c| delivery::pending(c, &d)).await
    }

    async fn owed(
        &self,
        device: &Device,
        target: &Target,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let (d, target) = (device.clone(), target.clone());
        self.readers
            .read(move |c| delivery::owed(c, &d, &target, limit))
            .await
    }

    async fn ack(&self, device: &Device, target: &Target, seq: u64) -> Result<(), StoreError> {
        let (d, target) = (device.clone(), target.clone());
        self.writer
            .write(move |c, _| delivery::ack(c, &d, &target, seq).map_err(engine))
            .await
    }

    async fn create_group(&self, group: NewGroup) -> Result<Group, StoreError> {
        self.writer
            .write(move |c, _| groups::create(c, group))
            .await
    }

    async fn group(&self, id: &GroupId) -> Result<Option<Group>, StoreError> {
        let id = id.clone();
        self.readers.read(move |c| groups::get(c, &id)).await
    }

    async fn groups_of(&self, user: &UserId, kind: GroupKind) -> Result<Vec<Group>, StoreError> {
        let user = user.clone();
        self.readers
            .read(move |c| groups::of_user(c, &user, kind))
            .await
    }

    async fn list_groups(
        &self,
        kind: GroupKind,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Group>, StoreError> {
        self.readers
            .read(move |c| groups::list(c, kind, offset, limit))
            .await
    }

    async fn members(
        &self,
        id: &GroupId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Member>, StoreError> {
        let id = id.clone();
        self.readers
            .read(move |c| groups::members(c, &id, offset, limit))
            .await
    }

    async fn member_ids(&self, id: &GroupId) -> Result<Vec<UserId>, StoreError> {
        let id = id.clone();
        self.readers.read(move |c| groups::member_ids(c, &id)).await
    }

    async fn member(&self, id: &GroupId, user: &UserId) -> Result<Option<Member>, StoreError> {
        let (id, user) = (id.clone(), user.clone());
        self.readers
            .read(move |c| groups::member(c, &id, &user))
            .await
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
        self.readers
            .read(move |c| roaming::list(c, &user, &query))
            .await
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
        self.readers
            .read_with(move |c| roaming::history(c, &user, &query))
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

#[cfg(test)]
mod tests;
