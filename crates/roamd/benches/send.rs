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
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: a panic is a failed run with its location"
)]
#[path = "../tests/server/client.rs"]
mod client;

mod harness;

use std::time::{Duration, Instant};

use client::Device;
use harness::{APP_KEY, admin_token, median, register, start, user_token};

/// Messages acked per second by `senders` devices sending for `secs`.
async fn measure(addr: std::net::SocketAddr, senders: usize, secs: f64) -> f64 {
    let admin = admin_token(addr).await;
    let users: Vec<String> = (0..senders)
        .flat_map(|i| [format!("s{senders}x{i}"), format!("r{senders}x{i}")])
        .collect();
    register(addr, &admin, &users).await;
    let mut tasks = Vec::new();
    let begin = Instant::now() + Duration::from_millis(200);
    let end = begin + Duration::from_secs_f64(secs);
    for i in 0..senders {
        let user = format!("s{senders}x{i}");
        let tok = user_token(addr, &user).await;
        let (mut d, st) = Device::login(addr, APP_KEY, &user, &tok, "bench")
            .await
            .unwrap();
        assert_eq!(st.0, 0);
        let to = format!("r{senders}x{i}");
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(begin.into()).await;
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
        let server = start(|_| {}).await;
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
