//! The read connections: a bounded pool of read-only connections. WAL lets them read beside
//! the writer, each from its own snapshot.
//!
//! # The bound
//! At most [`READERS`] connections exist, and at most [`READERS`] reads run at once, whether on
//! a blocking thread ([`Readers::read`]) or inline ([`Readers::read_now`]): every read first
//! takes a [`Lease`], one of [`READERS`] semaphore permits, and a connection is opened only
//! when a lease finds none idle. A caller waits for a lease asynchronously, in order.
//!
//! Reads that run on tokio's blocking pool keep their lease until the blocking closure ends,
//! even if the caller stopped waiting, so at most [`READERS`] blocking threads run reads at any
//! time, whatever the pool's own cap (512 by default). Why not a lower `max_blocking_threads`
//! where roamd builds its runtime: that cap is shared with everything else that blocks
//! (`tokio::fs` serving the web chat, for one), so reads and file reads would queue behind each
//! other, and it would bound nothing in tests or the load generator that use this store
//! directly. Why not dedicated reader threads: the blocking pool already keeps its idle
//! threads and hands work to them the way a reader thread's queue would (a lock and a wake-up),
//! so they would cost as much per read and add a second queue to keep correct.
use std::{
    collections::VecDeque,
    ops::Deref,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use roam_domain::store::StoreError;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};

use crate::rows::{engine, register_functions};

/// Read connections, and so reads running at once.
pub(crate) const READERS: usize = 4;

/// Page cache per read connection, in KiB (SQLite's default is 2000). Small on purpose: in WAL
/// mode a reader drops its whole page cache whenever it starts a read after any commit (it
/// cannot know which cached pages changed), so under writes a reader's cache only ever holds
/// the pages of one read; a bigger one would only grow the process for nothing.
const READER_CACHE_KIB: i64 = 512;

/// Prepared statements kept per connection: every statement the engine runs, with room to
/// spare (parsing and planning showed up in profiles when the default 16 were cycled).
pub(crate) const STATEMENT_CACHE: usize = 128;

/// The pool. Connections are opened on first need and kept.
pub(crate) struct Readers {
    shared: Arc<Shared>,
    /// One permit per read connection: a read waits for a free connection rather than
    /// opening a new one (opening costs far more than a typical read).
    permits: Arc<Semaphore>,
}

struct Shared {
    path: PathBuf,
    /// Open read connections not in use, taken from the front and returned to the back: each
    /// is used in turn, so all of them hold the same prepared statements soon after start
    /// (a stack would leave the bottom ones cold, and their memory would creep up for hours
    /// as rarely run statements were prepared on them one by one).
    idle: Mutex<VecDeque<Connection>>,
    /// Connections open now, and the most ever open at once (tests check the bound).
    #[cfg(test)]
    open: std::sync::atomic::AtomicUsize,
    #[cfg(test)]
    peak: std::sync::atomic::AtomicUsize,
}

/// The right to one read: a permit `P` and the connection it runs on. Dropping it returns the
/// connection to the pool, then the permit. Owned (`Arc`s) to move to a blocking thread,
/// borrowed for a read on the calling thread (no reference counts to touch).
struct Lease<S: Deref<Target = Shared>, P> {
    conn: Option<Connection>,
    shared: S,
    _permit: P,
}

impl<S: Deref<Target = Shared>, P> Lease<S, P> {
    fn conn(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl<S: Deref<Target = Shared>, P> Drop for Lease<S, P> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if std::thread::panicking() {
            // A read panicked on it: do not hand it out again.
            self.shared.dropped();
            return;
        }
        self.shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(conn);
    }
}

impl Readers {
    pub(crate) fn new(path: &Path) -> Readers {
        Readers {
            shared: Arc::new(Shared {
                path: path.to_owned(),
                idle: Mutex::new(VecDeque::with_capacity(READERS)),
                #[cfg(test)]
                open: 0.into(),
                #[cfg(test)]
                peak: 0.into(),
            }),
            permits: Arc::new(Semaphore::new(READERS)),
        }
    }

    /// Opens every connection the pool may hold, at start: the server's memory is then set up
    /// front, not grown the first time load makes [`READERS`] reads run at once (hours later,
    /// perhaps). Called with no read running, so the bound holds.
    pub(crate) fn open_all(&self) -> Result<(), StoreError> {
        let mut opened = VecDeque::with_capacity(READERS);
        for _ in 0..READERS {
            opened.push_back(self.shared.open().map_err(engine)?);
        }
        *self
            .shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = opened;
        Ok(())
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
    /// pays. A WAL reader never waits for the writer, so this does not block on it; it waits
    /// (asynchronously) only when all [`READERS`] connections are busy.
    pub(crate) async fn read_now<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        let permit = match self.permits.try_acquire() {
            Ok(p) => p,
            Err(_) => self.permits.acquire().await.map_err(closed)?,
        };
        let lease = Lease {
            conn: Some(self.shared.take()?),
            shared: &*self.shared,
            _permit: permit,
        };
        f(lease.conn()).map_err(engine)
    }

    /// [`Readers::read`] for a function that fails with a [`StoreError`].
    pub(crate) async fn read_with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let lease = self.lease().await?;
        // The lease moves into the blocking closure: connection and permit come back when
        // the read ends, not when the caller stops waiting for it.
        tokio::task::spawn_blocking(move || f(lease.conn()))
            .await
            .map_err(|e| StoreError::Engine(e.to_string()))?
    }

    /// Waits for a free permit, then takes an idle connection or opens one.
    async fn lease(&self) -> Result<Lease<Arc<Shared>, OwnedSemaphorePermit>, StoreError> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => self.permits.clone().acquire_owned().await.map_err(closed)?,
        };
        Ok(Lease {
            conn: Some(self.shared.take()?),
            shared: self.shared.clone(),
            _permit: permit,
        })
    }

    /// The most read connections ever open at once.
    #[cfg(test)]
    pub(crate) fn peak(&self) -> usize {
        self.shared.peak.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn closed(e: AcquireError) -> StoreError {
    StoreError::Engine(e.to_string())
}

impl Shared {
    /// An idle connection, or a new one. Called with a permit in hand, so at most [`READERS`]
    /// connections ever exist (see the module docs).
    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        match idle {
            Some(c) => Ok(c),
            None => self.open().map_err(engine),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(std::time::Duration::from_secs(5))?;
        c.pragma_update(None, "cache_size", READER_CACHE_KIB.wrapping_neg())?;
        c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        register_functions(&c)?;
        #[cfg(test)]
        {
            use std::sync::atomic::Ordering::SeqCst;
            let open = self.open.fetch_add(1, SeqCst) + 1;
            self.peak.fetch_max(open, SeqCst);
        }
        Ok(c)
    }

    /// A connection was dropped rather than returned.
    fn dropped(&self) {
        #[cfg(test)]
        self.open.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests;
