//! Model-based test of message roaming: random sequences of sends (from devices and from the
//! admin over REST), read acks, pins, marks, one-way deletes (by ids, before a time) and
//! conversation deletes, by three users with two devices each, in single chats and a group.
//! After every step each user's conversation list (paged), pinned list, marked lists, every
//! history (paged both ways) and each device's multi-device events are checked against a small
//! in-memory model of what that user must see.
//!
//! It drives the real use-cases (`Roam`) over the engine under test, without the transports.
//! `ROAM_MODEL_CASES` sets the number of cases (default 40; `ROAM_MODEL_CASES=1000` for a
//! deeper run).
//!
//! - `state`: the model (what each user must see);
//! - `world`: the store and use-cases under test, and how each operation changes both;
//! - `check`: everything each user sees, compared with the model.
mod check;
mod state;
mod world;

use std::sync::Arc;

use libtest_mimic::Failed;
use proptest::{
    prelude::*,
    test_runner::{Config as ProptestConfig, TestRunner},
};

use crate::{
    engine::{Engine, Fresh},
    fixtures::uid,
    prelude::*,
};
use world::World;

pub(crate) const USERS: [&str; 3] = ["ua", "ub", "uc"];
pub(crate) const DEVICES: [&str; 2] = ["d0", "d1"];
pub(crate) const GROUP: &str = "g1";
pub(crate) const MARKS: u8 = 2;

/// A conversation: the pair of users of a single chat, or the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Conv {
    Pair(usize, usize),
    Group,
}

/// The `k`-th conversation of user `u` (0, 1: the other users; 2: the group), and its target.
pub(crate) fn conv_of(u: usize, k: usize) -> (Conv, Target) {
    if k >= 2 {
        return (Conv::Group, Target::Group(GroupId::parse(GROUP).unwrap()));
    }
    let peer = (0..3).filter(|&p| p != u).nth(k).unwrap();
    (
        Conv::Pair(u.min(peer), u.max(peer)),
        Target::User(uid(USERS[peer])),
    )
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
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

pub(crate) fn me(u: usize) -> Principal {
    Principal::User(uid(USERS[u]))
}

/// Runs the model-based test against `engine`: each case on a new, empty store; a failure
/// reports the smallest sequence of operations that fails.
pub(crate) fn run<E: Engine>(engine: Arc<E>) -> Result<(), Failed> {
    let config = ProptestConfig {
        // 40 keeps the suite quick; `ROAM_MODEL_CASES=1000` for a deeper run.
        cases: std::env::var("ROAM_MODEL_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(40),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    runner
        .run(&prop::collection::vec(op(), 1..40), |ops| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let fresh = Fresh::new(engine.clone()).await;
                let mut w = World::new(fresh.open().await).await;
                w.check(&Op::Send { u: 0, d: 0, k: 2 }).await;
                for op in &ops {
                    w.step(op).await;
                    w.check(op).await;
                }
            });
            Ok(())
        })
        .map_err(|e| Failed::from(format!("roaming does not match the model: {e}")))
}
