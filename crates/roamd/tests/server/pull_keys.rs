//! Pull keys (`nextKey`) on one connection: unique across queues, increasing within a queue,
//! and acknowledged by position. SDKs 4.7–4.13 remember one key for all queues and drop a page
//! whose key repeats the previous page's (no ack, no next pull): with keys that collide across
//! queues, such a device stalls until it reconnects (docs/protocol.md, "Notice, pull, ack").
use std::collections::{HashMap, HashSet};

use prost::Message as _;
use roam_protocol::{
    jid,
    msync::ClientFrame,
    pb::{CommSyncDl, CommSyncUl, Jid, MessageBody, Meta, m_sync::Command},
};

use crate::{client::Device, spawn_app};

/// What a client that pulls like SDK 4.13 saw on one connection.
#[derive(Debug, Default)]
struct OneKeySync {
    /// Texts received, per queue name.
    texts: HashMap<String, Vec<String>>,
    /// Every `nextKey` answered, in order of arrival.
    keys: Vec<u64>,
    /// Pages dropped because their key repeated the previous page's.
    dropped: usize,
}

/// UNREAD, then a pull of every listed queue at once, handled as SDK 4.7–4.13 do: one
/// remembered `nextKey` for all queues; a page with metas whose key equals it is dropped (not
/// acknowledged, not pulled further). Stops when every queue answered its last page, or when
/// the server has nothing more to say (a stalled queue).
async fn sync_with_one_key(d: &mut Device) -> OneKeySync {
    let queues: Vec<Jid> = d
        .unread_queues()
        .await
        .unwrap()
        .into_iter()
        .map(|(q, _)| q)
        .collect();
    for q in &queues {
        pull(d, q.clone(), None).await;
    }
    let mut open: HashSet<String> = queues.iter().map(name).collect();
    let mut seen = OneKeySync::default();
    let mut remembered = None;
    while !open.is_empty() {
        let Ok((cmd, payload)) = d.next_frame().await else {
            break; // Silence: whatever is still open has stalled.
        };
        if cmd != Command::Sync {
            continue;
        }
        let dl = CommSyncDl::decode(payload).unwrap();
        let Some(queue) = dl.queue else { continue };
        if dl.is_last == Some(true) {
            open.remove(&name(&queue));
            continue;
        }
        let key = dl.next_key.expect("a page with metas has a key");
        seen.keys.push(key);
        if remembered == Some(key) {
            seen.dropped += 1;
            continue;
        }
        remembered = Some(key);
        seen.texts
            .entry(name(&queue))
            .or_default()
            .extend(dl.metas.iter().map(text));
        pull(d, queue, Some(key)).await;
    }
    seen
}

async fn pull(d: &mut Device, queue: Jid, key: Option<u64>) {
    let ul = CommSyncUl {
        queue: Some(queue),
        key,
        ..Default::default()
    };
    d.send_frame(ClientFrame::Sync(ul).encode()).await.unwrap();
}

fn name(q: &Jid) -> String {
    q.name.clone().unwrap_or_default()
}

fn text(m: &Meta) -> String {
    let body = MessageBody::decode(m.payload.clone().unwrap_or_default()).unwrap();
    body.contents[0].text.clone().unwrap_or_default()
}

#[tokio::test]
async fn a_device_that_remembers_one_key_for_all_queues_receives_every_queue() {
    let app = spawn_app().await;
    app.users(&["alice", "carol", "bob"]).await;
    // Two new conversations while bob is offline: each holds one message for him.
    app.device("alice", "a")
        .await
        .send_text("bob", "from alice")
        .await
        .unwrap();
    app.device("carol", "c")
        .await
        .send_text("bob", "from carol")
        .await
        .unwrap();

    let mut bob = app.device("bob", "b").await;
    let seen = sync_with_one_key(&mut bob).await;
    assert_eq!(
        (
            seen.texts.get("alice"),
            seen.texts.get("carol"),
            seen.dropped
        ),
        (
            Some(&vec!["from alice".to_owned()]),
            Some(&vec!["from carol".to_owned()]),
            0
        ),
        "every queue arrives, no page is dropped (keys answered: {:?})",
        seen.keys
    );
    let distinct: HashSet<u64> = seen.keys.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        seen.keys.len(),
        "every key answered on one connection is distinct: {:?}",
        seen.keys
    );
    // Both pages were acknowledged: nothing is owed any more, on this or a new connection.
    assert!(bob.unread().await.unwrap().is_empty());
    drop(bob);
    let mut again = app.device("bob", "b").await;
    assert!(again.sync_all().await.unwrap().is_empty());
}

#[tokio::test]
async fn keys_are_the_last_server_id_and_increase_within_a_queue() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let mut alice = app.device("alice", "a").await;
    let mut ids = Vec::new();
    for i in 0..55 {
        ids.push(alice.send_text("bob", &format!("m{i}")).await.unwrap());
    }

    // Pages of 50: each key is the server id of the page's last message, and acks that page.
    let mut bob = app.device("bob", "b").await;
    let queue = jid::user(&bob.app_key, "alice", None);
    let mut keys = Vec::new();
    let mut got = 0;
    let mut key = None;
    loop {
        pull(&mut bob, queue.clone(), key).await;
        let dl = next_page(&mut bob).await;
        if dl.is_last == Some(true) {
            break;
        }
        got += dl.metas.len();
        assert_eq!(dl.next_key, dl.metas.last().and_then(|m| m.id));
        keys.push(dl.next_key.unwrap());
        key = dl.next_key;
    }
    assert_eq!(got, 55);
    assert_eq!(keys, [ids[49], ids[54]]);

    // A forged key far beyond the queue acknowledges only what exists: the next message is
    // still owed.
    pull(&mut bob, queue.clone(), Some(u64::MAX >> 1)).await;
    assert_eq!(next_page(&mut bob).await.is_last, Some(true));
    let later = alice.send_text("bob", "later").await.unwrap();
    let owed = bob.pull("alice").await.unwrap();
    assert_eq!(owed.iter().map(|m| m.id).collect::<Vec<_>>(), [later]);
}

/// The next pull answer (a SYNC with a queue), skipping notices.
async fn next_page(d: &mut Device) -> CommSyncDl {
    loop {
        let (cmd, payload) = d.next_frame().await.unwrap();
        if cmd == Command::Sync {
            let dl = CommSyncDl::decode(payload).unwrap();
            if dl.queue.is_some() {
                return dl;
            }
        }
    }
}
