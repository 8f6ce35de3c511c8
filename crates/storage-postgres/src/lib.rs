//! Roam's storage engine for several nodes: PostgreSQL.
//!
//! Unlike the SQLite engine (one writer thread, group commit), any number of roamd processes
//! write here at once, so nothing assumes one writer: each call of the store's traits is one
//! transaction on a pooled connection, at PostgreSQL's default isolation (READ COMMITTED), and
//! what must be serialized is serialized by row locks taken in the transaction:
//!
//! - appending to a conversation locks its `conversations` row (`SELECT … FOR UPDATE`) before
//!   numbering the message, so per-conversation sequence numbers stay gap-free and in order
//!   whichever nodes append at once; the row also holds the id of its last message, and the
//!   node's id generator is moved past it, so ids increase with the sequence in every
//!   conversation even when the nodes' clocks disagree;
//! - rows that may be created by two nodes at once (a conversation, a user's side of it, a
//!   device) are inserted with `ON CONFLICT DO NOTHING` and read back.
//!
//! Message ids carry the node id ([`Options::node`]); [`PgStore::connect`] claims it for as long
//! as the store lives (a session-level advisory lock), so a second node started with the same
//! id is refused instead of making colliding ids.
//!
//! # Layout
//! - `migrations`: the schema scripts and their versions.
//! - `rows`: error mapping, row mappers, conversation keys.
//! - `users`, `delivery`, `groups`, `roaming`: one part of the store each, as in the SQLite
//!   engine (and with the same SQL where the dialects agree).
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use roam_domain::{
    id::{IdGenerator, MessageId},
    store::StoreError,
};
use tokio_postgres::NoTls;

mod delivery;
mod groups;
mod migrations;
mod roaming;
mod rows;
mod users;

use rows::engine;

/// Connection options.
#[derive(Debug, Clone)]
pub struct Options {
    /// This node's id in message ids (0..1024); unique among the nodes sharing the database.
    pub node: u16,
    /// Most connections this node opens to PostgreSQL.
    pub pool_size: usize,
    /// The schema that holds Roam's tables (created if missing); None = the connection's
    /// default (`public`, or whatever the URL's `options` set). Tests use one per test.
    pub schema: Option<String>,
    /// Claim [`Options::node`] for as long as the store lives, refusing to open if another
    /// live process holds it. Only tests that open many stores of one node turn it off.
    pub claim_node: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            node: 0,
            pool_size: 16,
            schema: None,
            claim_node: true,
        }
    }
}

/// The PostgreSQL store. Cheap to share behind an `Arc`.
pub struct PgStore {
    pool: Pool,
    ids: Arc<IdGenerator>,
    /// Acks waiting for the store's ack transaction, coalesced (see `delivery::acks`).
    acks: delivery::Acks,
    /// The connection that holds this node's claim (see [`Options::claim_node`]); the claim
    /// ends when it closes, also when the process dies.
    _claim: Option<tokio_postgres::Client>,
}

impl PgStore {
    /// Connects to the database at `url` (a `postgres://` URL or a libpq key=value string),
    /// applies the schema and claims the node id. A bad URL, an unreachable server or a node
    /// id in use is an error that says so.
    pub async fn connect(url: &str, options: Options) -> Result<PgStore, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Engine(format!("bad database URL: {e}")))?;
        if let Some(schema) = &options.schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(StoreError::Engine(format!("bad schema name {schema:?}")));
            }
            config.options(format!("-c search_path={schema}"));
        }
        config.connect_timeout(std::time::Duration::from_secs(5));
        let claim = connect_one(&config).await?;
        if let Some(schema) = &options.schema {
            claim
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .await
                .map_err(engine)?;
        }
        migrations::apply(&claim).await?;
        let claim = if options.claim_node {
            claim_node(&claim, options.node).await?;
            Some(claim)
        } else {
            None
        };
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .build()
            .map_err(|e| StoreError::Engine(format!("connection pool: {e}")))?;
        let ids = Arc::new(IdGenerator::new(options.node));
        let store = PgStore {
            pool,
            ids,
            acks: delivery::Acks::default(),
            _claim: claim,
        };
        // Never hand out an id at or below one already stored (this node's generator forgot
        // them, and the clock may have stepped back).
        let newest: Option<i64> = store
            .client()
            .await?
            .query_one(
                "SELECT GREATEST((SELECT MAX(id) FROM messages), (SELECT MAX(registered_id) FROM devices))",
                &[],
            )
            .await
            .map_err(engine)?
            .get(0);
        if let Some(newest) = newest.and_then(|n| u64::try_from(n).ok()) {
            store.ids.resume_after(MessageId(newest));
        }
        Ok(store)
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Engine(format!("no database connection: {e}")))
    }
}

/// One connection, its I/O driven by a task of its own (ending when the client is dropped).
async fn connect_one(
    config: &tokio_postgres::Config,
) -> Result<tokio_postgres::Client, StoreError> {
    let (client, connection) = config.connect(NoTls).await.map_err(|e| {
        // (The error's text names only its kind; the cause, e.g. "Connection refused", is
        // its source.)
        let cause = std::error::Error::source(&e).map_or_else(String::new, |s| format!(": {s}"));
        StoreError::Engine(format!("cannot connect to PostgreSQL: {e}{cause}"))
    })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// Takes the session-level advisory lock for `node` in this schema, or says who has it.
async fn claim_node(c: &tokio_postgres::Client, node: u16) -> Result<(), StoreError> {
    let got: bool = c
        .query_one(
            "SELECT pg_try_advisory_lock(hashtext('roam-node:' || current_schema()), $1)",
            &[&i32::from(node)],
        )
        .await
        .map_err(engine)?
        .get(0);
    if got {
        Ok(())
    } else {
        Err(StoreError::Engine(format!(
            "node id {node} is in use by another live roamd on this database: give each node its own node_id"
        )))
    }
}
