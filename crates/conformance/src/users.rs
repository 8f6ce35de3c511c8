//! Users, tokens and passwords.
use std::sync::Arc;

use crate::{fixtures::*, prelude::*};

pub(crate) async fn insert_all_or_none(s: Arc<dyn Store>) {
    s.insert_users(vec![new_user("alice")]).await.unwrap();
    let err = s
        .insert_users(vec![new_user("bob"), new_user("alice")])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DuplicateUser(u) if u == uid("alice")));
    assert!(s.user(&uid("bob")).await.unwrap().is_none());
}

pub(crate) async fn listed_in_id_order_by_pages(s: Arc<dyn Store>) {
    assert!(s.users_after(None, 10).await.unwrap().is_empty());
    s.insert_users(vec![new_user("carol"), new_user("alice"), new_user("bob")])
        .await
        .unwrap();
    let ids = |users: Vec<User>| -> Vec<String> {
        users
            .into_iter()
            .map(|u| u.id.as_str().to_owned())
            .collect()
    };
    assert_eq!(ids(s.users_after(None, 2).await.unwrap()), ["alice", "bob"]);
    assert_eq!(
        ids(s.users_after(Some(&uid("bob")), 2).await.unwrap()),
        ["carol"]
    );
    // After a user that does not exist: those whose id sorts after it.
    assert_eq!(
        ids(s.users_after(Some(&uid("b")), 10).await.unwrap()),
        ["bob", "carol"]
    );
    s.delete_user(&uid("bob"), no_events()).await.unwrap();
    assert_eq!(
        ids(s.users_after(None, 10).await.unwrap()),
        ["alice", "carol"]
    );
}

pub(crate) async fn tokens_and_passwords(s: Arc<dyn Store>) {
    s.insert_users(vec![new_user("alice")]).await.unwrap();
    let t = Token::generate();
    let rec = TokenRecord {
        hash: t.hash(),
        principal: Principal::User(uid("alice")),
        expires_ms: u64::MAX >> 2,
    };
    s.insert_token(rec.clone()).await.unwrap();
    assert_eq!(s.token(&t.hash()).await.unwrap(), Some(rec));
    let new_hash = Password::parse("pw2").unwrap().hash();
    assert!(s.set_password(&uid("alice"), new_hash).await.unwrap());
    assert_eq!(
        s.token(&t.hash()).await.unwrap(),
        None,
        "tokens are void after a password change"
    );
    assert!(
        !s.set_password(&uid("nobody"), Password::parse("x").unwrap().hash())
            .await
            .unwrap()
    );
}

pub(crate) async fn a_user_registered_again_does_not_inherit_old_messages(s: Arc<dyn Store>) {
    s.insert_users(vec![new_user("alice"), new_user("bob")])
        .await
        .unwrap();
    send(&*s, "alice", "a", "bob", "to the first bob").await;
    s.delete_user(&uid("bob"), no_events()).await.unwrap();
    s.insert_users(vec![new_user("bob")]).await.unwrap();
    let b = s.device(&uid("bob"), &res("b")).await.unwrap();
    assert!(s.pending(&b).await.unwrap().is_empty());
    send(&*s, "alice", "a", "bob", "to the new bob").await;
    assert_eq!(texts(&*s, &b, "alice").await, vec!["to the new bob"]);
}

/// A user registered again under a deleted user's id is in none of the old user's groups (or
/// it could post to a private group it was never let into), and the groups no longer count
/// the old user: the memberships go in the same write as the user.
pub(crate) async fn a_deleted_user_leaves_every_group_they_were_in(s: Arc<dyn Store>) {
    s.insert_users(vec![new_user("alice"), new_user("bob"), new_user("carol")])
        .await
        .unwrap();
    s.create_group(new_group("g", "carol", &["bob", "alice"], 10))
        .await
        .unwrap();
    s.create_group(NewGroup {
        kind: GroupKind::ChatRoom,
        ..new_group("r", "carol", &["alice"], 10)
    })
    .await
    .unwrap();
    let removed = s
        .delete_user(&uid("alice"), no_events())
        .await
        .unwrap()
        .value
        .expect("alice existed");
    assert!(removed.groups.is_empty(), "alice owned nothing");
    let left: Vec<_> = removed.left.iter().map(|g| g.id.to_string()).collect();
    assert_eq!(left, ["g", "r"]);
    let mut members = s.member_ids(&gid("g")).await.unwrap();
    members.sort();
    assert_eq!(members, [uid("bob"), uid("carol")]);
    assert_eq!(s.member_ids(&gid("r")).await.unwrap(), [uid("carol")]);
    assert_eq!(s.group(&gid("g")).await.unwrap().unwrap().member_count, 2);
    s.insert_users(vec![new_user("alice")]).await.unwrap();
    assert!(s.member(&gid("g"), &uid("alice")).await.unwrap().is_none());
    for kind in [GroupKind::Group, GroupKind::ChatRoom] {
        assert!(s.groups_of(&uid("alice"), kind).await.unwrap().is_empty());
    }
}
