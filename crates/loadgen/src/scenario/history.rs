//! `history`: paging through stored conversations, 50 messages a page, up and down from random
//! cursors, on a seeded data directory (10M messages; smoke 10k). Measured twice: at the store
//! (roam-storage-sqlite opened in this process on the seed, the `history` call itself) and over
//! REST through the SDK (`get_history_messages`) against a roamd on a copy of the seed, with
//! the server's CPU per page. Every REST page is checked against the store's page for the same
//! query (same ids, same order), and one conversation is read end to end (count and order).
use std::time::Instant;

use rand::{Rng, seq::IndexedRandom};
use roam_domain::{
    conversation::Target,
    id::MessageId,
    roaming::{self, PageSize},
    store::RoamingStore,
    user::UserId,
};
use roam_sdk::{ChatType, Client, Direction, HistoryQuery};
use roam_storage_sqlite::{Options, SqliteStore};

use crate::{
    Ctx,
    measure::Latency,
    report::Report,
    seed::{self, Manifest, history_pair},
    server::{CpuMeter, Roamd},
};

/// Messages per page.
pub const PAGE: u32 = 50;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Stored messages in the seeded directory.
    #[arg(long, default_value_t = 10_000_000)]
    pub messages: u64,
    /// Conversations the messages are spread over.
    #[arg(long, default_value_t = 1000)]
    pub conversations: usize,
    /// Walks (a random cursor, then pages following it one way).
    #[arg(long, default_value_t = 400)]
    walks: usize,
    /// Pages per walk.
    #[arg(long, default_value_t = 5)]
    pages: usize,
}

/// One page asked for: whose, from where, which way.
struct Ask {
    conv: usize,
    cursor: Option<u64>,
    up: bool,
}

fn store_query(peer: &str, ask: &Ask) -> anyhow::Result<roaming::HistoryQuery> {
    Ok(roaming::HistoryQuery {
        target: Target::User(UserId::parse(peer).map_err(|e| anyhow::anyhow!("{e:?}"))?),
        from: ask.cursor.map(MessageId),
        direction: if ask.up {
            roaming::Direction::NewestFirst
        } else {
            roaming::Direction::OldestFirst
        },
        limit: PageSize::parse(i64::from(PAGE)).map_err(|e| anyhow::anyhow!("{e:?}"))?,
        content_types: vec![],
        start_ms: None,
        end_ms: None,
        sender: None,
    })
}

fn rest_query(peer: &str, ask: &Ask) -> HistoryQuery {
    let q = HistoryQuery::new(ChatType::Single, peer)
        .page_size(PAGE)
        .direction(if ask.up {
            Direction::Up
        } else {
            Direction::Down
        });
    match ask.cursor {
        Some(c) => q.after(c),
        None => q,
    }
}

/// The walks: random sampled cursors (an eighth start at an end), random directions.
fn plan(m: &Manifest, walks: usize) -> Vec<Ask> {
    let mut rng = rand::rng();
    (0..walks)
        .filter_map(|_| {
            let &(conv, id) = m.samples.choose(&mut rng)?;
            let cursor = (rng.random_range(0..8) != 0).then_some(id);
            Some(Ask {
                conv,
                cursor,
                up: rng.random_bool(0.5),
            })
        })
        .collect()
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let (messages, convs, walks) = if ctx.smoke {
        (10_000, 20, 40)
    } else {
        (a.messages, a.conversations, a.walks)
    };
    let (dir, m) = seed::seeded(messages, convs, None).await?;
    let mut r = Report::new("history");
    r.param("messages", m.messages)
        .param("conversations", m.conversations)
        .param("page", PAGE)
        .param("walks", walks)
        .param("pages_per_walk", a.pages)
        .metric("seed_seconds", m.seed_seconds)
        .metric("db_bytes", seed::dir_bytes(&dir) as f64);
    let asks = plan(&m, walks);

    // At the store: the seed opened here, the store's own call.
    let store = SqliteStore::open(&dir.join("roam.db"), Options::default())?;
    let (mut store_lat, mut store_pages) = (Latency::default(), Vec::new());
    for ask in &asks {
        let (a_user, b_user) = history_pair(ask.conv);
        let me = UserId::parse(&a_user).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let mut cursor = ask.cursor;
        let mut walk = Vec::new();
        for _ in 0..a.pages {
            let step = Ask { cursor, ..*ask };
            let q = store_query(&b_user, &step)?;
            let t = Instant::now();
            let page = store.history(&me, &q).await?;
            store_lat.record(t.elapsed());
            let ids: Vec<u64> = page
                .map(|p| p.messages.iter().map(|m| m.id.0).collect())
                .unwrap_or_default();
            cursor = ids.last().copied();
            let end = ids.len() < usize::try_from(PAGE)?;
            walk.push(ids);
            if end {
                break;
            }
        }
        store_pages.push(walk);
    }
    drop(store);

    // Over REST, against a roamd on a copy of the seed.
    // A roamd attached by URL has not got the seed: this scenario starts its own.
    anyhow::ensure!(
        ctx.attach.is_none(),
        "this scenario starts roamd on a copy of its seed; drop --url/--pid"
    );
    let server = Roamd::start_in(ctx.launch.clone(), seed::copy_for_server(&dir)?).await?;
    let admin = server.admin().await?;
    let mut clients: std::collections::HashMap<usize, Client> = Default::default();
    let (mut rest_lat, mut mismatched, mut rest_n) = (Latency::default(), 0u64, 0u64);
    let mut cpu_s = 0.0;
    for (ask, expected) in asks.iter().zip(&store_pages) {
        let (a_user, b_user) = history_pair(ask.conv);
        let client = match clients.entry(ask.conv) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(admin.as_user(&a_user).await?),
        };
        let mut cursor = ask.cursor;
        let meter = CpuMeter::start(&server)?;
        let mut got = Vec::new();
        for _ in 0..expected.len() {
            let step = Ask { cursor, ..*ask };
            let t = Instant::now();
            let page = client
                .get_history_messages(&rest_query(&b_user, &step))
                .await?;
            rest_lat.record(t.elapsed());
            rest_n += 1;
            let ids: Vec<u64> = page.messages.iter().map(|m| m.id).collect();
            cursor = ids.last().copied();
            got.push(ids);
        }
        cpu_s += meter.read(&server)?.0;
        mismatched += u64::from(&got != expected);
    }

    // One conversation end to end, oldest first: every message once, in order.
    let conv = 0;
    let (a_user, b_user) = history_pair(conv);
    let client = admin.as_user(&a_user).await?;
    let (mut seen, mut cursor, mut out_of_order) = (0u64, None::<u64>, 0u64);
    loop {
        let ask = Ask {
            conv,
            cursor,
            up: false,
        };
        let page = client
            .get_history_messages(&rest_query(&b_user, &ask))
            .await?;
        for msg in &page.messages {
            out_of_order += u64::from(cursor.is_some_and(|c| msg.id <= c));
            cursor = Some(msg.id);
            seen += 1;
        }
        if page.messages.is_empty() || page.is_last {
            break;
        }
    }
    let want = m.per_conversation.get(conv).copied().unwrap_or(0);

    r.metric(
        "server_cpu_ms_per_page",
        1000.0 * cpu_s / rest_n.max(1) as f64,
    )
    .metric("full_read_messages", seen as f64);
    r.latency.insert("store_page".into(), store_lat.summary());
    r.latency.insert("rest_page".into(), rest_lat.summary());
    r.metric("store_p99_ms", store_lat.summary().p99_ms)
        .metric("rest_p99_ms", rest_lat.summary().p99_ms)
        .against("store_p99_ms", "store_p99_goal_ms", 1.0)
        .against("rest_p99_ms", "rest_p99_goal_ms", 3.0);
    r.fault("rest_pages_unlike_store", mismatched)
        .fault("full_read_lost_or_extra", seen.abs_diff(want))
        .fault("full_read_out_of_order", out_of_order);
    r.notes.push(
        "store: SqliteStore::history in this process on the seed; rest: SDK get_history_messages \
         against a roamd on a copy; CPU from /proc over the REST pages only"
            .into(),
    );
    Ok(r)
}
