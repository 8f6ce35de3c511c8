//! Groups: membership, who is owed which group message, one stored copy per message.
use std::sync::Arc;

use crate::{fixtures::*, prelude::*};

pub(crate) async fn members_get_messages_from_their_joining_on(s: Arc<dyn Store>) {
    let g = gid("g1");
    let gt = Target::Group(g.clone());
    let created = s
        .create_group(new_group("g1", "alice", &["bob", "bob", "alice"], 3))
        .await
        .unwrap();
    assert_eq!((created.member_count, created.owner.as_str()), (2, "alice"));
    let bob = s.device(&uid("bob"), &res("b")).await.unwrap();
    let carol = s.device(&uid("carol"), &res("c")).await.unwrap();
    group_send(&*s, "alice", "g1", "before carol").await;
    assert_eq!(
        s.add_members(&g, vec![uid("carol"), uid("bob")], no_events())
            .await
            .unwrap()
            .value,
        vec![uid("carol")]
    );
    group_send(&*s, "bob", "g1", "after carol").await;
    assert_eq!(owed_texts(&*s, &carol, &gt).await, vec!["after carol"]);
    // bob's own send came from another of his devices ("d"), so device "b" is owed it too.
    assert_eq!(
        owed_texts(&*s, &bob, &gt).await,
        vec!["before carol", "after carol"]
    );
    // Full: nobody is added.
    assert!(matches!(
        s.add_members(&g, vec![uid("dave")], no_events()).await,
        Err(StoreError::GroupFull(_))
    ));
    // Removed members are owed nothing more; the group lists its members owner first.
    assert_eq!(
        s.remove_members(&g, vec![uid("carol"), uid("zed")], no_events())
            .await
            .unwrap()
            .value,
        vec![uid("carol")]
    );
    group_send(&*s, "alice", "g1", "after removal").await;
    assert!(owed_texts(&*s, &carol, &gt).await.is_empty());
    let members = s.members(&g, 0, 10).await.unwrap();
    assert_eq!(
        members.iter().map(|m| m.user.as_str()).collect::<Vec<_>>(),
        vec!["alice", "bob"]
    );
    assert_eq!(
        s.groups_of(&uid("bob"), GroupKind::Group)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.delete_group(&g, no_events())
            .await
            .unwrap()
            .value
            .is_some()
    );
    assert!(s.group(&g).await.unwrap().is_none());
    assert!(s.pending(&bob).await.unwrap().is_empty());
}

/// One send to a group of 2000 is owed to every member. That it is stored once, with nothing
/// written per member, is checked by each engine on its own tables (the SQLite engine counts
/// rows).
pub(crate) async fn one_message_is_owed_to_every_member_of_a_big_group(s: Arc<dyn Store>) {
    let members: Vec<String> = (0..2000).map(|i| format!("u{i}")).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    s.create_group(new_group("big", "owner", &refs, 5000))
        .await
        .unwrap();
    group_send(&*s, "owner", "big", "hello everyone").await;
    for member in ["u0", "u1000", "u1999"] {
        let d = s.device(&uid(member), &res("x")).await.unwrap();
        assert_eq!(
            s.pending(&d).await.unwrap(),
            vec![PendingQueue {
                target: Target::Group(gid("big")),
                count: 1
            }],
            "{member}"
        );
    }
}
