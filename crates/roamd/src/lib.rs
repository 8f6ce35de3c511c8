//! The Roam server: the one place that knows concrete types. It opens the storage engine,
//! builds the use-cases, mounts the transports on one port and runs until told to stop.
use std::{
    future::Future,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use anyhow::Context;
use roam_domain::{
    auth::throttle::ThrottleLimits,
    fanout::Fanout,
    service::{Policy, Roam},
    store::Store,
    user::entity_uuid,
};
use roam_gateway::{Gateway, Hub, Limits, SendRate};
use roam_rest::Rest;
use roam_storage_postgres::PgStore;
use roam_storage_sqlite::{Options, SqliteStore, Synchronous};
use tokio::{net::TcpListener, sync::watch};

mod cluster;
pub mod config;
pub mod data_dir;
pub mod metrics;
mod serve;
pub mod web;

use config::{Config, Storage};
use data_dir::PendingCredential;

/// A bound, ready server.
pub struct Server {
    listener: TcpListener,
    router: axum::Router,
    stop: watch::Sender<bool>,
    gateway: Arc<Gateway>,
    /// Cluster mode's link to the other nodes.
    cluster: Option<Arc<roam_cluster::Cluster>>,
    /// A generated admin credential not yet used to log in: shown at every start until it is.
    pub generated_admin: Option<PendingCredential>,
    http: serve::HttpLimits,
}

impl Server {
    /// Opens storage under `config.data_dir` and binds `config.listen`.
    pub async fn build(config: &Config) -> anyhow::Result<Server> {
        let (store, writer_stats) = open_store(config).await?;
        let (admin, generated_admin) = data_dir::admin_credential(&*store, config).await?;
        let app_uuid = match store.setting("app_uuid").await? {
            Some(u) => u,
            None => {
                let u = entity_uuid();
                store.put_setting("app_uuid", &u).await?;
                u
            }
        };
        let hub = Hub::new(&config.app_key);
        // Cluster mode: deliveries, kicks and presence reach the other nodes through NATS.
        let cluster = cluster::join(config, hub.clone()).await?;
        let fanout: Arc<dyn Fanout> = match &cluster {
            Some(c) => c.clone(),
            None => hub.clone(),
        };
        let policy = Policy {
            token_ttl: Duration::from_secs(config.token_ttl_secs),
            node: config.node_id,
            max_pinned: config.max_pinned,
            conversation_limit: config.conversation_limit,
            rest_messages_update_conversations: config.rest_messages_update_conversations,
            max_groups_per_user: config.max_groups_per_user,
            max_chatrooms_per_user: config.max_chatrooms_per_user,
            hash_threads: config.password_hash_threads,
            hash_queue: config.password_hash_queue,
            login_limits: ThrottleLimits {
                per_ip: config.login_limit_per_ip,
                per_account: config.login_limit_per_account,
                window: Duration::from_secs(config.login_window_secs),
            },
            ..Policy::default()
        };
        let roam = Arc::new(Roam::new(store, fanout, admin, policy));
        roam.settle_admin_credential().await?;
        if let Some(c) = &generated_admin {
            data_dir::forget_when_used(c.file.clone(), roam.admin_used());
        }
        let (stop, stopped) = watch::channel(false);
        let gateway = Gateway::new(
            roam.clone(),
            hub,
            Limits {
                max_devices: config.max_devices,
                max_connections: config.max_connections,
                login_timeout: Duration::from_secs(config.login_timeout_secs),
                idle_timeout: Duration::from_secs(config.idle_timeout_secs),
                write_timeout: Duration::from_secs(config.write_timeout_secs),
                send_rate_per_connection: SendRate {
                    per_second: config.send_rate_per_connection,
                    burst: config.send_burst,
                },
                send_rate_per_user: SendRate {
                    per_second: config.send_rate_per_user,
                    burst: config.send_burst,
                },
            },
            stopped,
        );
        let rest = Rest::with_checks(
            roam,
            &config.app_key,
            app_uuid,
            config.open_registration,
            cluster::checks(cluster.as_ref()),
        );
        let metrics = metrics::Metrics::new(gateway.clone(), writer_stats, cluster.clone());
        let router = metrics.layer(
            gateway
                .router()
                .merge(serve::request_deadline(
                    rest.router(),
                    Duration::from_secs(config.http_request_timeout_secs),
                ))
                .merge(metrics.routes(rest.clone())),
        );
        let router = match web_app(config) {
            Some(dir) => router.merge(web::router(&dir, &config.app_key)),
            None => router,
        };
        let http = serve::HttpLimits {
            header_timeout: Duration::from_secs(config.http_header_timeout_secs),
            max_connections: match config.max_http_connections {
                0 => serve::default_max_connections(),
                n => n,
            },
            shutdown_timeout: Duration::from_secs(config.shutdown_timeout_secs),
        };
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("listen on {}", config.listen))?;
        Ok(Server {
            listener,
            router,
            stop,
            gateway,
            cluster,
            http,
            generated_admin,
        })
    }

    /// Every route (REST and the msync endpoints), as served: for driving the server in-process
    /// (fuzzing, `tower::ServiceExt::oneshot`) without a socket.
    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }

    /// The msync gateway, for running a [`roam_gateway::session::Session`] without a socket.
    pub fn gateway(&self) -> Arc<Gateway> {
        self.gateway.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes; then stops accepting, tells every connected device
    /// (the gateway closes each session with a close frame), lets requests in flight finish,
    /// and returns once the storage writer has flushed (it does so when the last handle to
    /// the store is dropped) — all of it bounded by `shutdown_timeout_secs`.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stop = self.stop;
        let limits = self.http;
        serve::serve(self.listener, self.router, limits, async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await;
        // Sessions end in their own tasks: wait (bounded) for them, so the last store handle
        // drops here and the writer flushes before we return.
        let deadline = tokio::time::Instant::now() + limits.shutdown_timeout;
        while self.gateway.open_connections() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(self.gateway);
        // The sessions' leaves reach the other nodes now (else they count this node's devices
        // until it has been silent for the expiry); bounded, NATS may be gone.
        if let Some(cluster) = &self.cluster {
            let _ = tokio::time::timeout(Duration::from_secs(1), cluster.flush()).await;
        }
        Ok(())
    }
}

/// The web chat's directory when it is to be served: built, and not in the way of the REST
/// paths of an org named like its mount.
fn web_app(config: &Config) -> Option<PathBuf> {
    let dir = web::built_dir(&config.web_dir)?;
    if config.app_key.split_once('#').map(|(org, _)| org) == web::MOUNT.strip_prefix('/') {
        tracing::warn!(
            app_key = %config.app_key,
            "the web chat is not served: its path {} would hide this org's REST paths",
            web::MOUNT
        );
        return None;
    }
    tracing::info!(dir = %dir.display(), "serving the web chat at {}/", web::MOUNT);
    Some(dir)
}

/// The store `config.storage` names, and (SQLite) its writer's stats for `/metrics`. The data
/// directory is made either way: it holds the generated admin credential.
async fn open_store(
    config: &Config,
) -> anyhow::Result<(
    Arc<dyn Store>,
    Option<Arc<roam_storage_sqlite::WriterStats>>,
)> {
    let db = config.data_dir.join("roam.db");
    let sqlite = config.storage == Storage::Sqlite;
    data_dir::prepare(&config.data_dir, sqlite.then_some(db.as_path()))?;
    match config.storage {
        Storage::Sqlite => {
            let (store, stats) = open_sqlite(&db, config)?;
            Ok((store, Some(stats)))
        }
        Storage::Postgres => {
            let store = PgStore::connect(
                &config.database_url,
                roam_storage_postgres::Options {
                    node: config.node_id,
                    pool_size: config.database_pool_size,
                    schema: None,
                    claim_node: true,
                },
            )
            .await
            .context("open PostgreSQL")?;
            Ok((Arc::new(store), None))
        }
    }
}

/// The SQLite store, and its writer's stats for `/metrics`.
fn open_sqlite(
    path: &Path,
    config: &Config,
) -> anyhow::Result<(Arc<dyn Store>, Arc<roam_storage_sqlite::WriterStats>)> {
    let synchronous = match config.sqlite_synchronous.as_str() {
        "normal" => Synchronous::Normal,
        _ => Synchronous::Full,
    };
    let store = SqliteStore::open(
        path,
        Options {
            synchronous,
            node: config.node_id,
        },
    )
    .with_context(|| format!("open {}", path.display()))?;
    let stats = store.writer_stats();
    Ok((Arc::new(store), stats))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn the_web_chat_is_served_when_built_and_out_of_the_rest_paths() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            web_dir: dir.path().to_owned(),
            ..Config::default()
        };
        assert_eq!(web_app(&config), None, "no build yet");
        std::fs::write(dir.path().join("index.html"), "<html></html>").unwrap();
        assert_eq!(web_app(&config), Some(dir.path().to_owned()));
        // An org named `app` owns /app/{app}/…: the page would hide its REST paths.
        config.app_key = "app#chat".into();
        assert_eq!(web_app(&config), None);
        config.app_key = "roam#demo".into();
        config.web_dir = PathBuf::new();
        assert_eq!(web_app(&config), None, "empty: never served");
    }
}
