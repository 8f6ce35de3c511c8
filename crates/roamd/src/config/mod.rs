//! roamd's configuration: defaults, overlaid by a TOML file (`--config`), then by `ROAM_*`
//! environment variables, then by command-line flags. Every key is documented where declared,
//! and in `docs/roamd.example.toml` (a test holds the two together).
use std::path::PathBuf;

use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

mod env;
mod flags;
mod print;

pub use env::unknown_env_vars;
pub use flags::Cli;

/// Everything roamd can be told. Each key is also `ROAM_<KEY>` and a key of the TOML file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address that serves REST and the msync WebSocket (`/websocket`). Port 0 picks a free port.
    pub listen: String,
    /// Directory for the SQLite database and all other state; created if missing.
    pub data_dir: PathBuf,
    /// The app, `org#app`: REST paths are `/{org}/{app}/…`, JIDs carry it.
    pub app_key: String,
    /// Admin credential (`client_credentials` grant). Both unset: one is generated on first
    /// start, stored as a hash, and its secret kept in `<data_dir>/admin-credential` and printed
    /// at each start until first used. Changing it voids the old credential's admin tokens.
    pub client_id: Option<String>,
    /// See `client_id`. Masked by `--print-config`.
    pub client_secret: Option<String>,
    /// Allow `POST /{org}/{app}/users` without the admin token.
    pub open_registration: bool,
    /// Most devices one user may have online at once (Easemob's multi-device limit).
    pub max_devices: usize,
    /// Most WebSocket connections at once.
    pub max_connections: usize,
    /// Lifetime of issued tokens, in seconds (default 60 days).
    pub token_ttl_secs: u64,
    /// Seconds a new WebSocket connection has to log in before it is closed.
    pub login_timeout_secs: u64,
    /// Seconds of silence (no frame, no pong to the server's pings) after which a WebSocket
    /// connection is considered dead and closed. The SDK's own heartbeat is 30 s.
    pub idle_timeout_secs: u64,
    /// Seconds a write to a WebSocket may take before the connection is closed: a client that
    /// stops reading (its buffers full) is dropped after this, whatever its other traffic.
    pub write_timeout_secs: u64,
    /// Messages per second one WebSocket connection may send over msync (messages, acks and
    /// room joins/leaves alike), sustained; 0 = no limit. Beyond it a send is refused with
    /// PERMISSION_DENIED `traffic limit` (the SDK's MESSAGE_CURRENT_LIMITING) and not stored.
    pub send_rate_per_connection: u32,
    /// Messages per second one user may send over msync, all their connections together;
    /// 0 = no limit.
    pub send_rate_per_user: u32,
    /// Messages a connection, and a user, may send at once before the rates above apply (a
    /// burst, such as read acks for a whole screen); 0 = no limit.
    pub send_burst: u32,
    /// Where everything is kept: `sqlite` (embedded, in `data_dir`; one node) or `postgres`
    /// (the server at `database_url`; several nodes may share it, each with its own `node_id`).
    pub storage: Storage,
    /// The PostgreSQL server for `storage = "postgres"`: a `postgres://user@host:port/db` URL
    /// or a libpq `key=value` string. Masked by `--print-config` (it may hold a password).
    pub database_url: String,
    /// Most connections this node opens to PostgreSQL.
    pub database_pool_size: usize,
    /// SQLite fsync policy: `full` (fsync per commit; nothing acked is lost on power loss) or
    /// `normal` (survives process crashes; faster).
    pub sqlite_synchronous: String,
    /// This node's id in message ids (0..1023); unique per node sharing a database.
    pub node_id: u16,
    /// Cluster mode: the NATS server (`nats://host:4222`) through which the nodes sharing
    /// one database tell each other of live news, kicks and devices online (see
    /// `docs/cluster.md`). Unset or empty: a single node. Set, roamd exits if NATS does not
    /// answer at start; later losses only delay deliveries to other nodes' devices.
    pub nats_url: Option<String>,
    /// Most conversations one user may have pinned at once (Easemob: 50). A pin beyond it
    /// gets the SDK's limit error.
    pub max_pinned: usize,
    /// Most conversations a user's list keeps; 0 = no limit (the default: nothing is evicted
    /// silently). When a message takes a list over the limit, its least active unpinned
    /// conversations leave the list; their history stays.
    pub conversation_limit: usize,
    /// Whether messages sent over the REST admin API (`/messages/…`) update conversations
    /// (list them, become their lastMessage, count as unread). Off by default, as in Easemob.
    pub rest_messages_update_conversations: bool,
    /// Threads that compute password hashes (argon2, ~19 MiB each, kept and reused); 0 = one
    /// per core. At most this many logins or registrations hash at once.
    pub password_hash_threads: usize,
    /// Logins and registrations that may wait for a hashing thread; beyond them the server
    /// answers 503 "server busy" at once.
    pub password_hash_queue: usize,
    /// Failed logins one client address may make per window, over all accounts and the admin
    /// grant (IPv6: per /64); then 429 until the window ends. 0 = off.
    pub login_limit_per_ip: u32,
    /// Failed (or in-progress) logins one client address may make on one account per window.
    /// There is no limit per account alone, so nobody can lock a user out. 0 = off.
    pub login_limit_per_account: u32,
    /// The window of the two login limits, in seconds.
    pub login_window_secs: u64,
    /// Most groups one user may be in, owned ones included (Easemob's default plan: 600).
    /// Creating, joining or being added to one more gets a 403; bounds what one user costs.
    pub max_groups_per_user: usize,
    /// Most chat rooms one user may be in at once, likewise.
    pub max_chatrooms_per_user: usize,
    /// Log lines as `text` (for people; colours only when stderr is a terminal) or `json`
    /// (one object per line, for log collectors). `RUST_LOG` filters them (default `info`).
    pub log_format: LogFormat,
    /// The built web chat (`npm run build` in `web/`), served under `/app` when this directory
    /// holds an `index.html`; relative to the working directory. Empty: never served.
    pub web_dir: PathBuf,
    /// Seconds an HTTP connection may take to send a request's head, and may sit idle between
    /// requests when kept alive; then it is closed. Holds silent sockets from piling up.
    pub http_header_timeout_secs: u64,
    /// Seconds a REST request may take from its head to its answer, body upload included;
    /// over it the client gets 408. WebSockets are not affected (the gateway has its own
    /// timeouts, `login_timeout_secs` and `idle_timeout_secs`).
    pub http_request_timeout_secs: u64,
    /// Most TCP connections (HTTP and WebSocket) open at once; further clients wait in the
    /// listen backlog. 0 = from the file descriptor limit, keeping headroom for the database
    /// and logs, so that `accept` never fails for want of descriptors.
    pub max_http_connections: usize,
    /// Seconds a shutdown (SIGTERM, SIGINT) waits for connected devices to be told and for
    /// requests in flight to finish before roamd exits anyway.
    pub shutdown_timeout_secs: u64,
}

/// The storage engine (`storage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// Embedded SQLite in `data_dir`: no service needed; one node.
    #[default]
    Sqlite,
    /// PostgreSQL at `database_url`: for several nodes.
    Postgres,
}

/// How log lines are written (`log_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:5280".into(),
            data_dir: PathBuf::from("./roam-data"),
            app_key: "roam#demo".into(),
            client_id: None,
            client_secret: None,
            open_registration: false,
            max_devices: 10,
            max_connections: 10_000,
            token_ttl_secs: 60 * 24 * 3600,
            login_timeout_secs: 10,
            idle_timeout_secs: 95,
            write_timeout_secs: 20,
            send_rate_per_connection: 50,
            send_rate_per_user: 100,
            send_burst: 200,
            storage: Storage::Sqlite,
            database_url: String::new(),
            database_pool_size: 16,
            sqlite_synchronous: "full".into(),
            node_id: 0,
            nats_url: None,
            max_pinned: 50,
            conversation_limit: 0,
            rest_messages_update_conversations: false,
            max_groups_per_user: 600,
            max_chatrooms_per_user: 100,
            log_format: LogFormat::Text,
            web_dir: PathBuf::from("web/dist"),
            http_header_timeout_secs: 10,
            http_request_timeout_secs: 30,
            max_http_connections: 0,
            shutdown_timeout_secs: 10,
            password_hash_threads: 0,
            password_hash_queue: 64,
            login_limit_per_ip: 30,
            login_limit_per_account: 10,
            login_window_secs: 60,
        }
    }
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or a variable does not parse (figment's message names the key and where).
    #[error(transparent)]
    Load(#[from] Box<figment::Error>),
    #[error("app_key must be org#app, got {0:?}")]
    AppKey(String),
    #[error("client_id and client_secret must be set together")]
    HalfCredential,
    #[error("sqlite_synchronous must be full or normal, got {0:?}")]
    Synchronous(String),
    #[error("storage = \"postgres\" needs database_url (ROAM_DATABASE_URL, --database-url)")]
    NoDatabaseUrl,
    #[error("node_id must be below 1024")]
    NodeId,
    #[error("max_pinned must be at least 1")]
    MaxPinned,
    #[error("{0} must be at least 1")]
    Zero(&'static str),
}

impl Config {
    /// Layers defaults, the file named by `--config`, `ROAM_*` variables that name a key (the
    /// others are left alone: they may be another Roam tool's, like the CLI's `ROAM_USER`;
    /// see [`unknown_env_vars`]) and the flags.
    pub fn load(cli: &Cli) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = &cli.config {
            figment = figment.merge(Toml::file_exact(path));
        }
        let config: Config = figment
            .merge(env::provider())
            .merge(Serialized::defaults(cli))
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// Every key's name, in declaration order.
    pub fn keys() -> Vec<String> {
        match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// The configuration as a TOML document, secrets masked (`roamd --print-config`).
    pub fn to_toml(&self) -> String {
        print::render(self)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        match self.app_key.split_once('#') {
            Some((org, app)) if !org.is_empty() && !app.is_empty() && !app.contains('#') => {}
            _ => return Err(ConfigError::AppKey(self.app_key.clone())),
        }
        if self.client_id.is_some() != self.client_secret.is_some() {
            return Err(ConfigError::HalfCredential);
        }
        if !matches!(self.sqlite_synchronous.as_str(), "full" | "normal") {
            return Err(ConfigError::Synchronous(self.sqlite_synchronous.clone()));
        }
        if self.storage == Storage::Postgres && self.database_url.trim().is_empty() {
            return Err(ConfigError::NoDatabaseUrl);
        }
        if self.node_id >= 1024 {
            return Err(ConfigError::NodeId);
        }
        if self.max_pinned == 0 {
            return Err(ConfigError::MaxPinned);
        }
        for (key, value) in [
            ("http_header_timeout_secs", self.http_header_timeout_secs),
            ("http_request_timeout_secs", self.http_request_timeout_secs),
            ("write_timeout_secs", self.write_timeout_secs),
            ("login_window_secs", self.login_window_secs),
            (
                "database_pool_size",
                u64::try_from(self.database_pool_size).unwrap_or(u64::MAX),
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(key));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail dictates the closure type
mod tests;
