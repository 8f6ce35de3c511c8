//! Message roaming, server-side: how long a conversation-list page and a history page take
//! inside the server, at two levels:
//! - store: the storage call itself (`SqliteStore` through the `Store` trait, as the service
//!   makes it: read-connection pool, blocking thread, SQL, rows to domain types);
//! - REST: the HTTP request end to end over loopback, on one keep-alive connection (the clock
//!   covers writing the prepared request to reading the last body byte: routing, token check,
//!   the store call, JSON, and the loopback round trip; not the TCP connect). The client runs
//!   on a thread and runtime of its own.
//!
//! Run: `cargo bench -p roamd --bench roaming` (optionally `-- CONVS MESSAGES ITERS SYNC`,
//! defaults 500 1000000 2000 full; a quick run: `-- 500 20000`).
//!
//! Targets (the message-roaming issue):
//! - A. a list page of 50 for a user with CONVS conversations: p99 ≤ 2 ms. The user's
//!   conversations: a tenth are groups; each has a few messages; every other one is read,
//!   the rest unread (some with a message the user deleted one-way); a tenth (at most 50) are
//!   pinned, a seventh marked. Also the second page (from the first page's cursor).
//! - B. a history page of 50, newest first, from the end (cursor -1) and from a message in
//!   the middle, in a conversation holding half of MESSAGES, in a database of at least
//!   MESSAGES messages (the other half in 200 other conversations, written interleaved):
//!   p99 ≤ 1 ms.
//!
//! Baseline, measured in the same run on a small database: the list of a user with 5
//! conversations; history pages in a conversation of 100 messages.
//!
//! Everything is seeded through the store's own API (`insert_users`, `create_group`,
//! `append`, `pin`, `mark`, `remove_messages`), with many appends in flight at once so that
//! the writer thread's group commit batches them. SYNC (`full`, the server's default, or
//! `normal`) is the seeding store's `synchronous` mode: with up to 512 appends a commit the
//! fsyncs cost little, the writer thread's CPU is the limit. Reads do not depend on it.
//! With `ROAMING_BENCH_KEEP=DIR` the seeded target database is copied to DIR (to look at it
//! afterwards, e.g. EXPLAIN QUERY PLAN in the sqlite3 shell).
//!
//! Tails depend on what else runs on the machine: each level reports how many cores other
//! processes kept busy meanwhile (a baseline p99 far above its median says the same).
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: a panic is a failed run with its location"
)]
#[path = "../../tests/server/client.rs"]
mod client;

#[path = "../harness/mod.rs"]
mod harness;

mod load;
mod measure;
mod rest_level;
mod seed;
mod store_level;

use std::{path::Path, time::Instant};

use harness::{median, percentile};
use load::{loadavg, watching};
use measure::{OPS, ROUNDS, ms, spread};
use rest_level::measure_rest;
use roam_domain::roaming::MAX_PAGE;
use roam_storage_sqlite::Synchronous;
use seed::{Db, IN_FLIGHT, Spec, db_size, seed};
use store_level::measure_store;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let convs: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(500);
    let total: usize = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let iters: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let (sync, sync_name) = match args.get(3).map(String::as_str) {
        Some("normal") => (Synchronous::Normal, "normal"),
        _ => (Synchronous::Full, "full"),
    };
    assert!(convs > MAX_PAGE && total >= 1000 && iters >= ROUNDS);

    println!(
        "roaming bench: list of a user with {convs} conversations; history in a DB of ≥{total} messages; \
         {iters} timed calls per measurement (baseline and target alternating in {ROUNDS} rounds)"
    );
    println!(
        "load average at start: {} (this machine has {} cores)",
        loadavg(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "seeding through the store API, {IN_FLIGHT} appends in flight, synchronous={sync_name}"
    );

    // Baseline: a small database.
    let small = tempfile::tempdir().unwrap();
    let base_spec = Spec {
        convs: 5,
        history: 100,
        filler: 0,
    };
    let t = Instant::now();
    let seeded = seed(&small.path().join("roam.db"), &base_spec, sync).await;
    println!(
        "baseline DB: {} messages, seeded in {:.1?}",
        seeded.messages,
        t.elapsed()
    );
    let base = Db {
        dir: small,
        seeded,
        convs: base_spec.convs,
    };

    // The target database.
    let dir = tempfile::tempdir().unwrap();
    let history = total / 2;
    let spec = Spec {
        convs,
        history,
        filler: total - history,
    };
    let t = Instant::now();
    let seeded = watching("seeding", seed(&dir.path().join("roam.db"), &spec, sync)).await;
    let seed_time = t.elapsed();
    // For a look at the data afterwards (e.g. EXPLAIN QUERY PLAN in the sqlite3 shell).
    if let Some(keep) = std::env::var_os("ROAMING_BENCH_KEEP") {
        std::fs::create_dir_all(&keep).unwrap();
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), Path::new(&keep).join(e.file_name())).unwrap();
        }
        println!("target DB copied to {}", keep.to_string_lossy());
    }
    let seed_line = format!(
        "{} messages ({history} in the history conversation) seeded in {:.1?} ({:.0} msg/s, synchronous={sync_name}), {:.0} MB on disk",
        seeded.messages,
        seed_time,
        seeded.messages as f64 / seed_time.as_secs_f64(),
        db_size(dir.path()) as f64 / 1e6
    );
    println!("target DB: {seed_line}");
    let big = Db { dir, seeded, convs };

    println!("store level");
    let store = watching("store level", measure_store(&base, &big, iters)).await;
    println!("REST level");
    let rest = watching("REST level", measure_rest(base, big, iters)).await;

    println!();
    println!("latency spreads, ms:");
    for (level, samples) in [("store", &store), ("REST", &rest)] {
        for (op, s) in OPS.iter().zip(samples) {
            println!("  {op:<30} {level:<5} target:   {}", spread(&s.big));
            println!("  {:<30} {level:<5} baseline: {}", "", spread(&s.base));
        }
    }
    println!();
    println!(
        "{:<30} {:<5} {:>5} {:>9} {:>9} {:>6} {:>4}  {:>9} {:>9}  {:>6} {:>6}",
        "operation",
        "level",
        "n",
        "median",
        "p99",
        "target",
        "met",
        "base med",
        "base p99",
        "×med",
        "×p99"
    );
    for (level, samples) in [("store", &store), ("REST", &rest)] {
        for (i, (op, s)) in OPS.iter().zip(samples).enumerate() {
            let (med, p99) = (
                ms(median(s.big.clone())),
                ms(percentile(s.big.clone(), 99.0)),
            );
            let (bmed, bp99) = (
                ms(median(s.base.clone())),
                ms(percentile(s.base.clone(), 99.0)),
            );
            let target = if i < 2 { 2.0 } else { 1.0 };
            println!(
                "{op:<30} {level:<5} {:>5} {med:>7.3}ms {p99:>7.3}ms {target:>4.0}ms {:>4}  {bmed:>7.3}ms {bp99:>7.3}ms  {:>5.2}x {:>5.2}x",
                s.big.len(),
                if p99 <= target { "yes" } else { "NO" },
                med / bmed,
                p99 / bp99,
            );
        }
    }
    println!();
    println!(
        "targets: p99 ≤ 2 ms (list), ≤ 1 ms (history) for the time inside the server: the store \
         row; the REST row adds routing, token check, JSON and the loopback round trip"
    );
    println!(
        "baselines (small DB, same run): list = page 1 of a user with 5 conversations (for both \
         list rows); history = the same page in a conversation of 100 messages"
    );
    println!("seeding: {seed_line}");
    println!("load average at end: {}", loadavg());
}
