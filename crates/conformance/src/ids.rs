//! Server ids and sequence numbers, what every engine must guarantee whatever its concurrency:
//! ids unique and time-ordered (a later append gets a larger id), assigned in sequence order
//! within a conversation; sequences 1, 2, 3… without gaps; both continuing across a restart.
//!
//! What the id generator does when the clock steps back is a unit test of the domain
//! (`roam_domain::id`); the store API has no clock to step, so it is not tested here.
use std::{
    collections::{BTreeMap, HashSet},
    sync::Arc,
};

use crate::{
    engine::{Engine, Fresh},
    fixtures::*,
    history::{all_pages, newest_first},
    prelude::*,
};

/// Conversations written to at once, and tasks writing.
const CONVERSATIONS: usize = 8;
const WRITERS: usize = 16;
const PER_WRITER: usize = 25;

/// Checks `stored` (in any order) conversation by conversation: sequences are exactly
/// 1..=n and ids strictly increase with them; and ids are unique across all conversations.
fn assert_ordered(stored: &[StoredMessage]) {
    let mut by_conversation: BTreeMap<String, Vec<&StoredMessage>> = BTreeMap::new();
    for m in stored {
        let key = match &m.to {
            Target::User(to) => {
                let (a, b) = (
                    m.from.as_str().min(to.as_str()),
                    m.from.as_str().max(to.as_str()),
                );
                format!("{a}/{b}")
            }
            other => other.to_string(),
        };
        by_conversation.entry(key).or_default().push(m);
    }
    for (conversation, mut ms) in by_conversation {
        ms.sort_by_key(|m| m.seq);
        let seqs: Vec<u64> = ms.iter().map(|m| m.seq).collect();
        let want: Vec<u64> = (1..=ms.len() as u64).collect();
        assert_eq!(seqs, want, "sequences of {conversation} are 1..=n");
        assert!(
            ms.windows(2).all(|w| w[0].id < w[1].id),
            "ids of {conversation} follow the sequence"
        );
    }
    let unique: HashSet<MessageId> = stored.iter().map(|m| m.id).collect();
    assert_eq!(unique.len(), stored.len(), "ids are unique");
}

pub(crate) async fn concurrent_appends_to_one_conversation_share_commits_and_keep_order(
    s: Arc<dyn Store>,
) {
    let mut tasks = Vec::new();
    for i in 0..200 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.append(chat("alice", "a", "bob", &format!("{i}")))
                .await
                .unwrap()
        }));
    }
    let mut stored = Vec::new();
    for t in tasks {
        stored.push(t.await.unwrap());
    }
    stored.sort_by_key(|m| m.seq);
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=200).collect::<Vec<_>>()
    );
    assert!(
        stored.windows(2).all(|w| w[0].id < w[1].id),
        "ids follow the sequence"
    );
}

/// Many writers at once, each going round many conversations: ids are unique across them,
/// each conversation is numbered without gaps in id order, and each writer's appends get
/// increasing ids (time order: an append that starts after another returned is newer).
pub(crate) async fn unique_and_ordered_across_concurrent_conversations(s: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for k in 0..PER_WRITER {
                let c = (w + k) % CONVERSATIONS;
                let from = format!("a{c}");
                let to = format!("b{c}");
                mine.push(s.append(chat(&from, "r", &to, "x")).await.unwrap());
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        let mine = t.await.unwrap();
        assert!(
            mine.windows(2).all(|w| w[0].id < w[1].id),
            "a writer's later append has a larger id"
        );
        all.extend(mine);
    }
    assert_eq!(all.len(), WRITERS * PER_WRITER);
    assert_ordered(&all);
}

/// One single chat written from both sides and one group written by all its members, at
/// once: each is numbered 1..=n in id order, and a device reads it back in that order.
pub(crate) async fn sequences_gap_free_in_id_order_under_concurrent_writers(s: Arc<dyn Store>) {
    let mut members: Vec<String> = (0..WRITERS).map(|i| format!("m{i}")).collect();
    members.push("quiet".into());
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    s.create_group(new_group("g", "m0", &refs, 100))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for k in 0..PER_WRITER {
                let (from, to) = if w % 2 == 0 {
                    ("alice", "bob")
                } else {
                    ("bob", "alice")
                };
                let device = format!("d{w}");
                mine.push(
                    s.append(chat(from, &device, to, &k.to_string()))
                        .await
                        .unwrap(),
                );
                let to_group = to_target(&format!("m{w}"), "d", Target::Group(gid("g")), "x");
                mine.push(s.append(to_group).await.unwrap());
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    assert_ordered(&all);
    // Read back whole, oldest first: in sequence order, which is id order.
    for (user, target) in [("alice", t("bob")), ("m0", Target::Group(gid("g")))] {
        let mut want: Vec<&StoredMessage> = all
            .iter()
            .filter(|m| m.to == target || m.to == t(user))
            .collect();
        want.sort_by_key(|m| m.seq);
        let oldest_first = HistoryQuery {
            direction: Direction::OldestFirst,
            ..newest_first(target.clone(), 50)
        };
        assert_eq!(
            all_pages(&*s, user, oldest_first).await,
            want.iter().map(|m| m.id).collect::<Vec<_>>(),
            "history with {target}"
        );
    }
    // A member with no device yet is owed all of the group, in sequence.
    let quiet = s.device(&uid("quiet"), &res("q")).await.unwrap();
    let owed = s
        .owed(&quiet, &Target::Group(gid("g")), 10_000)
        .await
        .unwrap();
    let n = (WRITERS * PER_WRITER) as u64;
    assert_eq!(
        owed.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=n).collect::<Vec<_>>()
    );
}

/// A message's server time is its id's time, and the time of the append.
pub(crate) async fn carry_the_time_of_the_append(s: Arc<dyn Store>) {
    for i in 0..20 {
        let before = roam_domain::now_ms();
        let m = s
            .append(chat("alice", "a", "bob", &i.to_string()))
            .await
            .unwrap();
        let after = roam_domain::now_ms();
        assert_eq!(
            m.id.timestamp_ms(),
            m.timestamp_ms,
            "the id carries the time"
        );
        assert!(
            (before..=after).contains(&m.timestamp_ms),
            "{before} <= {} <= {after}",
            m.timestamp_ms
        );
    }
}

pub(crate) async fn data_survives_a_restart_and_ids_continue_above_it<E: Engine>(fresh: Fresh<E>) {
    let ids: Vec<MessageId> = {
        let s = fresh.open().await;
        let mut ids = Vec::new();
        for i in 0..10 {
            let m = s
                .append(chat("alice", "a", "bob", &format!("{i}")))
                .await
                .unwrap();
            ids.push(m.id);
        }
        ids
    };
    let s = fresh.open().await;
    let b = s.device(&uid("bob"), &res("b")).await.unwrap();
    let owed: Vec<MessageId> = s
        .owed(&b, &t("alice"), 100)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(owed, ids);
    // New ids continue above the stored ones.
    let next = send(&*s, "alice", "a", "bob", "after").await;
    assert_eq!(next, 11);
    let last = s.owed(&b, &t("alice"), 100).await.unwrap().pop().unwrap();
    assert!(last.id > *ids.last().unwrap());
}

/// Bursts of concurrent appends (many ids within one millisecond), each followed at once by
/// a restart: every id after a restart is above every id before it, and each conversation's
/// sequence continues where it stopped.
pub(crate) async fn keep_increasing_across_many_restarts<E: Engine>(fresh: Fresh<E>) {
    let mut before: Vec<StoredMessage> = Vec::new();
    for round in 0..4 {
        let s = fresh.open().await;
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let c = w % 4;
                s.append(chat(&format!("a{c}"), "r", &format!("b{c}"), "x"))
                    .await
                    .unwrap()
            }));
        }
        let mut now = Vec::new();
        for t in tasks {
            now.push(t.await.unwrap());
        }
        let newest_before = before.iter().map(|m| m.id).max();
        let oldest_now = now.iter().map(|m| m.id).min();
        assert!(
            newest_before < oldest_now,
            "round {round}: {newest_before:?} < {oldest_now:?}"
        );
        before.extend(now);
        assert_ordered(&before);
    }
}
