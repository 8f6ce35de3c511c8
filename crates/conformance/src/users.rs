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
