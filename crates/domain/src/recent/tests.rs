use bytes::Bytes;

use super::*;
use crate::{
    conversation::Target, device::Resource, id::MessageId, message::MessageKind, user::UserId,
};

fn group() -> GroupId {
    GroupId::parse("g1").unwrap()
}

fn msg(seq: u64, from: &str, res: &str) -> StoredMessage {
    StoredMessage {
        id: MessageId(1000 + seq),
        seq,
        from: UserId::parse(from).unwrap(),
        from_resource: Resource::parse(res).unwrap(),
        to: Target::Group(group()),
        kind: MessageKind::Chat,
        timestamp_ms: 0,
        payload: Bytes::from_static(b"hi"),
        activity: true,
    }
}

fn device(user: &str, res: &str, registered: u64) -> Device {
    Device {
        user: UserId::parse(user).unwrap(),
        resource: Resource::parse(res).unwrap(),
        registered: MessageId(registered),
    }
}

fn seqs(v: Option<Vec<StoredMessage>>) -> Option<Vec<u64>> {
    v.map(|v| v.into_iter().map(|m| m.seq).collect())
}

#[test]
fn a_position_inside_the_log_is_answered_from_it_in_order() {
    let r = RecentGroupMessages::default();
    for seq in 5..=9 {
        r.add(&group(), &msg(seq, "bob", "pc"));
    }
    let d = device("amy", "pc", 0);
    assert_eq!(seqs(r.owed(&group(), &d, 4, 50)), Some(vec![5, 6, 7, 8, 9]));
    assert_eq!(seqs(r.owed(&group(), &d, 7, 50)), Some(vec![8, 9]));
    assert_eq!(seqs(r.owed(&group(), &d, 7, 1)), Some(vec![8]));
    assert_eq!(seqs(r.owed(&group(), &d, 9, 50)), Some(vec![]));
    assert_eq!(seqs(r.owed(&group(), &d, 3, 50)), None, "seq 4 is not kept");
    let other = GroupId::parse("g2").unwrap();
    assert_eq!(seqs(r.owed(&other, &d, 0, 50)), None);
}

#[test]
fn a_gap_restarts_the_log_so_the_missing_message_is_read_from_the_store() {
    let r = RecentGroupMessages::default();
    r.add(&group(), &msg(1, "bob", "pc"));
    r.add(&group(), &msg(3, "bob", "pc"));
    r.add(&group(), &msg(2, "bob", "pc"));
    let d = device("amy", "pc", 0);
    assert_eq!(seqs(r.owed(&group(), &d, 1, 50)), None);
    assert_eq!(seqs(r.owed(&group(), &d, 2, 50)), Some(vec![3]));
    r.add(&group(), &msg(3, "bob", "pc"));
    assert_eq!(
        seqs(r.owed(&group(), &d, 2, 50)),
        Some(vec![3]),
        "a resend is kept once"
    );
}

#[test]
fn own_sends_and_the_users_sends_from_before_the_device_are_not_owed() {
    let r = RecentGroupMessages::default();
    r.add(&group(), &msg(1, "amy", "pc"));
    r.add(&group(), &msg(2, "amy", "phone"));
    r.add(&group(), &msg(3, "bob", "pc"));
    // ids are 1000 + seq: the phone registered after seq 1 was sent.
    let phone = device("amy", "phone", 1002);
    assert_eq!(seqs(r.owed(&group(), &phone, 0, 50)), Some(vec![3]));
    let pc = device("amy", "pc", 0);
    assert_eq!(seqs(r.owed(&group(), &pc, 0, 50)), Some(vec![2, 3]));
}

#[test]
fn memory_is_bounded_per_group_and_in_all() {
    let r = RecentGroupMessages::default();
    for seq in 1..=u64::try_from(PER_GROUP).unwrap() + 10 {
        r.add(&group(), &msg(seq, "bob", "pc"));
    }
    let d = device("amy", "pc", 0);
    assert_eq!(
        seqs(r.owed(&group(), &d, 9, 50)),
        None,
        "seq 10 was dropped"
    );
    assert_eq!(
        r.owed(&group(), &d, 10, 1000).map(|v| v.len()),
        Some(PER_GROUP)
    );
    assert_eq!(r.bytes(), PER_GROUP * (2 + OVERHEAD));
    let big = |g: &str, seq| StoredMessage {
        payload: Bytes::from(vec![0u8; 1024 * 1024]),
        to: Target::Group(GroupId::parse(g).unwrap()),
        ..msg(seq, "bob", "pc")
    };
    for i in 0..100 {
        let g = format!("big{i}");
        r.add(&GroupId::parse(&g).unwrap(), &big(&g, 1));
    }
    assert!(r.bytes() <= BUDGET_BYTES, "{}", r.bytes());
}
