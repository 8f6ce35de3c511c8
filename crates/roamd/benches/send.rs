//! Send throughput: messages per second acked by roamd (stored durably, then acked), over real
//! WebSockets on loopback, server and clients in one process on this machine.
//!
//! Run: `cargo bench -p roamd --bench send` (optionally `-- ROUNDS SECONDS SENDERS`).
//! Each round starts a fresh server and measures, for a fixed time:
//! - baseline: 1 device sending, each message after the previous ack (latency-bound);
//! - concurrent: SENDERS devices doing the same at once (group commit shares fsyncs).
//!
//! Both with `sqlite_synchronous = full` (an fsync per commit). Prints the median over rounds
//! and the concurrent/baseline ratio.
#[path = "../tests/server/client.rs"]
mod client;

use std::time::{Duration, Instant};

use client::{Device, http};
use roamd::{Server, config::Config};
use serde_json::json;

const APP_KEY: &str = "bench#app";

struct Running {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_owned(),
        app_key: APP_KEY.into(),
        client_id: Some("b".into()),
        client_secret: Some("b".into()),
        ..Config::default()
    };
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

async fn token(addr: std::net::SocketAddr, body: serde_json::Value) -> String {
    let (s, b) = http(addr, "POST", "/bench/app/token", None, Some(body))
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    b["access_token"].as_str().unwrap().to_owned()
}

/// Messages acked per second by `senders` devices sending for `secs`.
async fn measure(addr: std::net::SocketAddr, senders: usize, secs: f64) -> f64 {
    let admin = token(
        addr,
        json!({"grant_type":"client_credentials","client_id":"b","client_secret":"b"}),
    )
    .await;
    let users: Vec<_> = (0..senders)
        .flat_map(|i| {
            [
                json!({"username": format!("s{senders}x{i}"), "password": "pw"}),
                json!({"username": format!("r{senders}x{i}"), "password": "pw"}),
            ]
        })
        .collect();
    for chunk in users.chunks(60) {
        let (s, b) = http(
            addr,
            "POST",
            "/bench/app/users",
            Some(&admin),
            Some(json!(chunk)),
        )
        .await
        .unwrap();
        assert_eq!(s, 200, "{b}");
    }
    let mut tasks = Vec::new();
    let start = Instant::now() + Duration::from_millis(200);
    let end = start + Duration::from_secs_f64(secs);
    for i in 0..senders {
        let user = format!("s{senders}x{i}");
        let tok = token(
            addr,
            json!({"grant_type":"password","username": user,"password":"pw"}),
        )
        .await;
        let (mut d, st) = Device::login(addr, APP_KEY, &user, &tok, "bench")
            .await
            .unwrap();
        assert_eq!(st.0, 0);
        let to = format!("r{senders}x{i}");
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(start.into()).await;
            let mut n = 0u64;
            while Instant::now() < end {
                d.send_text(&to, "benchmark message of a typical short length")
                    .await
                    .unwrap();
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / secs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5);
    let secs: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3.0);
    let senders: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let (mut base, mut conc) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let server = start().await;
        let b = measure(server.addr, 1, secs).await;
        let c = measure(server.addr, senders, secs).await;
        println!(
            "round {round}: baseline(1 sender) {b:.0} msg/s, concurrent({senders} senders) {c:.0} msg/s"
        );
        base.push(b);
        conc.push(c);
        let _ = server.stop.send(());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (b, c) = (median(base), median(conc));
    println!(
        "median over {rounds} rounds of {secs}s: baseline {b:.0} msg/s; concurrent {c:.0} msg/s; ratio {:.2}x",
        c / b
    );
}
