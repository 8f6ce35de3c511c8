//! roamd's configuration: defaults, overlaid by a TOML file (`--config`), then by `ROAM_*`
//! environment variables, then by command-line flags. Every key is documented where declared.
use std::path::PathBuf;

use clap::Parser;
use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

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
    /// start, kept in the data dir and printed once.
    pub client_id: Option<String>,
    /// See `client_id`.
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
    /// SQLite fsync policy: `full` (fsync per commit; nothing acked is lost on power loss) or
    /// `normal` (survives process crashes; faster).
    pub sqlite_synchronous: String,
    /// This node's id in message ids (0..1023); unique per node sharing a database.
    pub node_id: u16,
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
    /// The built web chat (`npm run build` in `web/`), served under `/app` when this directory
    /// holds an `index.html`; relative to the working directory. Empty: never served.
    pub web_dir: PathBuf,
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
            sqlite_synchronous: "full".into(),
            node_id: 0,
            max_pinned: 50,
            conversation_limit: 0,
            rest_messages_update_conversations: false,
            web_dir: PathBuf::from("web/dist"),
        }
    }
}

/// Command-line flags; each overrides the key of the same name.
#[derive(Debug, Parser, Serialize)]
#[command(
    name = "roamd",
    version,
    about = "Roam: an open-source IM server that speaks Easemob's protocol"
)]
pub struct Cli {
    /// TOML file with any of the configuration keys.
    #[arg(long)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address for REST and the WebSocket [env: ROAM_LISTEN] [default: 127.0.0.1:5280]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Data directory [env: ROAM_DATA_DIR] [default: ./roam-data]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// The app, org#app [env: ROAM_APP_KEY] [default: roam#demo]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_key: Option<String>,
    /// Admin client id [env: ROAM_CLIENT_ID]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Admin client secret [env: ROAM_CLIENT_SECRET]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Allow registration without the admin token [env: ROAM_OPEN_REGISTRATION]
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub open_registration: bool,
    /// The built web chat, served under /app when present [env: ROAM_WEB_DIR] [default: web/dist]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_dir: Option<PathBuf>,
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Load(#[from] Box<figment::Error>),
    #[error("app_key must be org#app, got {0:?}")]
    AppKey(String),
    #[error("client_id and client_secret must be set together")]
    HalfCredential,
    #[error("sqlite_synchronous must be full or normal, got {0:?}")]
    Synchronous(String),
    #[error("node_id must be below 1024")]
    NodeId,
    #[error("max_pinned must be at least 1")]
    MaxPinned,
}

impl Config {
    /// Layers defaults, the file named by `--config`, `ROAM_*` variables and the flags.
    pub fn load(cli: &Cli) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = &cli.config {
            figment = figment.merge(Toml::file_exact(path));
        }
        let config: Config = figment
            .merge(Env::prefixed("ROAM_"))
            .merge(Serialized::defaults(cli))
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
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
        if self.node_id >= 1024 {
            return Err(ConfigError::NodeId);
        }
        if self.max_pinned == 0 {
            return Err(ConfigError::MaxPinned);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail dictates the closure type
mod tests {
    use super::*;

    #[test]
    fn flags_beat_env_beat_file_beat_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "roam.toml",
                "listen = \"0.0.0.0:1\"\napp_key = \"f#f\"\nmax_devices = 3\n",
            )?;
            jail.set_env("ROAM_APP_KEY", "e#e");
            jail.set_env("ROAM_DATA_DIR", "/env");
            let cli = Cli::parse_from(["roamd", "--config", "roam.toml", "--data-dir", "/flag"]);
            let c = Config::load(&cli).map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "0.0.0.0:1"); // file
            assert_eq!(c.app_key, "e#e"); // env over file
            assert_eq!(c.data_dir, PathBuf::from("/flag")); // flag over env
            assert_eq!(c.max_devices, 3);
            assert_eq!(c.token_ttl_secs, Config::default().token_ttl_secs); // default
            assert_eq!(c.web_dir, PathBuf::from("web/dist")); // default
            Ok(())
        });
    }

    #[test]
    fn web_dir_is_a_flag_an_env_var_and_a_file_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("roam.toml", "web_dir = \"/file\"\n")?;
            let file = Cli::parse_from(["roamd", "--config", "roam.toml"]);
            assert_eq!(
                Config::load(&file).map_err(|e| e.to_string())?.web_dir,
                PathBuf::from("/file")
            );
            jail.set_env("ROAM_WEB_DIR", "/env");
            assert_eq!(
                Config::load(&file).map_err(|e| e.to_string())?.web_dir,
                PathBuf::from("/env")
            );
            let flag = Cli::parse_from(["roamd", "--config", "roam.toml", "--web-dir", "/flag"]);
            assert_eq!(
                Config::load(&flag).map_err(|e| e.to_string())?.web_dir,
                PathBuf::from("/flag")
            );
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("ROAM_APP_KEY", "noapp");
            assert!(matches!(
                Config::load(&Cli::parse_from(["roamd"])),
                Err(ConfigError::AppKey(_))
            ));
            jail.set_env("ROAM_APP_KEY", "a#b");
            jail.set_env("ROAM_CLIENT_ID", "x");
            assert!(matches!(
                Config::load(&Cli::parse_from(["roamd"])),
                Err(ConfigError::HalfCredential)
            ));
            Ok(())
        });
    }
}
