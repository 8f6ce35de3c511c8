//! What the benches share: a roamd in this process on a free port with a fresh data dir,
//! tokens, and medians.
#![allow(dead_code)]

use crate::client::http;
use roamd::{Server, config::Config};
use serde_json::json;

pub const APP_KEY: &str = "bench#app";

/// A roamd serving until `stop` is sent (or dropped).
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

/// Starts roamd (admin credential `b`/`b`) with `tune` applied to its configuration.
pub async fn start(tune: impl FnOnce(&mut Config)) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_owned(),
        app_key: APP_KEY.into(),
        client_id: Some("b".into()),
        client_secret: Some("b".into()),
        ..Config::default()
    };
    tune(&mut config);
    let server = Server::build(&config).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop,
        _dir: dir,
    }
}

pub async fn token(addr: std::net::SocketAddr, body: serde_json::Value) -> String {
    let (s, b) = http(addr, "POST", "/bench/app/token", None, Some(body))
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    b["access_token"].as_str().unwrap().to_owned()
}

pub async fn admin_token(addr: std::net::SocketAddr) -> String {
    token(
        addr,
        json!({"grant_type": "client_credentials", "client_id": "b", "client_secret": "b"}),
    )
    .await
}

pub async fn user_token(addr: std::net::SocketAddr, user: &str) -> String {
    token(
        addr,
        json!({"grant_type": "password", "username": user, "password": "pw"}),
    )
    .await
}

/// Registers users with password `pw`, 60 per request.
pub async fn register(addr: std::net::SocketAddr, admin: &str, names: &[String]) {
    let all: Vec<_> = names
        .iter()
        .map(|u| json!({"username": u, "password": "pw"}))
        .collect();
    for chunk in all.chunks(60) {
        let (s, b) = http(
            addr,
            "POST",
            "/bench/app/users",
            Some(admin),
            Some(json!(chunk)),
        )
        .await
        .unwrap();
        assert_eq!(s, 200, "{b}");
    }
}

pub fn median<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}
