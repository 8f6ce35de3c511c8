//! `list`: a user with 500 conversations (2 or 3 unread each, 50 pinned) pages through its
//! server conversation list, 50 a page, cursor after cursor to the end: p50/p99 per page over
//! REST (SDK `get_server_conversations`) with the server's CPU per page, and at the store
//! (`conversations` on the seed opened in this process). Each full pass is checked: every
//! conversation once, the unread counts the seed made, the pinned ones.
use std::{collections::BTreeMap, time::Instant};

use roam_domain::{
    roaming::{ListCursor, ListFilter, ListQuery, PageSize},
    store::RoamingStore,
    user::UserId,
};
use roam_sdk::ConversationQuery;
use roam_storage_sqlite::{Options, SqliteStore};

use crate::{
    Ctx,
    measure::Latency,
    report::Report,
    seed::{self, LIST_CONVS, LIST_PINNED},
    server::{CpuMeter, Roamd},
};

const PAGE: u32 = 50;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The seed to use (its size does not matter to the list, only that it is there).
    #[arg(long, default_value_t = 10_000_000)]
    messages: u64,
    #[arg(long, default_value_t = 1000)]
    conversations: usize,
    /// Full passes through the list.
    #[arg(long, default_value_t = 100)]
    passes: usize,
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let (messages, convs, passes) = if ctx.smoke {
        (10_000, 20, 5)
    } else {
        (a.messages, a.conversations, a.passes)
    };
    let (dir, m) = seed::seeded(messages, convs, None).await?;
    let mut r = Report::new("list");
    r.param("conversations_of_user", LIST_CONVS)
        .param("page", PAGE)
        .param("passes", passes)
        .param("stored_messages", m.messages);

    // At the store.
    let store = SqliteStore::open(&dir.join("roam.db"), Options::default())?;
    let me = UserId::parse(&m.lister).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut store_lat = Latency::default();
    let mut store_bad = 0u64;
    for _ in 0..passes {
        let (mut after, mut n) = (None::<ListCursor>, 0usize);
        loop {
            let q = ListQuery {
                filter: ListFilter::All {
                    include_empty: false,
                },
                limit: PageSize::parse(i64::from(PAGE)).map_err(|e| anyhow::anyhow!("{e:?}"))?,
                after,
            };
            let t = Instant::now();
            let page = store.conversations(&me, &q).await?;
            store_lat.record(t.elapsed());
            n += page.items.len();
            after = page.next;
            if after.is_none() {
                break;
            }
        }
        store_bad += u64::from(n != LIST_CONVS);
    }
    drop(store);

    // Over REST.
    // A roamd attached by URL has not got the seed: this scenario starts its own.
    anyhow::ensure!(
        ctx.attach.is_none(),
        "this scenario starts roamd on a copy of its seed; drop --url/--pid"
    );
    let server = Roamd::start_in(ctx.launch.clone(), seed::copy_for_server(&dir)?).await?;
    let client = server.admin().await?.as_user(&m.lister).await?;
    let want: BTreeMap<&str, u64> = m
        .list_unread
        .iter()
        .map(|(p, u)| (p.as_str(), *u))
        .collect();
    let (mut lat, mut pages, mut wrong_unread, mut wrong_count, mut wrong_pins) =
        (Latency::default(), 0u64, 0u64, 0u64, 0u64);
    let meter = CpuMeter::start(&server)?;
    for _ in 0..passes {
        let mut query = ConversationQuery {
            page_size: PAGE,
            cursor: None,
            include_empty: false,
        };
        let mut seen = BTreeMap::new();
        let mut pinned = 0usize;
        loop {
            let t = Instant::now();
            let page = client.get_server_conversations(&query).await?;
            lat.record(t.elapsed());
            pages += 1;
            for c in &page.conversations {
                seen.insert(c.id.clone(), c.unread);
                pinned += usize::from(c.pinned);
            }
            match page.cursor {
                Some(c) if !page.conversations.is_empty() => query.cursor = Some(c),
                _ => break,
            }
        }
        wrong_count += u64::from(seen.len() != LIST_CONVS);
        wrong_pins += u64::from(pinned != LIST_PINNED);
        wrong_unread += u64::try_from(
            want.iter()
                .filter(|(p, u)| seen.get(**p) != Some(*u))
                .count(),
        )?;
    }
    let (cpu, _) = meter.read(&server)?;
    r.metric("server_cpu_ms_per_page", 1000.0 * cpu / pages.max(1) as f64)
        .metric("rest_p99_ms", lat.summary().p99_ms)
        .metric("store_p99_ms", store_lat.summary().p99_ms)
        .against("rest_p99_ms", "rest_p99_goal_ms", 2.0);
    r.latency.insert("rest_page".into(), lat.summary());
    r.latency.insert("store_page".into(), store_lat.summary());
    r.fault("passes_not_every_conversation", wrong_count + store_bad)
        .fault("wrong_unread_counts", wrong_unread)
        .fault("passes_wrong_pinned", wrong_pins);
    Ok(r)
}
