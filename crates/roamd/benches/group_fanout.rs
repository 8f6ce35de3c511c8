//! Group fan-out: time from a group send to the moment every online member has the message
//! (notice → pull → message in hand), over real WebSockets on loopback, server and all member
//! devices in one process on this machine.
//!
//! Run: `cargo bench -p roamd --bench group_fanout` (optionally `-- MEMBERS ROUNDS`).
//! Baseline, measured in the same run: the same for a group of 1 member besides the sender.
//! Prints the median over rounds of the time until the last member has it, and until half have.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: a panic is a failed run with its location"
)]
#[path = "../tests/server/client.rs"]
mod client;

mod harness;

use std::time::{Duration, Instant};

use client::{Device, http};
use harness::{APP_KEY, admin_token, median, register, start, user_token};
use serde_json::json;
use tokio::sync::mpsc;

/// Creates `n` member users + a sender, a group of them, logs every member in, and measures
/// `rounds` sends. Returns per round (time until the last member had it, until half had it).
async fn run(
    addr: std::net::SocketAddr,
    admin: &str,
    tag: &str,
    n: usize,
    rounds: usize,
) -> Vec<(Duration, Duration)> {
    let names: Vec<String> = (0..n).map(|i| format!("{tag}m{i}")).collect();
    let sender = format!("{tag}sender");
    register(addr, admin, &names).await;
    register(addr, admin, std::slice::from_ref(&sender)).await;
    let (s, b) = http(
        addr,
        "POST",
        "/bench/app/chatgroups",
        Some(admin),
        Some(json!({"groupname": tag, "owner": sender, "maxusers": n + 1, "members": names})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let group = b["data"]["groupid"].as_str().unwrap().to_owned();

    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Instant)>();
    // Logins a few at a time: each password check is ~50 ms of CPU (argon2).
    use futures::StreamExt;
    let logins: Vec<Device> = futures::stream::iter(names.iter().cloned())
        .map(|u| async move {
            let t = user_token(addr, &u).await;
            let (d, st) = Device::login(addr, APP_KEY, &u, &t, "bench").await.unwrap();
            assert_eq!(st.0, 0);
            d
        })
        .buffer_unordered(4)
        .collect()
        .await;
    for mut d in logins {
        let (tx, group) = (tx.clone(), group.clone());
        tokio::spawn(async move {
            for round in 0..rounds {
                let got = loop {
                    d.notice().await.unwrap();
                    let got = d.pull_group(&group).await.unwrap();
                    if !got.is_empty() {
                        break got;
                    }
                };
                let _ = tx.send((round, Instant::now()));
                assert_eq!(got.len(), 1);
            }
        });
    }
    let t = user_token(addr, &sender).await;
    let (mut s, _) = Device::login(addr, APP_KEY, &sender, &t, "bench")
        .await
        .unwrap();
    let mut out = Vec::new();
    for round in 0..rounds {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let t0 = Instant::now();
        s.send_group_text(&group, "to everyone")
            .await
            .unwrap()
            .unwrap();
        let mut times = Vec::with_capacity(n);
        while times.len() < n {
            let (r, at) = rx.recv().await.unwrap();
            assert_eq!(r, round);
            times.push(at - t0);
        }
        times.sort();
        out.push((times[n - 1], times[n / 2]));
    }
    out
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let members: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(7);
    let server = start(|c| c.max_connections = members + 100).await;
    let addr = server.addr;
    let admin = admin_token(addr).await;

    let base = run(addr, &admin, "base", 1, rounds).await;
    let big = run(addr, &admin, "big", members, rounds).await;
    let (b_all, b_half) = (
        median(base.iter().map(|r| r.0).collect()),
        median(base.iter().map(|r| r.1).collect()),
    );
    let (g_all, g_half) = (
        median(big.iter().map(|r| r.0).collect()),
        median(big.iter().map(|r| r.1).collect()),
    );
    println!("rounds: {rounds}; baseline (1 member): last {b_all:?}, median member {b_half:?}");
    println!(
        "{members} members: last {g_all:?}, median member {g_half:?}; ratio last/baseline {:.1}x",
        g_all.as_secs_f64() / b_all.as_secs_f64()
    );
}
