//! Each group's member list kept in memory, so that a group send checks its sender and finds
//! the members to notify without reading the store.
//!
//! # Why a kept list is never stale
//!
//! A list is read from the store on first use ([`Rosters::get`] misses, the caller reads the
//! store and offers the answer to [`Rosters::fill`]) and kept until a membership write of its
//! group ends. Every write that can change a group's members (members added or removed, the
//! group destroyed, a user deleted) runs inside a [`Writing`] guard taken **before** the write
//! starts and dropped **after** it has committed or failed (the service runs the write in a
//! task of its own, so the guard ends with the write even when the caller goes away):
//!
//! - while a write of group `g` (or of every group) is in flight, `get(g)` misses, so callers
//!   read the store, as they did before this cache: they see the write if it has committed;
//! - when it ends, the kept list of `g` (every list, for a user's deletion) is dropped and
//!   the generation moves on;
//! - a list read from the store is kept only if no membership write was in flight when the
//!   read was about to start ([`Ticket`]), none is in flight now, and none ended in between
//!   (the generation is the same): so its store read began after the last write that ended,
//!   and saw every committed one.
//!
//! So a caller that finds a list after its message committed gets the members as of a moment
//! after that commit: every member owed the message is in it, and nobody whose removal had
//! committed is. A write that begins after the lookup is, for the send, a write after it (the
//! same as a store read that ran just before the write's commit).
//!
//! Which of a group's members are online is the fan-out's business (the gateway's hub looks each
//! one up under a single lock for the whole group); devices coming and going therefore never
//! touch these lists.
//!
//! Concurrency: one std mutex, held only to look up or edit the map, never across an await.
//! Memory is bounded by [`MAX_IDS`] kept member ids in all; past it whole lists are dropped
//! (their groups are read from the store again at their next send).
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use super::GroupId;
use crate::user::UserId;

/// Most member ids kept over all groups.
pub const MAX_IDS: usize = 1 << 20;

/// Which lists a membership write may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One group's (members added or removed, the group destroyed).
    Group(GroupId),
    /// Any group's (a user deleted: out of every group, the groups they own destroyed).
    All,
}

#[derive(Default)]
struct State {
    lists: HashMap<GroupId, Arc<[UserId]>>,
    /// Member ids kept in `lists`, all lists together.
    ids: usize,
    /// Membership writes in flight, per group.
    writing: HashMap<GroupId, usize>,
    /// Writes in flight that may change any group.
    writing_all: usize,
    /// Moves on whenever a membership write ends.
    generation: u64,
}

impl State {
    fn busy(&self, group: &GroupId) -> bool {
        self.writing_all > 0 || self.writing.contains_key(group)
    }

    fn drop_list(&mut self, group: &GroupId) {
        if let Some(list) = self.lists.remove(group) {
            self.ids -= list.len();
        }
    }
}

/// What [`Rosters::get`] answers on a miss: proof of when the caller's store read may begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "offer the list read from the store to Rosters::fill"]
pub struct Ticket {
    generation: u64,
    /// A write was in flight at the lookup: the list read now must not be kept.
    busy: bool,
}

/// Every group's kept member list (see the module docs). Cheap to clone: clones share it.
#[derive(Clone, Default)]
pub struct Rosters {
    state: Arc<Mutex<State>>,
}

impl Rosters {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The kept members of `group`, or a ticket to read them from the store (call this
    /// before reading).
    pub fn get(&self, group: &GroupId) -> Result<Arc<[UserId]>, Ticket> {
        let state = self.lock();
        let busy = state.busy(group);
        if !busy && let Some(list) = state.lists.get(group) {
            return Ok(list.clone());
        }
        Err(Ticket {
            generation: state.generation,
            busy,
        })
    }

    /// Offers `members` of `group`, read from the store after `get` answered `ticket`; keeps
    /// them if no membership write could have changed them since (see the module docs).
    /// Answers them either way.
    pub fn fill(&self, group: &GroupId, ticket: Ticket, members: Vec<UserId>) -> Arc<[UserId]> {
        let list: Arc<[UserId]> = members.into();
        let mut state = self.lock();
        let state = &mut *state;
        if ticket.busy || ticket.generation != state.generation || state.busy(group) {
            return list;
        }
        if list.len() > MAX_IDS {
            return list;
        }
        state.drop_list(group);
        while state.ids + list.len() > MAX_IDS {
            let Some(victim) = state.lists.keys().next().cloned() else {
                break;
            };
            state.drop_list(&victim);
        }
        state.ids += list.len();
        state.lists.insert(group.clone(), list.clone());
        list
    }

    /// Marks a membership write of `scope` as in flight until the guard drops: take it before
    /// the write starts, drop it once the write has committed or failed.
    pub fn writing(&self, scope: Scope) -> Writing {
        let mut state = self.lock();
        match &scope {
            Scope::Group(g) => *state.writing.entry(g.clone()).or_insert(0) += 1,
            Scope::All => state.writing_all += 1,
        }
        drop(state);
        Writing {
            rosters: self.clone(),
            scope,
        }
    }

    /// Member ids kept now, all groups together.
    pub fn ids(&self) -> usize {
        self.lock().ids
    }
}

/// A membership write in flight (see [`Rosters::writing`]); dropping it forgets the lists the
/// write may have changed.
pub struct Writing {
    rosters: Rosters,
    scope: Scope,
}

impl Drop for Writing {
    fn drop(&mut self) {
        let mut state = self.rosters.lock();
        match &self.scope {
            Scope::Group(g) => {
                state.drop_list(g);
                if let Some(n) = state.writing.get_mut(g) {
                    *n -= 1;
                    if *n == 0 {
                        state.writing.remove(g);
                    }
                }
            }
            Scope::All => {
                state.lists.clear();
                state.ids = 0;
                state.writing_all -= 1;
            }
        }
        state.generation += 1;
    }
}

#[cfg(test)]
mod tests;
