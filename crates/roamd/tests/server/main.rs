//! roamd's integration tests: one binary, each test starts a real server on port 0 with a
//! fresh data dir and talks to it over real sockets (REST and msync).
#![allow(
    clippy::unwrap_used,
    reason = "a test suite: a panic is a failed test with its location"
)]
mod auth;
mod authz;
mod authz_msync;
mod cli;
mod client;
mod cluster;
mod group_fanout;
mod groups;
mod http_limits;
mod ids;
mod limits;
mod messaging;
mod observability;
mod overload;
mod process;
mod pull_keys;
mod rest;
mod rest_errors;
mod roaming;
mod sdk;
mod sockjs;
mod user_deletion;

use std::{net::SocketAddr, path::Path};

use client::{Device, http};
use roamd::{Server, config::Config};
use serde_json::json;
use tokio::{sync::oneshot, task::JoinHandle};

pub const APP_KEY: &str = "test-org#test-app";
pub const BASE: &str = "/test-org/test-app";

/// A running roamd.
pub struct TestApp {
    pub addr: SocketAddr,
    pub admin_token: String,
    dir: tempfile::TempDir,
    tune: fn(&mut Config),
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

fn config(dir: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_owned(),
        app_key: APP_KEY.into(),
        client_id: Some("test-admin".into()),
        client_secret: Some("test-secret".into()),
        max_devices: 3,
        ..Config::default()
    }
}

async fn start(
    dir: &Path,
    tune: fn(&mut Config),
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    JoinHandle<anyhow::Result<()>>,
) {
    let mut config = config(dir);
    tune(&mut config);
    let server = Server::build(&config).await.expect("server builds");
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    (addr, stop, task)
}

/// Starts roamd on a free port with a fresh data dir and takes an admin token.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] with some configuration changed.
pub async fn spawn_app_with(tune: fn(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let (addr, stop, task) = start(dir.path(), tune).await;
    let mut app = TestApp {
        addr,
        admin_token: String::new(),
        dir,
        tune,
        stop: Some(stop),
        task: Some(task),
    };
    app.admin_token = app.admin_token().await;
    app
}

impl TestApp {
    async fn admin_token(&self) -> String {
        let mut c = config(self.dir.path());
        (self.tune)(&mut c);
        let (status, body) = http(
            self.addr,
            "POST",
            &format!("{BASE}/token"),
            None,
            Some(json!({"grant_type": "client_credentials", "client_id": c.client_id, "client_secret": c.client_secret})),
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Stops the server (graceful) and starts it again on the same data dir.
    pub async fn restart(&mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.task.take().unwrap().await.unwrap().unwrap();
        let (addr, stop, task) = start(self.dir.path(), self.tune).await;
        self.addr = addr;
        self.stop = Some(stop);
        self.task = Some(task);
        self.admin_token = self.admin_token().await;
    }

    /// [`TestApp::restart`] with another configuration change.
    pub async fn restart_with(&mut self, tune: fn(&mut Config)) {
        self.tune = tune;
        self.restart().await;
    }

    /// The data dir.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Registers users with password "pw".
    pub async fn users(&self, names: &[&str]) {
        let body: Vec<_> = names
            .iter()
            .map(|n| json!({"username": n, "password": "pw"}))
            .collect();
        let (status, resp) = http(
            self.addr,
            "POST",
            &format!("{BASE}/users"),
            Some(&self.admin_token),
            Some(json!(body)),
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{resp}");
    }

    /// A user token by the password grant.
    pub async fn token(&self, user: &str) -> String {
        let (status, body) = http(
            self.addr,
            "POST",
            &format!("{BASE}/token"),
            None,
            Some(json!({"grant_type": "password", "username": user, "password": "pw"})),
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A logged-in device of `user`.
    pub async fn device(&self, user: &str, resource: &str) -> Device {
        let token = self.token(user).await;
        let (d, status) = Device::login(self.addr, APP_KEY, user, &token, resource)
            .await
            .unwrap();
        assert_eq!(status.0, 0, "login refused: {status:?}");
        d
    }
}
