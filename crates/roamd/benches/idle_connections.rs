//! Memory per idle authenticated connection, measured on a roamd started as its own process
//! (this profile's `roamd` binary): its resident set (VmRSS from /proc) before any connection,
//! then after each count of idle logged-in WebSocket connections (one user, one device per
//! connection, token login: no password hashing).
//!
//! Run: `cargo bench -p roamd --bench idle_connections` (optionally `-- 2000 5000`;
//! `ROAMD_BIN=path` measures another roamd binary). Needs a
//! descriptor limit above the largest count in both processes.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: a panic is a failed run with its location"
)]
#[path = "../tests/server/client.rs"]
mod client;

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use client::{Device, http};
use futures::StreamExt;
use serde_json::json;

const APP_KEY: &str = "bench#app";

/// Resident set of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Starts roamd: this profile's binary, or the one `ROAMD_BIN` names (to compare builds).
fn spawn(dir: &std::path::Path, port: u16, max: usize) -> Child {
    let bin = std::env::var("ROAMD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_roamd").into());
    Command::new(bin)
        .env("ROAM_LISTEN", format!("127.0.0.1:{port}"))
        .env("ROAM_DATA_DIR", dir)
        .env("ROAM_APP_KEY", APP_KEY)
        .env("ROAM_CLIENT_ID", "b")
        .env("ROAM_CLIENT_SECRET", "b")
        .env("ROAM_MAX_DEVICES", (max + 10).to_string())
        .env("ROAM_MAX_CONNECTIONS", (max + 100).to_string())
        .env("ROAM_SEND_RATE_PER_CONNECTION", "0")
        .env("ROAM_SEND_RATE_PER_USER", "0")
        .env("ROAM_LOGIN_LIMIT_PER_IP", "0")
        .env("ROAM_LOGIN_LIMIT_PER_ACCOUNT", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

async fn token(addr: std::net::SocketAddr, body: serde_json::Value) -> String {
    let (s, b) = http(addr, "POST", "/bench/app/token", None, Some(body))
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    b["access_token"].as_str().unwrap().to_owned()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut counts: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if counts.is_empty() {
        counts = vec![2000, 5000];
    }
    counts.sort_unstable();
    let max = *counts.last().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = spawn(dir.path(), port, max);
    let pid = child.id();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let admin = token(
        addr,
        json!({"grant_type": "client_credentials", "client_id": "b", "client_secret": "b"}),
    )
    .await;
    let (s, b) = http(
        addr,
        "POST",
        "/bench/app/users",
        Some(&admin),
        Some(json!([{"username": "idle", "password": "pw"}])),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let user = token(
        addr,
        json!({"grant_type": "password", "username": "idle", "password": "pw"}),
    )
    .await;
    // Warm up: one connection in and out, so the runtime's threads and pools exist.
    drop(
        Device::login(addr, APP_KEY, "idle", &user, "warm")
            .await
            .unwrap(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    println!("roamd pid {pid}: {before} KiB before any connection");
    let mut open: Vec<Device> = Vec::with_capacity(max);
    for n in counts {
        let more: Vec<Device> = futures::stream::iter(open.len()..n)
            .map(|i| {
                let user = user.clone();
                async move {
                    let (d, st) = Device::login(addr, APP_KEY, "idle", &user, &format!("d{i}"))
                        .await
                        .unwrap();
                    assert_eq!(st.0, 0);
                    d
                }
            })
            .buffer_unordered(32)
            .collect()
            .await;
        open.extend(more);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = rss_kib(pid);
        let per = rss.saturating_sub(before) as f64 / n as f64;
        println!("{n} idle connections: {rss} KiB, {per:.1} KiB per connection");
    }
    drop(open);
    let _ = child.kill();
    let _ = child.wait();
}
