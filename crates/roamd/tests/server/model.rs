//! Model-based test of message roaming: random sequences of sends (from devices and from the
//! admin over REST), read acks, pins, marks, one-way deletes (by ids, before a time) and
//! conversation deletes, by three users with two devices each, in single chats and a group.
//! After every step each user's conversation list (paged), pinned list, marked lists, every
//! history (paged both ways) and each device's multi-device events are checked against a small
//! in-memory model of what that user must see.
//!
//! It drives the real use-cases (`Roam`) over the real SQLite engine, without the transports.
use std::{
    collections::{BTreeMap, HashSet},
    sync::Arc,
};

use bytes::Bytes;
use proptest::prelude::*;
use roam_domain::{
    auth::{AdminCredential, Principal},
    conversation::Target,
    device::{Device, Resource},
    fanout::{Fanout, KickReason},
    group::{GroupId, GroupKind, GroupSettings, NewGroup},
    id::MessageId,
    message::{MessageKind, NewMessage},
    roaming::{
        ConversationEvent, Direction, HistoryQuery, ListFilter, ListQuery, Mark, PageSize, Removal,
    },
    service::{Policy, Roam, RoamingError},
    store::Store,
    user::{NewUser, Password, UserId, entity_uuid},
};
use roam_storage_sqlite::{Options, SqliteStore, Synchronous};

const USERS: [&str; 3] = ["ua", "ub", "uc"];
const DEVICES: [&str; 2] = ["d0", "d1"];
const GROUP: &str = "g1";
const MARKS: u8 = 2;

/// A conversation: the pair of users of a single chat, or the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Conv {
    Pair(usize, usize),
    Group,
}

/// The `k`-th conversation of user `u` (0, 1: the other users; 2: the group), and its target.
fn conv_of(u: usize, k: usize) -> (Conv, Target) {
    if k >= 2 {
        return (Conv::Group, Target::Group(GroupId::parse(GROUP).unwrap()));
    }
    let peer = (0..3).filter(|&p| p != u).nth(k).unwrap();
    (
        Conv::Pair(u.min(peer), u.max(peer)),
        Target::User(uid(USERS[peer])),
    )
}

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

#[derive(Debug, Clone)]
enum Op {
    Send {
        u: usize,
        d: usize,
        k: usize,
    },
    AdminSend {
        u: usize,
        k: usize,
    },
    ReadAck {
        u: usize,
        d: usize,
        k: usize,
    },
    Pin {
        u: usize,
        d: usize,
        k: usize,
        on: bool,
    },
    Mark {
        u: usize,
        d: usize,
        k: usize,
        mark: u8,
        on: bool,
    },
    DeleteIds {
        u: usize,
        d: usize,
        k: usize,
        picks: Vec<usize>,
    },
    DeleteBefore {
        u: usize,
        d: usize,
        k: usize,
        pick: usize,
    },
    DeleteConversation {
        u: usize,
        d: usize,
        k: usize,
        with_history: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let who = (0..3usize, 0..2usize, 0..3usize);
    prop_oneof![
        6 => who.clone().prop_map(|(u, d, k)| Op::Send { u, d, k }),
        1 => (0..3usize, 0..3usize).prop_map(|(u, k)| Op::AdminSend { u, k }),
        2 => who.clone().prop_map(|(u, d, k)| Op::ReadAck { u, d, k }),
        2 => (who.clone(), any::<bool>()).prop_map(|((u, d, k), on)| Op::Pin { u, d, k, on }),
        1 => (who.clone(), 0..MARKS, any::<bool>())
            .prop_map(|((u, d, k), mark, on)| Op::Mark { u, d, k, mark, on }),
        2 => (who.clone(), prop::collection::vec(0..20usize, 1..4))
            .prop_map(|((u, d, k), picks)| Op::DeleteIds { u, d, k, picks }),
        1 => (who.clone(), 0..20usize).prop_map(|((u, d, k), pick)| Op::DeleteBefore { u, d, k, pick }),
        1 => (who, any::<bool>()).prop_map(|((u, d, k), with_history)| {
            Op::DeleteConversation { u, d, k, with_history }
        }),
    ]
}

/// A message of the model: kept per conversation in server order.
#[derive(Debug, Clone)]
struct Msg {
    id: u64,
    from: usize,
    ts: u64,
    /// A chat message (history shows it); else a read ack.
    chat: bool,
    /// Conversation activity (lists, lastMessage, unread): chat messages from devices.
    activity: bool,
}

/// One user's side of one conversation.
#[derive(Debug, Clone, Default)]
struct Side {
    /// Messages the user deleted (by id, before a time, or with the conversation).
    hidden: HashSet<u64>,
    /// Messages before this index are read.
    read: usize,
    /// Deleted from the list; the next activity brings it back.
    removed: bool,
    /// At the last delete, nothing was left to see.
    emptied: bool,
    /// Pin order (higher = newer pin).
    pinned: Option<u64>,
    marks: u32,
}

#[derive(Default)]
struct Model {
    /// Conversations in creation order (the store's tie-break), with their messages.
    convs: BTreeMap<Conv, (usize, Vec<Msg>)>,
    sides: BTreeMap<(usize, Conv), Side>,
    pins: u64,
    /// Multi-device events each device must still receive: (user, device) → texts.
    events: BTreeMap<(usize, usize), Vec<String>>,
}

impl Model {
    fn messages(&self, c: Conv) -> &[Msg] {
        self.convs.get(&c).map_or(&[], |(_, m)| m)
    }

    fn visible<'a>(&'a self, u: usize, c: Conv) -> impl Iterator<Item = &'a Msg> + 'a {
        let hidden = self.sides.get(&(u, c)).map(|s| &s.hidden);
        self.messages(c)
            .iter()
            .filter(move |m| hidden.is_none_or(|h| !h.contains(&m.id)))
    }

    fn append(&mut self, c: Conv, m: Msg) {
        let n = self.convs.len();
        self.convs.entry(c).or_insert((n, vec![])).1.push(m.clone());
        let users: Vec<usize> = match c {
            Conv::Pair(a, b) => vec![a, b],
            Conv::Group => vec![0, 1, 2],
        };
        for u in users {
            let side = self.sides.entry((u, c)).or_default();
            if m.activity {
                side.removed = false;
            }
        }
    }

    /// After a delete by `u`: what is left decides whether an empty group stays listed.
    fn review(&mut self, u: usize, c: Conv) {
        let empty = !self.visible(u, c).any(|m| m.activity);
        self.sides.get_mut(&(u, c)).unwrap().emptied = empty;
    }

    fn tell_other_device(&mut self, u: usize, d: usize, event: String) {
        self.events.entry((u, 1 - d)).or_default().push(event);
    }

    /// `u`'s conversation list: (target, unread, lastMessage id), newest activity first.
    fn list(&self, u: usize) -> Vec<(String, u64, Option<u64>)> {
        let mut rows = vec![];
        for k in 0..3 {
            let (c, target) = conv_of(u, k);
            let Some(side) = self.sides.get(&(u, c)) else {
                continue;
            };
            let last = self.visible(u, c).filter(|m| m.activity).last();
            let listed = !side.removed && (last.is_some() || (c == Conv::Group && !side.emptied));
            if !listed {
                continue;
            }
            let last = last.expect("a listed conversation shows a message (see setup)");
            let unread = self.messages(c)[side.read..]
                .iter()
                .filter(|m| m.activity && m.from != u && !side.hidden.contains(&m.id))
                .count() as u64;
            // Exactly newest first: by the (unique, time-ordered) id of the newest message.
            rows.push((last.id, (target.to_string(), unread, Some(last.id))));
        }
        rows.sort_by_key(|r| std::cmp::Reverse(r.0));
        rows.into_iter().map(|r| r.1).collect()
    }

    fn pinned(&self, u: usize) -> Vec<String> {
        let mut rows: Vec<(u64, String)> = (0..3)
            .filter_map(|k| {
                let (c, t) = conv_of(u, k);
                Some((self.sides.get(&(u, c))?.pinned?, t.to_string()))
            })
            .collect();
        rows.sort_by(|a, b| b.cmp(a));
        rows.into_iter().map(|r| r.1).collect()
    }

    fn marked(&self, u: usize, mark: u8) -> Vec<String> {
        let mut v: Vec<String> = (0..3)
            .filter_map(|k| {
                let (c, t) = conv_of(u, k);
                let s = self.sides.get(&(u, c))?;
                (s.marks & (1 << mark) != 0 && !s.removed).then(|| t.to_string())
            })
            .collect();
        v.sort();
        v
    }
}

/// Signals go nowhere: devices here read their queues directly.
struct Silent;

impl Fanout for Silent {
    fn notify(&self, _: &UserId, _: &Target, _: Option<&Resource>) {}
    fn kick(&self, _: &UserId, _: KickReason) {}
}

struct World {
    roam: Roam,
    store: Arc<dyn Store>,
    devices: Vec<Vec<Device>>,
    model: Model,
    texts: u64,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(
                &dir.path().join("m.db"),
                Options {
                    synchronous: Synchronous::Normal,
                    node: 0,
                },
            )
            .unwrap(),
        );
        let users = USERS
            .iter()
            .map(|u| NewUser {
                id: uid(u),
                uuid: entity_uuid(),
                password: Password::parse("pw").unwrap().hash(),
                nickname: None,
            })
            .collect();
        store.insert_users(users).await.unwrap();
        let admin = AdminCredential {
            client_id: "x".into(),
            client_secret: "y".into(),
        };
        let roam = Roam::new(store.clone(), Arc::new(Silent), admin, Policy::default());
        let mut devices = vec![];
        for u in USERS {
            let mut mine = vec![];
            for d in DEVICES {
                mine.push(
                    roam.connect(&uid(u), &Resource::parse(d).unwrap())
                        .await
                        .unwrap(),
                );
            }
            devices.push(mine);
        }
        store
            .create_group(NewGroup {
                id: GroupId::parse(GROUP).unwrap(),
                kind: GroupKind::Group,
                owner: uid(USERS[0]),
                settings: GroupSettings {
                    name: "g".into(),
                    description: String::new(),
                    public: true,
                    approval: false,
                    allow_invites: false,
                    max_users: 10,
                    custom: String::new(),
                },
                members: vec![uid(USERS[1]), uid(USERS[2])],
            })
            .await
            .unwrap();
        let mut w = World {
            roam,
            store,
            devices,
            model: Model::default(),
            texts: 0,
            _dir: dir,
        };
        for u in 0..3 {
            w.model.sides.insert((u, Conv::Group), Side::default());
        }
        w.model.convs.insert(Conv::Group, (0, vec![]));
        // The group starts with a message: the order of a group nobody wrote in yet is its
        // members' joining time, which this model does not know.
        w.step(&Op::Send { u: 0, d: 0, k: 2 }).await;
        w
    }

    fn resource(d: usize) -> Resource {
        Resource::parse(DEVICES[d]).unwrap()
    }

    async fn step(&mut self, op: &Op) {
        let m = &mut self.model;
        match *op {
            Op::Send { u, d, k } | Op::ReadAck { u, d, k } => {
                let ack = matches!(op, Op::ReadAck { .. });
                let (c, target) = conv_of(u, k);
                self.texts += 1;
                let stored = self
                    .roam
                    .send(NewMessage {
                        from: uid(USERS[u]),
                        from_resource: Self::resource(d),
                        to: target.clone(),
                        kind: if ack {
                            MessageKind::ChannelAck
                        } else {
                            MessageKind::Chat
                        },
                        payload: Bytes::from(format!("m{}", self.texts)),
                        content_type: if ack { String::new() } else { "txt".into() },
                        activity: false,
                        client_id: None,
                    })
                    .await
                    .unwrap();
                if ack && c == Conv::Group {
                    // Kept in the reader's own log, read up to the group's last message.
                    m.sides.get_mut(&(u, c)).unwrap().read = m.messages(c).len();
                    m.tell_other_device(u, d, format!("ack {target}"));
                    return;
                }
                m.append(
                    c,
                    Msg {
                        id: stored.id.0,
                        from: u,
                        ts: stored.timestamp_ms,
                        chat: !ack,
                        activity: !ack,
                    },
                );
                if ack {
                    m.sides.get_mut(&(u, c)).unwrap().read = m.messages(c).len();
                }
            }
            Op::AdminSend { u, k } => {
                let (c, target) = conv_of(u, k);
                self.texts += 1;
                let stored = self
                    .roam
                    .send_as_admin(NewMessage {
                        from: uid(USERS[u]),
                        from_resource: Resource::parse("rest").unwrap(),
                        to: target,
                        kind: MessageKind::Chat,
                        payload: Bytes::from(format!("m{}", self.texts)),
                        content_type: "txt".into(),
                        activity: false,
                        client_id: None,
                    })
                    .await
                    .unwrap();
                m.append(
                    c,
                    Msg {
                        id: stored.id.0,
                        from: u,
                        ts: stored.timestamp_ms,
                        chat: true,
                        activity: false,
                    },
                );
            }
            Op::Pin { u, d, k, on } => {
                let (c, target) = conv_of(u, k);
                let got = self
                    .roam
                    .pin_conversation(&me(u), &uid(USERS[u]), &Self::resource(d), &target, on)
                    .await;
                // A conversation the user deleted cannot be pinned until it is back.
                let Some(side) = m.sides.get_mut(&(u, c)).filter(|s| !s.removed) else {
                    assert!(matches!(got, Err(RoamingError::NotFound)), "{got:?}");
                    return;
                };
                let at = got.unwrap();
                assert_eq!(at.is_some(), on);
                if !on {
                    side.pinned = None;
                } else if side.pinned.is_none() {
                    m.pins += 1;
                    side.pinned = Some(m.pins);
                }
                let ev = if on { "top" } else { "not_top" };
                m.tell_other_device(u, d, format!("{ev} {}", target.encode()));
            }
            Op::Mark { u, d, k, mark, on } => {
                let (c, target) = conv_of(u, k);
                let missing = self
                    .roam
                    .mark_conversations(
                        &me(u),
                        &uid(USERS[u]),
                        &Self::resource(d),
                        vec![target.clone()],
                        Mark::from_index(mark).unwrap(),
                        on,
                    )
                    .await
                    .unwrap();
                let Some(side) = m.sides.get_mut(&(u, c)).filter(|s| !s.removed) else {
                    assert_eq!(missing, vec![target]);
                    return;
                };
                assert!(missing.is_empty());
                if on {
                    side.marks |= 1 << mark;
                } else {
                    side.marks &= !(1 << mark);
                }
                let ev = if on { "mark" } else { "unmark" };
                m.tell_other_device(u, d, format!("{ev}:{mark} {}", target.encode()));
            }
            Op::DeleteIds { u, d, k, ref picks } => {
                let (c, target) = conv_of(u, k);
                let all = m.messages(c);
                let ids: Vec<u64> = if all.is_empty() {
                    vec![1]
                } else {
                    picks.iter().map(|p| all[p % all.len()].id).collect()
                };
                self.roam
                    .remove_messages(
                        &me(u),
                        &uid(USERS[u]),
                        &Self::resource(d),
                        &target,
                        Removal::ids(ids.iter().map(|&i| MessageId(i)).collect()).unwrap(),
                    )
                    .await
                    .unwrap();
                let Some(side) = m.sides.get_mut(&(u, c)) else {
                    return;
                };
                side.hidden.extend(ids);
                m.review(u, c);
                m.tell_other_device(u, d, format!("roaming_delete {}", target.encode()));
            }
            Op::DeleteBefore { u, d, k, pick } => {
                let (c, target) = conv_of(u, k);
                let all = m.messages(c);
                let before = if all.is_empty() {
                    1
                } else {
                    all[pick % all.len()].ts
                };
                self.roam
                    .remove_messages(
                        &me(u),
                        &uid(USERS[u]),
                        &Self::resource(d),
                        &target,
                        Removal::Before(before),
                    )
                    .await
                    .unwrap();
                if !m.sides.contains_key(&(u, c)) {
                    return;
                }
                let gone: Vec<u64> = all
                    .iter()
                    .filter(|x| x.ts <= before)
                    .map(|x| x.id)
                    .collect();
                let n = gone.len();
                let side = m.sides.get_mut(&(u, c)).unwrap();
                side.hidden.extend(gone);
                side.read = side.read.max(n);
                m.review(u, c);
                m.tell_other_device(u, d, format!("roaming_delete {}", target.encode()));
            }
            Op::DeleteConversation {
                u,
                d,
                k,
                with_history,
            } => {
                let (c, target) = conv_of(u, k);
                let got = self
                    .roam
                    .delete_conversation(
                        &me(u),
                        &uid(USERS[u]),
                        &Self::resource(d),
                        &target,
                        with_history,
                    )
                    .await;
                if !m.sides.contains_key(&(u, c)) {
                    assert!(matches!(got, Err(RoamingError::NotFound)), "{got:?}");
                    return;
                }
                got.unwrap();
                let all: Vec<u64> = m.messages(c).iter().map(|x| x.id).collect();
                let n = all.len();
                let side = m.sides.get_mut(&(u, c)).unwrap();
                if with_history {
                    side.hidden.extend(all);
                }
                side.read = n;
                side.removed = true;
                side.pinned = None;
                side.marks = 0;
                side.emptied = false;
                m.tell_other_device(u, d, format!("del {}", target.encode()));
            }
        }
    }

    /// Everything each user sees, checked against the model.
    async fn check(&mut self, after: &Op) {
        for (u, name) in USERS.iter().enumerate() {
            let user = uid(name);
            // The list, two at a time through the cursors.
            let mut got = vec![];
            let mut after_cursor = None;
            loop {
                let page = self
                    .roam
                    .conversations(
                        &me(u),
                        &user,
                        &ListQuery {
                            filter: ListFilter::All {
                                include_empty: false,
                            },
                            limit: PageSize::parse(2).unwrap(),
                            after: after_cursor,
                        },
                    )
                    .await
                    .unwrap();
                got.extend(page.items.iter().map(|c| {
                    (
                        c.target.to_string(),
                        c.unread,
                        c.last.as_ref().map(|m| m.id.0),
                    )
                }));
                match page.next {
                    Some(n) => {
                        assert_eq!(page.items.len(), 2, "a page before the last is full");
                        after_cursor = Some(n);
                    }
                    None => break,
                }
            }
            assert_eq!(got, self.model.list(u), "list of {user} after {after:?}");

            let pinned = self.list(u, ListFilter::Pinned).await;
            assert_eq!(
                pinned,
                self.model.pinned(u),
                "pinned of {user} after {after:?}"
            );
            for mark in 0..MARKS {
                let mut marked = self
                    .list(u, ListFilter::Marked(Mark::from_index(mark).unwrap()))
                    .await;
                marked.sort();
                assert_eq!(marked, self.model.marked(u, mark), "mark {mark} of {user}");
            }

            for k in 0..3 {
                let (c, target) = conv_of(u, k);
                let want: Vec<u64> = self
                    .model
                    .visible(u, c)
                    .filter(|m| m.chat)
                    .map(|m| m.id)
                    .collect();
                let up = self.history(u, &target, Direction::NewestFirst, 3).await;
                let mut want_up = want.clone();
                want_up.reverse();
                assert_eq!(
                    up, want_up,
                    "history of {user} with {target} after {after:?}"
                );
                let down = self.history(u, &target, Direction::OldestFirst, 4).await;
                assert_eq!(down, want, "history (down) of {user} with {target}");
            }

            // Each device got exactly the events of what the user's other device did.
            for (d, resource) in DEVICES.iter().enumerate() {
                let device = self.devices[u][d].clone();
                let owed = self
                    .store
                    .owed(&device, &Target::System, 1000)
                    .await
                    .unwrap();
                if let Some(last) = owed.last() {
                    self.store
                        .ack(&device, &Target::System, last.seq)
                        .await
                        .unwrap();
                }
                let got: Vec<String> = owed
                    .iter()
                    .map(|m| match m.kind {
                        MessageKind::ConversationEvent => {
                            ConversationEvent::decode(&m.payload).unwrap().to_string()
                        }
                        MessageKind::ChannelAck => format!("ack {}", m.to),
                        other => format!("unexpected {other:?}"),
                    })
                    .collect();
                let want = self.model.events.remove(&(u, d)).unwrap_or_default();
                assert_eq!(got, want, "events of {user}/{resource} after {after:?}");
            }
        }
    }

    async fn list(&self, u: usize, filter: ListFilter) -> Vec<String> {
        let page = self
            .roam
            .conversations(
                &me(u),
                &uid(USERS[u]),
                &ListQuery {
                    filter,
                    limit: PageSize::parse(50).unwrap(),
                    after: None,
                },
            )
            .await
            .unwrap();
        assert!(page.next.is_none());
        page.items.iter().map(|c| c.target.to_string()).collect()
    }

    /// The whole history through pages of `size`, checking `is_last` at every page.
    async fn history(
        &self,
        u: usize,
        target: &Target,
        direction: Direction,
        size: usize,
    ) -> Vec<u64> {
        let mut out = vec![];
        let mut from = None;
        loop {
            let page = self
                .roam
                .history(
                    &me(u),
                    &uid(USERS[u]),
                    &HistoryQuery {
                        target: target.clone(),
                        from,
                        direction,
                        limit: PageSize::parse(size as i64).unwrap(),
                        content_types: vec![],
                        start_ms: None,
                        end_ms: None,
                        sender: None,
                    },
                )
                .await
                .unwrap();
            out.extend(page.messages.iter().map(|m| m.id.0));
            if page.is_last {
                assert!(page.messages.len() <= size);
                return out;
            }
            assert_eq!(page.messages.len(), size, "a page before the last is full");
            from = page.messages.last().map(|m| m.id);
        }
    }
}

fn me(u: usize) -> Principal {
    Principal::User(uid(USERS[u]))
}

proptest! {
    #![proptest_config(ProptestConfig {
        // 40 keeps the suite quick; `ROAM_MODEL_CASES=1000` for a deeper run.
        cases: std::env::var("ROAM_MODEL_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(40),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn roaming_matches_the_model(ops in prop::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut w = World::new().await;
            w.check(&Op::Send { u: 0, d: 0, k: 2 }).await;
            for op in &ops {
                w.step(op).await;
                w.check(op).await;
            }
        });
    }
}
