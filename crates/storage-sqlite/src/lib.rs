//! Roam's embedded storage engine: SQLite, bundled, in WAL mode.
//!
//! Writes go through one writer thread with group commit (`writer`); reads use a small pool
//! of read-only connections on tokio's blocking threads (`pool`), which WAL lets run beside
//! the writer; a third thread copies the WAL back into the database file (`checkpoint`), so
//! that work never stalls a commit. Each call of the store's traits is one short transaction.
//!
//! # Layout
//! - `migrations`: the schema scripts and their versions.
//! - `rows`: row mappers, column lists, conversation keys, the SQL functions.
//! - `users`: users, tokens, settings.
//! - `delivery`: appending messages, devices, what a device is owed, acks.
//! - `groups`: groups and chat rooms, their members.
//! - `roaming`: the conversation list, history, pins, marks, one-way deletes.
//!
//! Each of `users`, `delivery`, `groups` and `roaming` implements its part of the store
//! (`UserStore`, `DeliveryStore`, `GroupStore`, `RoamingStore`) by routing each call to the
//! writer (changes: one transaction each, with the events they cause, see
//! [`roam_domain::store`]) or the pool (queries), onto plain functions of a
//! [`rusqlite::Connection`]. Every statement that runs more than once is prepared through the
//! connection's statement cache (`prepare_cached`).
use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use roam_domain::{
    id::{IdGenerator, MessageId},
    store::StoreError,
};
use rusqlite::Connection;

mod checkpoint;
mod delivery;
mod groups;
mod migrations;
mod pool;
mod roaming;
mod rows;
mod users;
mod writer;
pub mod writer_stats;

use checkpoint::Checkpointer;
use pool::Readers;
use rows::engine;
use writer::Writer;
pub use writer_stats::WriterStats;

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

/// The writer's page cache, in KiB (SQLite's default is 2000). Unlike a reader's, it survives
/// commits (they are its own), so it keeps the pages every send touches: the tail of each busy
/// conversation, the ends of the message indexes, the list entries. 2 MB held too few of them
/// once a few hundred conversations were busy; it fills within the first minute under load.
const WRITER_CACHE_KIB: u32 = 8192;

/// The SQLite store. Cheap to share behind an `Arc`; dropping the last handle flushes the writer.
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Readers,
    writer_stats: Arc<WriterStats>,
    /// Acks waiting for the writer, coalesced (see `delivery::acks`).
    acks: delivery::Acks,
    /// Declared after `writer`: dropped after it, so the last commits are checkpointed too.
    _checkpointer: Checkpointer,
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
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=OFF; \
             PRAGMA cache_size=-{WRITER_CACHE_KIB}; \
             PRAGMA wal_autocheckpoint={}; PRAGMA journal_size_limit={};",
            checkpoint::WRITER_FALLBACK_PAGES,
            checkpoint::WAL_SIZE_LIMIT,
        ))
        .map_err(engine)?;
        conn.set_prepared_statement_cache_capacity(pool::STATEMENT_CACHE);
        rows::register_functions(&conn).map_err(engine)?;
        migrations::apply(&conn)?;
        let ids = IdGenerator::new(options.node);
        // Never hand out an id at or below one already stored (the generator forgets across a
        // restart, and the clock may have stepped back): continue after the newest id given
        // to a message or a device.
        let newest: Option<u64> = conn
            .query_row(
                "SELECT MAX(id) FROM (SELECT MAX(id) AS id FROM messages \
                 UNION ALL SELECT MAX(registered_id) FROM devices)",
                [],
                |r| r.get(0),
            )
            .map_err(engine)?;
        if let Some(newest) = newest {
            ids.resume_after(MessageId(newest));
        }
        let writer_stats = Arc::new(WriterStats::default());
        let checkpointer = Checkpointer::start(path).map_err(engine)?;
        let readers = Readers::new(path);
        readers.open_all()?;
        Ok(SqliteStore {
            path: path.to_owned(),
            writer: Writer::start(conn, ids, writer_stats.clone()),
            writer_stats,
            readers,
            acks: delivery::Acks::default(),
            _checkpointer: checkpointer,
        })
    }

    /// The writer's batch sizes and commit latencies, for monitoring (read at any time).
    pub fn writer_stats(&self) -> Arc<WriterStats> {
        self.writer_stats.clone()
    }

    /// The database file (tests reopen it to look at or change the schema directly).
    pub fn path(&self) -> &Path {
        &self.path
    }
}
