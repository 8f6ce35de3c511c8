//! Everything each user sees through the use-cases, compared with the model after each step.
use super::{DEVICES, MARKS, Op, USERS, conv_of, me, world::World};
use crate::{fixtures::uid, prelude::*};

impl World {
    /// Everything each user sees, checked against the model.
    pub(super) async fn check(&mut self, after: &Op) {
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
                        .ack(&device, &Target::System, last.id)
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
