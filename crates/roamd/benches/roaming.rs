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
#[path = "../tests/server/client.rs"]
mod client;

mod harness;

use std::{
    path::Path,
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures::StreamExt;
use harness::{KeepAlive, median, percentile, request_bytes, start_in, user_token};
use prost::Message as _;
use roam_domain::{
    conversation::Target,
    device::Resource,
    group::{GroupId, GroupKind, GroupSettings, NewGroup},
    id::MessageId,
    message::{MessageKind, NewMessage, StoredMessage},
    roaming::{
        Direction, HistoryPage, HistoryQuery, ListCursor, ListFilter, ListPage, ListQuery,
        MAX_PAGE, Mark, PageSize, Removal,
    },
    store::{DeliveryStore, GroupStore, RoamingStore, StoreError, UserStore, no_events},
    user::{NewUser, Password, UserId, entity_uuid},
};
use roam_storage_sqlite::{Options, SqliteStore, Synchronous};
use serde_json::{Value, json};

/// Appends in flight at once while seeding (the writer takes up to 512 a transaction).
const IN_FLIGHT: usize = 2048;
/// Conversations the rest of the messages are spread over.
const FILLER_CONVS: usize = 200;
/// Most pinned conversations (the default policy's `max_pinned`).
const MAX_PINNED: usize = 50;
const TEXT: &str = "benchmark message of a typical short length";

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

fn resource() -> Resource {
    Resource::parse("bench").unwrap()
}

fn payload(from: &str, to: &str) -> Bytes {
    Bytes::from(client::text_body(from, to, TEXT).encode_to_vec())
}

fn chat(from: &UserId, to: &Target, payload: &Bytes) -> NewMessage {
    NewMessage {
        from: from.clone(),
        from_resource: resource(),
        to: to.clone(),
        kind: MessageKind::Chat,
        payload: payload.clone(),
        content_type: "txt".into(),
        // As the service marks a chat message from a device.
        activity: true,
        client_id: None,
    }
}

/// "I have read this whole conversation": moves the sender's read position.
fn read_ack(from: &UserId, to: &Target) -> NewMessage {
    NewMessage {
        from: from.clone(),
        from_resource: resource(),
        to: to.clone(),
        kind: MessageKind::ChannelAck,
        payload: Bytes::new(),
        content_type: String::new(),
        activity: false,
        client_id: None,
    }
}

/// Appends `msgs` with many in flight; answers the stored messages in `msgs`' order.
async fn append_all(store: &SqliteStore, msgs: Vec<NewMessage>) -> Vec<StoredMessage> {
    futures::stream::iter(msgs)
        .map(|m| store.append(m))
        .buffered(IN_FLIGHT)
        .map(|r| r.unwrap())
        .collect()
        .await
}

/// Appends `msgs` with many in flight, handing each stored message to `each` as it is acked.
async fn append_stream(
    store: &SqliteStore,
    msgs: impl Iterator<Item = NewMessage>,
    mut each: impl FnMut(StoredMessage),
) {
    let mut acked = futures::stream::iter(msgs)
        .map(|m| store.append(m))
        .buffer_unordered(IN_FLIGHT);
    while let Some(r) = acked.next().await {
        each(r.unwrap());
    }
}

/// What to seed.
struct Spec {
    /// Conversations of the listing user.
    convs: usize,
    /// Messages in the history conversation.
    history: usize,
    /// Messages spread over [`FILLER_CONVS`] other conversations.
    filler: usize,
}

/// Who and what the measurements use.
struct Seeded {
    /// Has `convs` conversations.
    lister: UserId,
    /// Reads the history of the conversation with `talker`.
    reader: UserId,
    talker: UserId,
    /// A message in the middle of that conversation: the cursor of the mid-history page.
    mid: MessageId,
    /// Messages stored in all.
    messages: usize,
}

/// The seq whose message is the mid-history cursor: the page below it is a full one.
fn mid_seq(history: usize) -> u64 {
    (history / 2 + MAX_PAGE / 2) as u64
}

/// Seeds the database at `path` through the store's API.
async fn seed(path: &Path, spec: &Spec, sync: Synchronous) -> Seeded {
    let store = SqliteStore::open(
        path,
        Options {
            synchronous: sync,
            node: 0,
        },
    )
    .unwrap();
    let (lister, reader, talker) = (user("lister"), user("reader"), user("talker"));
    let peers: Vec<UserId> = (0..spec.convs).map(|i| user(&format!("p{i}"))).collect();
    let fillers: Vec<(UserId, UserId)> = (0..FILLER_CONVS)
        .map(|i| (user(&format!("fa{i}")), user(&format!("fb{i}"))))
        .collect();

    // Users (password `pw`, one hash for all: argon2 takes tens of ms each).
    let hash = Password::parse("pw").unwrap().hash();
    let everyone: Vec<UserId> = [lister.clone(), reader.clone(), talker.clone()]
        .into_iter()
        .chain(peers.iter().cloned())
        .chain(fillers.iter().flat_map(|(a, b)| [a.clone(), b.clone()]))
        .collect();
    for chunk in everyone.chunks(500) {
        let users = chunk
            .iter()
            .map(|id| NewUser {
                id: id.clone(),
                uuid: entity_uuid(),
                password: hash.clone(),
                nickname: None,
            })
            .collect();
        store.insert_users(users).await.unwrap();
    }

    // The lister's conversations: every tenth a group (owned by the peer), the rest single
    // chats with the peer.
    let targets: Vec<Target> = (0..spec.convs)
        .map(|i| {
            if i % 10 == 3 {
                Target::Group(GroupId::parse(&format!("{}", 900_000 + i)).unwrap())
            } else {
                Target::User(peers[i].clone())
            }
        })
        .collect();
    for (i, t) in targets.iter().enumerate() {
        if let Target::Group(g) = t {
            store
                .create_group(NewGroup {
                    id: g.clone(),
                    kind: GroupKind::Group,
                    owner: peers[i].clone(),
                    settings: GroupSettings {
                        name: format!("group {i}"),
                        description: String::new(),
                        public: false,
                        approval: false,
                        allow_invites: true,
                        max_users: 200,
                        custom: String::new(),
                    },
                    members: vec![lister.clone()],
                })
                .await
                .unwrap();
        }
    }
    // Per conversation, in phases (so the order within each is known): peer, lister, peer;
    // then every third gets one more from the peer (these are the most active: the first
    // pages); then the lister reads every other one (a read ack is no activity).
    let to_lister = |i: usize| match &targets[i] {
        Target::User(_) => Target::User(lister.clone()),
        group => group.clone(),
    };
    let mut messages = 0;
    let mut third_phase = Vec::new();
    for phase in 0..5 {
        let msgs: Vec<NewMessage> = (0..spec.convs)
            .filter_map(|i| {
                let (peer, t) = (&peers[i], &targets[i]);
                let from_peer = || chat(peer, &to_lister(i), &payload(peer.as_str(), "lister"));
                match phase {
                    0 | 2 => Some(from_peer()),
                    1 => Some(chat(&lister, t, &payload("lister", peer.as_str()))),
                    3 => (i % 3 == 0).then(from_peer),
                    _ => (i % 2 == 0).then(|| read_ack(&lister, t)),
                }
            })
            .collect();
        messages += msgs.len();
        let stored = append_all(&store, msgs).await;
        if phase == 2 {
            third_phase = stored;
        }
    }
    // Unread ones with a message deleted one-way by the lister (one of the peer's).
    for i in (0..spec.convs).filter(|i| i % 10 == 5) {
        let removal = Removal::ids(vec![third_phase[i].id]).unwrap();
        assert!(
            store
                .remove_messages(&lister, &targets[i], removal, no_events())
                .await
                .unwrap()
                .value
        );
    }
    for i in (0..spec.convs).filter(|i| i % 10 == 0).take(MAX_PINNED) {
        store
            .pin(&lister, &targets[i], true, MAX_PINNED, no_events())
            .await
            .unwrap();
    }
    let marked: Vec<Target> = (0..spec.convs)
        .filter(|i| i % 7 == 0)
        .map(|i| targets[i].clone())
        .collect();
    for chunk in marked.chunks(20) {
        let missing = store
            .mark(
                &lister,
                chunk.to_vec(),
                Mark::from_index(1).unwrap(),
                true,
                no_events(),
            )
            .await
            .unwrap()
            .value;
        assert!(missing.is_empty());
    }

    // The history conversation and the filler, interleaved.
    let (to_talker, to_reader) = (Target::User(talker.clone()), Target::User(reader.clone()));
    let (p_rt, p_tr) = (
        payload(reader.as_str(), talker.as_str()),
        payload(talker.as_str(), reader.as_str()),
    );
    let filler_targets: Vec<(Target, Bytes)> = fillers
        .iter()
        .map(|(a, b)| (Target::User(b.clone()), payload(a.as_str(), b.as_str())))
        .collect();
    let (mut big_left, mut filler_left, mut k) = (spec.history, spec.filler, 0usize);
    let stream = std::iter::from_fn(|| {
        k += 1;
        let big = big_left > 0 && (filler_left == 0 || k % 2 == 0);
        if big {
            big_left -= 1;
            Some(if big_left % 2 == 0 {
                chat(&reader, &to_talker, &p_rt)
            } else {
                chat(&talker, &to_reader, &p_tr)
            })
        } else if filler_left > 0 {
            filler_left -= 1;
            let f = filler_left % FILLER_CONVS;
            let (t, p) = &filler_targets[f];
            Some(chat(&fillers[f].0, t, p))
        } else {
            None
        }
    });
    let want = mid_seq(spec.history);
    let mut mid = None;
    let mut progress = Instant::now();
    let (mut acked, total) = (0usize, spec.history + spec.filler);
    append_stream(&store, stream, |m| {
        acked += 1;
        if m.seq == want && (m.from == reader || m.from == talker) {
            mid = Some(m.id);
        }
        if progress.elapsed() > Duration::from_secs(10) {
            progress = Instant::now();
            println!("  … {acked} of {total} messages");
        }
    })
    .await;
    messages += acked;
    // Dropping the store flushes the writer.
    drop(store);
    Seeded {
        lister,
        reader,
        talker,
        mid: mid.expect("the mid-history message"),
        messages,
    }
}

/// Latencies of `iters` calls of `f` after `warmup` untimed ones; `check` sees each result
/// after the clock stopped.
async fn time<T>(
    warmup: usize,
    iters: usize,
    f: &mut impl AsyncFnMut() -> T,
    check: &impl Fn(T),
) -> Vec<Duration> {
    for _ in 0..warmup {
        check(f().await);
    }
    let mut out = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        let r = f().await;
        out.push(t.elapsed());
        check(r);
    }
    out
}

/// Rounds the baseline and the target alternate in, so that both see the same machine (other
/// load on it comes and goes).
const ROUNDS: usize = 10;

/// One operation's latencies on the small database (baseline) and on the big one.
struct Sample {
    base: Vec<Duration>,
    big: Vec<Duration>,
}

/// Times `base` and `big` `iters` times each, alternating in [`ROUNDS`] rounds, after a tenth
/// as many untimed calls each.
async fn alternate<A, B>(
    iters: usize,
    mut base: impl AsyncFnMut() -> A,
    check_base: impl Fn(A),
    mut big: impl AsyncFnMut() -> B,
    check_big: impl Fn(B),
) -> Sample {
    let (warm, per) = ((iters / 10).max(1), iters.div_ceil(ROUNDS));
    time(warm, 0, &mut base, &check_base).await;
    time(warm, 0, &mut big, &check_big).await;
    let mut s = Sample {
        base: Vec::with_capacity(per * ROUNDS),
        big: Vec::with_capacity(per * ROUNDS),
    };
    for _ in 0..ROUNDS {
        s.base.extend(time(0, per, &mut base, &check_base).await);
        s.big.extend(time(0, per, &mut big, &check_big).await);
    }
    s
}

/// The operations, by name.
const OPS: [&str; 4] = [
    "list, page 1 of 50",
    "list, page 2 (cursor)",
    "history newest 50 (cursor -1)",
    "history 50 from mid cursor",
];

fn list_query(after: Option<ListCursor>) -> ListQuery {
    ListQuery {
        filter: ListFilter::All {
            include_empty: false,
        },
        limit: PageSize::parse(i64::try_from(MAX_PAGE).unwrap()).unwrap(),
        after,
    }
}

fn history_query(talker: &UserId, from: Option<MessageId>) -> HistoryQuery {
    HistoryQuery {
        target: Target::User(talker.clone()),
        from,
        direction: Direction::NewestFirst,
        limit: PageSize::parse(i64::try_from(MAX_PAGE).unwrap()).unwrap(),
        content_types: vec![],
        start_ms: None,
        end_ms: None,
        sender: None,
    }
}

/// A seeded database.
struct Db {
    dir: tempfile::TempDir,
    seeded: Seeded,
    /// The lister's conversations.
    convs: usize,
}

impl Db {
    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("roam.db")
    }

    /// Items of the list's page 1 and page 2.
    fn page_len(&self, page: usize) -> usize {
        self.convs.saturating_sub(page * MAX_PAGE).min(MAX_PAGE)
    }
}

/// The store call of a list page of `s`'s lister.
fn list<'a>(
    store: &'a SqliteStore,
    s: &Seeded,
    after: Option<ListCursor>,
) -> impl AsyncFnMut() -> Result<ListPage, StoreError> + 'a {
    let (user, query) = (s.lister.clone(), list_query(after));
    async move || store.conversations(&user, &query).await
}

/// The store call of a history page of `s`'s reader.
fn history<'a>(
    store: &'a SqliteStore,
    s: &Seeded,
    from: Option<MessageId>,
) -> impl AsyncFnMut() -> Result<Option<HistoryPage>, StoreError> + 'a {
    let (user, query) = (s.reader.clone(), history_query(&s.talker, from));
    async move || store.history(&user, &query).await
}

/// Measures the operations through the store, baseline and target alternating. The list's
/// second page of the target is compared with the baseline's (only) first page.
async fn measure_store(base: &Db, big: &Db, iters: usize) -> Vec<Sample> {
    let bs = SqliteStore::open(&base.path(), Options::default()).unwrap();
    let gs = SqliteStore::open(&big.path(), Options::default()).unwrap();
    let (b, g) = (&base.seeded, &big.seeded);
    for (name, store, s) in [("baseline", &bs, b), ("target", &gs, g)] {
        let first = store.conversations(&s.lister, &list_query(None)).await;
        let items = first.unwrap().items;
        println!(
            "  {name} list page 1: {} conversations ({} unread, {} pinned, {} marked, {} groups)",
            items.len(),
            items.iter().filter(|c| c.unread > 0).count(),
            items.iter().filter(|c| c.pinned_ms.is_some()).count(),
            items.iter().filter(|c| c.marks.0 != 0).count(),
            items
                .iter()
                .filter(|c| matches!(c.target, Target::Group(_)))
                .count(),
        );
    }
    let cursor = gs
        .conversations(&g.lister, &list_query(None))
        .await
        .unwrap()
        .next
        .expect("a second page: more than 50 conversations");
    let list_len =
        |want: usize| move |p: Result<ListPage, _>| assert_eq!(p.unwrap().items.len(), want);
    let mut out = Vec::new();
    for after in [None, Some(cursor)] {
        let page = if after.is_some() { 1 } else { 0 };
        out.push(
            alternate(
                iters,
                list(&bs, b, None),
                list_len(base.page_len(0)),
                list(&gs, g, after),
                list_len(big.page_len(page)),
            )
            .await,
        );
    }
    let full = |p: Result<Option<HistoryPage>, _>| {
        assert_eq!(p.unwrap().unwrap().messages.len(), MAX_PAGE)
    };
    for mid in [false, true] {
        out.push(
            alternate(
                iters,
                history(&bs, b, mid.then_some(b.mid)),
                full,
                history(&gs, g, mid.then_some(g.mid)),
                full,
            )
            .await,
        );
    }
    out
}

/// One roamd serving a seeded data dir, with its prepared requests (per [`OPS`]).
struct Served {
    server: harness::Running,
    requests: Vec<Vec<u8>>,
}

async fn serve(db: Db) -> Served {
    let s = db.seeded;
    let server = start_in(db.dir, |_| {}).await;
    let addr = server.addr;
    let lister_token = user_token(addr, s.lister.as_str()).await;
    let reader_token = user_token(addr, s.reader.as_str()).await;
    let list = |cursor: &str| {
        let path = format!(
            "/bench/app/sdk/user/{}/user_channels/list?limit=50&cursor={cursor}",
            s.lister
        );
        request_bytes(addr, "GET", &path, Some(&lister_token), None)
    };
    let first = json_of(KeepAlive::open(addr).await.send(&list("")).await);
    let cursor = first["data"]["cursor"].as_str().unwrap().to_owned();
    let mut requests = vec![list(""), list(&cursor)];
    let path = format!("/bench/app/users/{}/messageroaming", s.reader);
    for start in [json!(-1), json!(s.mid.0.to_string())] {
        let body = json!({
            "queue": format!("{}@easemob.com", s.talker),
            "start": start,
            "pull_number": MAX_PAGE,
            "is_positive": false,
        });
        requests.push(request_bytes(
            addr,
            "POST",
            &path,
            Some(&reader_token),
            Some(&body),
        ));
    }
    Served { server, requests }
}

fn json_of((status, body): (u16, Vec<u8>)) -> Value {
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200, "{v}");
    v
}

/// Checks a REST answer carries `want` items at `pointer`.
fn items_at(pointer: &'static str, want: usize) -> impl Fn((u16, Vec<u8>)) {
    move |r| {
        let v = json_of(r);
        let n = v.pointer(pointer).and_then(Value::as_array).map(Vec::len);
        assert_eq!(n, Some(want), "{v}");
    }
}

/// Measures the operations over REST, a roamd per database, baseline and target alternating.
/// The client runs on a thread and runtime of its own, as an outside client would: the
/// servers' runtime only serves.
async fn measure_rest(base: Db, big: Db, iters: usize) -> Vec<Sample> {
    let want_base = base.page_len(0);
    let want_big = [big.page_len(0), big.page_len(1)];
    let (b, g) = (serve(base).await, serve(big).await);
    let (b_addr, g_addr) = (b.server.addr, g.server.addr);
    let (b_reqs, g_reqs) = (b.requests.clone(), g.requests.clone());
    let (done, samples) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let out = rt.block_on(async move {
            let (mut b_conn, mut g_conn) =
                (KeepAlive::open(b_addr).await, KeepAlive::open(g_addr).await);
            let mut out = Vec::new();
            for (op, g_req) in g_reqs.iter().enumerate() {
                // The baseline of both list pages is the small user's only page.
                let b_req = &b_reqs[if op < 2 { 0 } else { op }];
                let (check_base, check_big) = if op < 2 {
                    let p = "/data/channel_infos";
                    (items_at(p, want_base), items_at(p, want_big[op]))
                } else {
                    let p = "/data/msgs";
                    (items_at(p, MAX_PAGE), items_at(p, MAX_PAGE))
                };
                let (b_conn, g_conn) = (&mut b_conn, &mut g_conn);
                out.push(
                    alternate(
                        iters,
                        async || b_conn.send(b_req).await,
                        check_base,
                        async || g_conn.send(g_req).await,
                        check_big,
                    )
                    .await,
                );
            }
            out
        });
        let _ = done.send(out);
    });
    let out = samples.await.expect("the REST client thread");
    for s in [b, g] {
        let _ = s.server.stop.send(());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    out
}

/// CPU time, in clock ticks: (used on the whole machine, used by this process, stolen).
fn cpu_ticks() -> (u64, u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let at = |i: usize| cpu.get(i).copied().unwrap_or(0);
    let machine = at(0) + at(1) + at(2) + at(5) + at(6);
    let me = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = me
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    // From the state on (field 3 of proc(5)): utime is field 14, stime field 15.
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let own = field(14).unwrap_or(0) + field(15).unwrap_or(0);
    (machine, own, at(7))
}

/// Runs `f` and says how busy other processes kept the machine meanwhile (cores on average;
/// 100 clock ticks a second).
async fn watching<T>(what: &str, f: impl Future<Output = T>) -> T {
    let (t, (m0, o0, s0)) = (Instant::now(), cpu_ticks());
    let out = f.await;
    let (m1, o1, s1) = cpu_ticks();
    let secs = t.elapsed().as_secs_f64() * 100.0;
    println!(
        "  {what}: {:.1}s; meanwhile other processes kept {:.2} cores busy on average (this one {:.2}, stolen {:.2})",
        t.elapsed().as_secs_f64(),
        (m1 - m0).saturating_sub(o1 - o0) as f64 / secs,
        (o1 - o0) as f64 / secs,
        (s1 - s0) as f64 / secs,
    );
    out
}

fn db_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// p50 / p90 / p99 / p99.9 / max, ms.
fn spread(v: &[Duration]) -> String {
    let at = |p: f64| ms(percentile(v.to_vec(), p));
    format!(
        "p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
        at(50.0),
        at(90.0),
        at(99.0),
        at(99.9),
        at(100.0)
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

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
