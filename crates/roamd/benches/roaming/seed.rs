//! Building the data set: users, the lister's conversations, the history conversation and
//! the filler, all through the store's own API.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures::StreamExt;
use prost::Message as _;
use roam_domain::{
    conversation::Target,
    device::Resource,
    group::{GroupId, GroupKind, GroupSettings, NewGroup},
    id::MessageId,
    message::{MessageKind, NewMessage, StoredMessage},
    roaming::{MAX_PAGE, Mark, Removal},
    store::{DeliveryStore, GroupStore, RoamingStore, UserStore, no_events},
    user::{NewUser, Password, UserId, entity_uuid},
};
use roam_storage_sqlite::{Options, SqliteStore, Synchronous};

use crate::client;

/// Appends in flight at once while seeding (the writer takes up to 512 a transaction).
pub const IN_FLIGHT: usize = 2048;
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
pub struct Spec {
    /// Conversations of the listing user.
    pub convs: usize,
    /// Messages in the history conversation.
    pub history: usize,
    /// Messages spread over [`FILLER_CONVS`] other conversations.
    pub filler: usize,
}

/// Who and what the measurements use.
pub struct Seeded {
    /// Has `convs` conversations.
    pub lister: UserId,
    /// Reads the history of the conversation with `talker`.
    pub reader: UserId,
    pub talker: UserId,
    /// A message in the middle of that conversation: the cursor of the mid-history page.
    pub mid: MessageId,
    /// Messages stored in all.
    pub messages: usize,
}

/// The seq whose message is the mid-history cursor: the page below it is a full one.
fn mid_seq(history: usize) -> u64 {
    (history / 2 + MAX_PAGE / 2) as u64
}

/// Seeds the database at `path` through the store's API.
pub async fn seed(path: &Path, spec: &Spec, sync: Synchronous) -> Seeded {
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

/// A seeded database.
pub struct Db {
    pub dir: tempfile::TempDir,
    pub seeded: Seeded,
    /// The lister's conversations.
    pub convs: usize,
}

impl Db {
    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("roam.db")
    }

    /// Items of the list's page 1 and page 2.
    pub fn page_len(&self, page: usize) -> usize {
        self.convs.saturating_sub(page * MAX_PAGE).min(MAX_PAGE)
    }
}

pub fn db_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum()
}
