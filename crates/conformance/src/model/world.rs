//! The store and use-cases under test, and each operation applied to them and to the model.
use std::sync::Arc;

use bytes::Bytes;

use super::{
    Conv, DEVICES, GROUP, Op, USERS, conv_of, me,
    state::{Model, Msg, Side},
};
use crate::{fixtures::uid, prelude::*};

/// Signals go nowhere: devices here read their queues directly.
struct Silent;

impl Fanout for Silent {
    fn notify(&self, _: &UserId, _: &Target, _: Option<&Resource>) {}
    fn kick(&self, _: &UserId, _: KickReason) {}
}

/// The use-cases over a store, the devices of every user, and the model of what they must see.
pub(super) struct World {
    pub(super) roam: Roam,
    pub(super) store: Arc<dyn Store>,
    pub(super) devices: Vec<Vec<Device>>,
    pub(super) model: Model,
    texts: u64,
}

impl World {
    /// The users, their devices and the group, on `store` (new and empty).
    pub(super) async fn new(store: Arc<dyn Store>) -> World {
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
        let admin = AdminCredential::new("x", "y");
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

    pub(super) async fn step(&mut self, op: &Op) {
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
}
