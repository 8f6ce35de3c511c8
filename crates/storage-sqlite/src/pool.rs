//! The read connections: a small pool of read-only connections, used on tokio's blocking
//! threads. WAL lets them read beside the writer, each from its own snapshot.
use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

use roam_domain::store::StoreError;
use rusqlite::{Connection, OpenFlags};

use crate::rows::{engine, register_functions};

/// Read connections, and so reads running at once.
const READERS: usize = 4;

/// Prepared statements kept per connection: every statement the engine runs, with room to
/// spare (parsing and planning showed up in profiles when the default 16 were cycled).
pub(crate) const STATEMENT_CACHE: usize = 128;

/// The pool. Connections are opened on first need and kept.
pub(crate) struct Readers {
    path: PathBuf,
    /// Open read connections not in use.
    idle: Mutex<Vec<Connection>>,
    /// One permit per read connection: a read waits for a free connection rather than
    /// opening a new one (opening costs far more than a typical read).
    permits: tokio::sync::Semaphore,
}

impl Readers {
    pub(crate) fn new(path: &Path) -> Readers {
        Readers {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            permits: tokio::sync::Semaphore::new(READERS),
        }
    }

    /// Runs `f` on a read connection, on a blocking thread.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        self.read_with(move |c| f(c).map_err(engine)).await
    }

    /// Runs `f` on a read connection on the calling thread, for a lookup by key in a small,
    /// hot table (a send's recipient check): its pages are in memory, so the read takes a few
    /// microseconds, less than the hand-off to a blocking thread and back that [`Readers::read`]
    /// pays. A WAL reader never waits for the writer, so this does not block on it.
    pub(crate) fn read_now<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        let conn = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => self.open().map_err(engine)?,
        };
        let result = f(&conn).map_err(engine);
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        result
    }

    /// [`Readers::read`] for a function that fails with a [`StoreError`].
    pub(crate) async fn read_with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| StoreError::Engine(e.to_string()))?;
        let conn = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => self.open().map_err(engine)?,
        };
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let r = f(&conn);
            (conn, r)
        })
        .await
        .map_err(|e| StoreError::Engine(e.to_string()))?;
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        result
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(std::time::Duration::from_secs(5))?;
        c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        register_functions(&c)?;
        Ok(c)
    }
}
