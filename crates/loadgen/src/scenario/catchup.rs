//! `catchup`: a user is offline (its device registered, then disconnected) while 1,000
//! messages land for it over 50 conversations from 50 other users; then it connects with the
//! SDK. Measured: connect → all 1,000 delivered as events (token login, no password hashing
//! in the timing), and the REST way (list pages + every conversation's history pages). Both
//! are checked against the acked ids: lost and duplicated.
use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use futures::future::try_join_all;
use roam_sdk::{ChatType, Client, ConversationQuery, Event, HistoryQuery, Options, Outgoing};

use crate::{Ctx, report::Report, server::APP_KEY, server::CpuMeter};

const PASSWORD: &str = "catchup-pw";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Messages landing while the user is offline.
    #[arg(long, default_value_t = 1000)]
    messages: usize,
    /// Conversations (one sender each) they land in.
    #[arg(long, default_value_t = 50)]
    conversations: usize,
}

pub async fn run(a: &Args, ctx: &Ctx) -> anyhow::Result<Report> {
    let (messages, convs) = if ctx.smoke {
        (200, 10)
    } else {
        (a.messages, a.conversations)
    };
    let server = ctx.server(&[]).await?;
    let admin = server.admin().await?;
    let me = "catcher";
    admin.create_user(me, PASSWORD, None).await?;
    let senders: Vec<String> = (0..convs).map(|i| format!("sender{i}")).collect();
    for s in &senders {
        admin.create_user(s, PASSWORD, None).await?;
    }
    // Register the device, then go offline.
    let opts = |user: &str| Options::password(&server.url, APP_KEY, user, PASSWORD);
    let (first, _) = Client::open(opts(me).with_resource("phone")).await?;
    let token = first.token().to_owned();
    first.close().await;
    drop(first);

    // The senders, each its share, all at once.
    let per = messages.div_ceil(convs.max(1));
    let sent: Vec<Vec<u64>> = try_join_all(senders.iter().enumerate().map(|(i, s)| {
        let opts = opts(s);
        let n = per.min(messages.saturating_sub(i * per));
        async move {
            let (c, _ev) = Client::open(opts).await?;
            let mut ids = Vec::with_capacity(n);
            for k in 0..n {
                ids.push(
                    c.send(&Outgoing::text(ChatType::Single, me, format!("m{k}")))
                        .await?
                        .id,
                );
            }
            c.close().await;
            anyhow::Ok(ids)
        }
    }))
    .await?;
    let acked: BTreeSet<u64> = sent.iter().flatten().copied().collect();
    let want = acked.len();

    // The SDK way: connect, count events until every acked message is in.
    let meter = CpuMeter::start(&server)?;
    let t0 = Instant::now();
    let (client, mut events) =
        Client::open(Options::token(&server.url, APP_KEY, me, &token).with_resource("phone"))
            .await?;
    let connected = t0.elapsed();
    let mut got: BTreeMap<u64, u64> = BTreeMap::new();
    let limit = Duration::from_secs(30);
    while got.len() < want {
        match tokio::time::timeout(limit.saturating_sub(t0.elapsed()), events.recv()).await {
            Ok(Some(Event::Message(m))) => *got.entry(m.id).or_default() += 1,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let sdk_all = t0.elapsed();
    // Anything extra (a duplicate) shows within a short grace.
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
        if let Event::Message(m) = e {
            *got.entry(m.id).or_default() += 1;
        }
    }
    let (sdk_cpu, _) = meter.read(&server)?;
    let sdk_lost = acked.iter().filter(|id| !got.contains_key(id)).count();
    let sdk_dup: u64 = got.values().map(|n| n.saturating_sub(1)).sum();
    client.close().await;

    // The REST way: the list, then each conversation's history.
    let rest = Client::open_rest(Options::token(&server.url, APP_KEY, me, &token)).await?;
    let meter = CpuMeter::start(&server)?;
    let t1 = Instant::now();
    let mut query = ConversationQuery {
        page_size: 50,
        cursor: None,
        include_empty: false,
    };
    let mut peers = Vec::new();
    loop {
        let page = rest.get_server_conversations(&query).await?;
        peers.extend(page.conversations.iter().map(|c| c.id.clone()));
        match page.cursor {
            Some(c) if !page.conversations.is_empty() => query.cursor = Some(c),
            _ => break,
        }
    }
    let mut rest_got: BTreeMap<u64, u64> = BTreeMap::new();
    for p in &peers {
        let mut q = HistoryQuery::new(ChatType::Single, p).page_size(50);
        loop {
            let page = rest.get_history_messages(&q).await?;
            for m in &page.messages {
                *rest_got.entry(m.id).or_default() += 1;
            }
            match (page.is_last, page.cursor) {
                (false, Some(c)) => q = q.after(c),
                _ => break,
            }
        }
    }
    let rest_all = t1.elapsed();
    let (rest_cpu, _) = meter.read(&server)?;
    let rest_lost = acked.iter().filter(|id| !rest_got.contains_key(id)).count();
    let rest_dup: u64 = rest_got.values().map(|n| n.saturating_sub(1)).sum();

    let mut r = Report::new("catchup");
    r.param("messages", want).param("conversations", convs);
    r.metric("sdk_connect_ms", connected.as_secs_f64() * 1000.0)
        .metric("sdk_all_delivered_ms", sdk_all.as_secs_f64() * 1000.0)
        .metric("sdk_server_cpu_ms", sdk_cpu * 1000.0)
        .metric("rest_all_read_ms", rest_all.as_secs_f64() * 1000.0)
        .metric("rest_server_cpu_ms", rest_cpu * 1000.0)
        .metric("rest_conversations", peers.len() as f64)
        .against("sdk_all_delivered_ms", "goal_ms", 100.0)
        .against("rest_all_read_ms", "goal_ms", 100.0);
    r.fault("sdk_lost", u64::try_from(sdk_lost)?)
        .fault("sdk_duplicated", sdk_dup)
        .fault("rest_lost", u64::try_from(rest_lost)?)
        .fault("rest_duplicated", rest_dup);
    Ok(r)
}
