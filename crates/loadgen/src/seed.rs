//! Seeding: a roamd data directory holding many stored messages, written through the server's
//! own store (`roam-storage-sqlite`'s `append`, many in flight so the writer commits them in
//! big group transactions), so every row is exactly what a live send would have made: ids,
//! per-conversation seqs, `user_conversations` rows and counts. Only the durability differs
//! (`synchronous=NORMAL` while seeding: a crash mid-seed just means seeding again). Seeds of
//! more than [`BULK_OVER`] messages write the history conversations' messages after their
//! first with plain SQL instead ([`bulk`]: the same rows, 10M in about a minute and a half
//! rather than an hour).
//!
//! Layout: `conversations` one-to-one conversations `ha{i}` ↔ `hb{i}` share the bulk of the
//! messages round-robin (directions alternating); one user, `lister`, has [`LIST_CONVS`]
//! conversations (peer, lister, peer, and a third peer message in every third: 2 or 3
//! unread each, as the lister's own message does not move its read position), every tenth
//! pinned. Every user's password is [`PASSWORD`].
//!
//! Seeded directories are cached under `target/loadgen-seed/m{messages}-c{conversations}/`
//! (a `manifest.json` beside `roam.db` says what is in it and when it is complete).
use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::Context;
use bytes::Bytes;
use futures::StreamExt;
use prost::Message as _;
use rand::Rng;
use roam_domain::{
    conversation::Target,
    device::Resource,
    message::{MessageKind, NewMessage},
    store::{DeliveryStore, RoamingStore, UserStore, no_events},
    user::{NewUser, Password, UserId, entity_uuid},
};
use roam_protocol::pb::{Jid, MessageBody, message_body};
use roam_storage_sqlite::{Options, SqliteStore, Synchronous};
use serde::{Deserialize, Serialize};

mod bulk;
#[cfg(test)]
mod tests;

/// The password of every seeded user.
pub const PASSWORD: &str = "pw";
/// Conversations of the listing user.
pub const LIST_CONVS: usize = 500;
/// Pinned among them (every tenth).
pub const LIST_PINNED: usize = 50;
/// Appends in flight at once (the writer takes hundreds per transaction).
const IN_FLIGHT: usize = 4096;
/// History cursors remembered per seeded directory.
const SAMPLES: usize = 4000;
const TEXT: &str = "load generator message of a typical short length";
/// Seeds of more messages than this take the bulk path (see [`bulk`]).
const BULK_OVER: u64 = 100_000;

/// What a seeded directory holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub messages: u64,
    pub conversations: usize,
    /// Messages in each `ha{i}`/`hb{i}` conversation.
    pub per_conversation: Vec<u64>,
    /// The listing user and the unread count expected in each of its conversations (by peer).
    pub lister: String,
    pub list_unread: Vec<(String, u64)>,
    /// Random stored messages: (conversation index, message id), history cursors.
    pub samples: Vec<(usize, u64)>,
    pub seed_seconds: f64,
}

/// The two users of history conversation `i`.
pub fn history_pair(i: usize) -> (String, String) {
    (format!("ha{i}"), format!("hb{i}"))
}

fn uid(s: &str) -> anyhow::Result<UserId> {
    UserId::parse(s).map_err(|e| anyhow::anyhow!("user id {s}: {e:?}"))
}

/// The payload a client sends for a text message (what REST history decodes).
fn payload(from: &str, to: &str) -> Bytes {
    let jid = |n: &str| Jid {
        name: Some(n.into()),
        ..Default::default()
    };
    Bytes::from(
        MessageBody {
            r#type: Some(message_body::Type::Chat as i32),
            from: Some(jid(from)),
            to: Some(jid(to)),
            contents: vec![message_body::Content {
                text: Some(TEXT.into()),
                ..Default::default()
            }],
            ..Default::default()
        }
        .encode_to_vec(),
    )
}

fn chat(from: &UserId, to: &UserId, resource: &Resource) -> NewMessage {
    NewMessage {
        from: from.clone(),
        from_resource: resource.clone(),
        to: Target::User(to.clone()),
        kind: MessageKind::Chat,
        payload: payload(from.as_str(), to.as_str()),
        content_type: "txt".into(),
        activity: true,
        client_id: None,
    }
}

/// The cache directory of a seed of this size.
pub fn cache_dir(messages: u64, conversations: usize) -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    target
        .join("loadgen-seed")
        .join(format!("m{messages}-c{conversations}"))
}

/// A seeded directory of this size: from the cache, or seeded now (into `dir` when given).
pub async fn seeded(
    messages: u64,
    conversations: usize,
    dir: Option<&Path>,
) -> anyhow::Result<(PathBuf, Manifest)> {
    let dir = dir.map_or_else(|| cache_dir(messages, conversations), Path::to_path_buf);
    let manifest_path = dir.join("manifest.json");
    if let Ok(text) = std::fs::read_to_string(&manifest_path) {
        return Ok((dir, serde_json::from_str(&text)?));
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let manifest = seed(
        &dir.join("roam.db"),
        messages,
        conversations,
        messages > BULK_OVER,
    )
    .await?;
    std::fs::write(&manifest_path, serde_json::to_string(&manifest)?)?;
    Ok((dir, manifest))
}

/// Seeds `db` (a new file) through the store; with `use_bulk`, only the users, the lister's
/// conversations and the first message of each history conversation, the rest by
/// [`bulk::fill`].
async fn seed(
    db: &Path,
    messages: u64,
    conversations: usize,
    use_bulk: bool,
) -> anyhow::Result<Manifest> {
    let began = Instant::now();
    let store = SqliteStore::open(
        db,
        Options {
            synchronous: Synchronous::Normal,
            node: 0,
        },
    )?;
    let resource = Resource::parse("seed").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let lister = uid("lister")?;
    let peers: Vec<UserId> = (0..LIST_CONVS)
        .map(|i| uid(&format!("lp{i}")))
        .collect::<Result<_, _>>()?;
    let pairs: Vec<(UserId, UserId)> = (0..conversations)
        .map(|i| {
            let (a, b) = history_pair(i);
            Ok((uid(&a)?, uid(&b)?))
        })
        .collect::<anyhow::Result<_>>()?;

    // Users: one argon2 hash for all (each takes tens of ms).
    let hash = Password::parse(PASSWORD)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .hash();
    let everyone: Vec<UserId> = std::iter::once(lister.clone())
        .chain(peers.iter().cloned())
        .chain(pairs.iter().flat_map(|(a, b)| [a.clone(), b.clone()]))
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
        store.insert_users(users).await?;
    }

    // The lister's conversations, in phases so each one's order is known.
    let mut list_msgs = 0u64;
    for phase in 0..4 {
        let batch: Vec<NewMessage> = (0..LIST_CONVS)
            .filter_map(|i| match phase {
                0 | 2 => Some(chat(&peers[i], &lister, &resource)),
                1 => Some(chat(&lister, &peers[i], &resource)),
                _ => (i % 3 == 0).then(|| chat(&peers[i], &lister, &resource)),
            })
            .collect();
        list_msgs += u64::try_from(batch.len())?;
        let mut acked = futures::stream::iter(batch)
            .map(|m| store.append(m))
            .buffer_unordered(IN_FLIGHT);
        while let Some(r) = acked.next().await {
            r?;
        }
    }
    for (i, peer) in peers.iter().enumerate().filter(|(i, _)| i % 10 == 0) {
        let _ = i;
        store
            .pin(
                &lister,
                &Target::User(peer.clone()),
                true,
                LIST_PINNED,
                no_events(),
            )
            .await?;
    }
    // Unread: the peer's messages after the lister's read position, which never moved (its
    // own message in between does not move it).
    let list_unread = (0..LIST_CONVS)
        .map(|i| (peers[i].as_str().to_owned(), if i % 3 == 0 { 3 } else { 2 }))
        .collect();

    // The bulk: round-robin over the history conversations, directions alternating.
    let bulk = messages.saturating_sub(list_msgs);
    let n = u64::try_from(conversations.max(1))?;
    let keep_one_in = (bulk / u64::try_from(SAMPLES)?).max(1);
    let mut per_conversation = vec![0u64; conversations];
    let mut samples = Vec::new();
    let mut rng = rand::rng();
    let stream = (0..bulk).map(|k| {
        let i = usize::try_from(k % n).unwrap_or(0);
        let (a, b) = &pairs[i];
        let m = if (k / n) % 2 == 0 {
            chat(a, b, &resource)
        } else {
            chat(b, a, &resource)
        };
        (i, m)
    });
    // Through the store: everything, or (bulk) each conversation's first message.
    let through_store = if use_bulk { bulk.min(n) } else { bulk };
    let mut acked = futures::stream::iter(stream.take(usize::try_from(through_store)?))
        .map(|(i, m)| {
            let store = &store;
            async move { (i, store.append(m).await) }
        })
        .buffer_unordered(IN_FLIGHT);
    let (mut done, mut progress) = (0u64, Instant::now());
    while let Some((i, r)) = acked.next().await {
        let stored = r?;
        per_conversation[i] += 1;
        done += 1;
        if rng.random_range(0..keep_one_in) == 0 {
            samples.push((i, stored.id.0));
        }
        if progress.elapsed().as_secs() >= 10 {
            progress = Instant::now();
            eprintln!(
                "seed: {done} of {bulk} messages ({:.0}/s)",
                done as f64 / began.elapsed().as_secs_f64()
            );
        }
    }
    drop(acked);
    // Dropping the store flushes the writer; a fresh open checks roamd's schema opens it.
    drop(store);
    if use_bulk && bulk > through_store {
        let db = db.to_path_buf();
        let (added, more) = tokio::task::spawn_blocking(move || {
            bulk::fill(
                &db,
                &pairs,
                resource.as_str(),
                payload,
                (through_store, bulk),
                keep_one_in,
            )
        })
        .await??;
        for (count, more) in per_conversation.iter_mut().zip(added) {
            *count += more;
        }
        samples.extend(more);
    }
    let check = SqliteStore::open(db, Options::default()).context("reopening the seed")?;
    drop(check);
    Ok(Manifest {
        messages: bulk + list_msgs,
        conversations,
        per_conversation,
        lister: lister.as_str().to_owned(),
        list_unread,
        samples,
        seed_seconds: began.elapsed().as_secs_f64(),
    })
}

/// A copy of a seeded directory for a roamd to run on (the cache stays untouched).
pub fn copy_for_server(dir: &Path) -> anyhow::Result<tempfile::TempDir> {
    let tmp = tempfile::Builder::new().prefix("roam-loadgen-").tempdir()?;
    for name in ["roam.db", "roam.db-wal"] {
        let from = dir.join(name);
        if from.exists() {
            std::fs::copy(&from, tmp.path().join(name))
                .with_context(|| format!("copying {}", from.display()))?;
        }
    }
    Ok(tmp)
}

/// Bytes of the files in `dir`.
pub fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
