//! The model: per conversation the messages in server order, per user and conversation what
//! that user did to it, and the multi-device events each device must still receive.
use std::collections::{BTreeMap, HashSet};

use super::{Conv, conv_of};

/// A message of the model: kept per conversation in server order.
#[derive(Debug, Clone)]
pub(super) struct Msg {
    pub(super) id: u64,
    pub(super) from: usize,
    pub(super) ts: u64,
    /// A chat message (history shows it); else a read ack.
    pub(super) chat: bool,
    /// Conversation activity (lists, lastMessage, unread): chat messages from devices.
    pub(super) activity: bool,
}

/// One user's side of one conversation.
#[derive(Debug, Clone, Default)]
pub(super) struct Side {
    /// Messages the user deleted (by id, before a time, or with the conversation).
    pub(super) hidden: HashSet<u64>,
    /// Messages before this index are read.
    pub(super) read: usize,
    /// Deleted from the list; the next activity brings it back.
    pub(super) removed: bool,
    /// At the last delete, nothing was left to see.
    pub(super) emptied: bool,
    /// Pin order (higher = newer pin).
    pub(super) pinned: Option<u64>,
    pub(super) marks: u32,
}

#[derive(Default)]
pub(super) struct Model {
    /// Conversations in creation order (the store's tie-break), with their messages.
    pub(super) convs: BTreeMap<Conv, (usize, Vec<Msg>)>,
    pub(super) sides: BTreeMap<(usize, Conv), Side>,
    pub(super) pins: u64,
    /// Multi-device events each device must still receive: (user, device) → texts.
    pub(super) events: BTreeMap<(usize, usize), Vec<String>>,
}

impl Model {
    pub(super) fn messages(&self, c: Conv) -> &[Msg] {
        self.convs.get(&c).map_or(&[], |(_, m)| m)
    }

    pub(super) fn visible<'a>(&'a self, u: usize, c: Conv) -> impl Iterator<Item = &'a Msg> + 'a {
        let hidden = self.sides.get(&(u, c)).map(|s| &s.hidden);
        self.messages(c)
            .iter()
            .filter(move |m| hidden.is_none_or(|h| !h.contains(&m.id)))
    }

    pub(super) fn append(&mut self, c: Conv, m: Msg) {
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
    pub(super) fn review(&mut self, u: usize, c: Conv) {
        let empty = !self.visible(u, c).any(|m| m.activity);
        self.sides.get_mut(&(u, c)).unwrap().emptied = empty;
    }

    pub(super) fn tell_other_device(&mut self, u: usize, d: usize, event: String) {
        self.events.entry((u, 1 - d)).or_default().push(event);
    }

    /// `u`'s conversation list: (target, unread, lastMessage id), newest activity first.
    pub(super) fn list(&self, u: usize) -> Vec<(String, u64, Option<u64>)> {
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

    pub(super) fn pinned(&self, u: usize) -> Vec<String> {
        let mut rows: Vec<(u64, String)> = (0..3)
            .filter_map(|k| {
                let (c, t) = conv_of(u, k);
                Some((self.sides.get(&(u, c))?.pinned?, t.to_string()))
            })
            .collect();
        rows.sort_by(|a, b| b.cmp(a));
        rows.into_iter().map(|r| r.1).collect()
    }

    pub(super) fn marked(&self, u: usize, mark: u8) -> Vec<String> {
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
