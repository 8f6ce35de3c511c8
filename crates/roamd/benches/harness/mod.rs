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
    start_in(tempfile::tempdir().unwrap(), tune).await
}

/// [`start`] on a data dir prepared beforehand (e.g. a database seeded through the store).
pub async fn start_in(dir: tempfile::TempDir, tune: impl FnOnce(&mut Config)) -> Running {
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_owned(),
        app_key: APP_KEY.into(),
        client_id: Some("b".into()),
        client_secret: Some("b".into()),
        // Benches measure throughput: no send rate limit.
        send_rate_per_connection: 0,
        send_rate_per_user: 0,
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

/// The `p`-th percentile (0 < p ≤ 100) by the nearest-rank method.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "the rank, a fraction of the length rounded up, is in 0..=len (and clamped)"
)]
pub fn percentile<T: PartialOrd + Copy>(mut v: Vec<T>, p: f64) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// One keep-alive HTTP/1.1 connection, for timing requests without a connect each: the
/// request is built beforehand ([`request_bytes`]) and the clock covers write → last body byte.
pub struct KeepAlive {
    stream: tokio::io::BufReader<tokio::net::TcpStream>,
}

/// A raw HTTP/1.1 request that keeps the connection open.
pub fn request_bytes(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Vec<u8> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl KeepAlive {
    pub async fn open(addr: std::net::SocketAddr) -> KeepAlive {
        let s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        KeepAlive {
            stream: tokio::io::BufReader::new(s),
        }
    }

    /// Sends `request` and reads the whole response: (status, body). The response must carry
    /// a Content-Length (axum's JSON answers do).
    pub async fn send(&mut self, request: &[u8]) -> (u16, Vec<u8>) {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
        self.stream.get_mut().write_all(request).await.unwrap();
        let mut line = String::new();
        self.stream.read_line(&mut line).await.unwrap();
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {line:?}"));
        let mut length = None;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.unwrap();
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.expect("a response with a Content-Length")];
        self.stream.read_exact(&mut body).await.unwrap();
        (status, body)
    }
}
