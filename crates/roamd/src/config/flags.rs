//! roamd's command line.
use std::path::PathBuf;

use clap::Parser;
use serde::Serialize;

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
    /// Print the effective configuration (defaults, file, environment and flags merged) as
    /// TOML, secrets masked, and exit.
    #[arg(long)]
    #[serde(skip)]
    pub print_config: bool,
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
    /// Storage engine, sqlite or postgres [env: ROAM_STORAGE] [default: sqlite]
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<super::Storage>,
    /// PostgreSQL URL for --storage postgres [env: ROAM_DATABASE_URL]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// This node's id in message ids, 0..1023, unique among nodes sharing a database [env: ROAM_NODE_ID] [default: 0]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<u16>,
    /// Cluster mode: the NATS server, nats://host:4222 [env: ROAM_NATS_URL] [default: none]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats_url: Option<String>,
    /// Log format, text or json [env: ROAM_LOG_FORMAT] [default: text]
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<super::LogFormat>,
    /// The built web chat, served under /app when present [env: ROAM_WEB_DIR] [default: web/dist]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_dir: Option<PathBuf>,
}
