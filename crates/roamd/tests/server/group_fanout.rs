//! Group fan-out from the kept member lists (`roam_domain::group::roster`): members joining,
//! leaving, kicked, a user deleted, a group destroyed, devices connecting, each while the
//! group's list is kept in memory, change who is told of the next message at once.
use std::time::Duration;

use serde_json::json;

use crate::{BASE, TestApp, client::Device, client::http, spawn_app};

/// Waits up to `within` for a notice of `queue` (notices of other queues are skipped).
async fn told(device: &mut Device, queue: &str, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        loop {
            match device.notice().await {
                Ok(q) if q == queue => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
    })
    .await
    .unwrap_or(false)
}

const NOW: Duration = Duration::from_secs(5);
/// How long a member who must not be told is watched.
const QUIET: Duration = Duration::from_millis(500);

async fn call(app: &TestApp, method: &str, path: &str, token: &str) {
    let (s, b) = http(
        app.addr,
        method,
        &format!("{BASE}{path}"),
        Some(token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{method} {path}: {b}");
}

/// `sender` sends a text to `g`; `member` is told and pulls it.
async fn reaches(sender: &mut Device, member: &mut Device, g: &str, text: &str) {
    let id = sender.send_group_text(g, text).await.unwrap().unwrap().0;
    assert!(
        told(member, g, NOW).await,
        "{} not told of {text}",
        member_name(member)
    );
    let got = member.pull_group(g).await.unwrap();
    assert!(got.iter().any(|m| m.id == id), "{text} not pulled: {got:?}");
}

fn member_name(d: &Device) -> &str {
    &d.user
}

#[tokio::test]
async fn joins_kicks_leaves_and_connects_change_who_is_told_of_the_next_message() {
    let app = spawn_app().await;
    app.users(&["alice", "bob", "carol", "dave"]).await;
    let (s, b) = http(
        app.addr,
        "POST",
        &format!("{BASE}/chatgroups"),
        Some(&app.admin_token),
        Some(json!({"groupname": "g", "public": true, "owner": "alice", "members": ["bob"]})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let g = b["data"]["groupid"].as_str().unwrap().to_owned();
    let admin = app.admin_token.clone();
    let mut alice = app.device("alice", "a").await;
    let mut bob = app.device("bob", "b").await;
    let mut carol = app.device("carol", "c").await;
    // The first send reads the list; the next ones find it in memory.
    reaches(&mut alice, &mut bob, &g, "m0").await;
    reaches(&mut alice, &mut bob, &g, "m1").await;

    // Joined while online: told of the join's event, then of the next message.
    call(
        &app,
        "POST",
        &format!("/chatgroups/{g}/users/carol"),
        &admin,
    )
    .await;
    assert!(
        told(&mut carol, &g, NOW).await,
        "carol not told of her join"
    );
    carol.pull_group(&g).await.unwrap();
    reaches(&mut alice, &mut carol, &g, "m2").await;
    assert!(told(&mut bob, &g, NOW).await);
    bob.pull_group(&g).await.unwrap();

    // Kicked while online: never told of the group's news again; the others still are.
    call(
        &app,
        "DELETE",
        &format!("/chatgroups/{g}/users/bob"),
        &admin,
    )
    .await;
    reaches(&mut alice, &mut carol, &g, "m3").await;
    assert!(!told(&mut bob, &g, QUIET).await, "a kicked member was told");
    assert_eq!(
        bob.send_group_text(&g, "still here?")
            .await
            .unwrap()
            .unwrap_err(),
        (1, Some("not in group or chatroom".into()))
    );

    // A member whose device connects after the list was kept is told.
    call(&app, "POST", &format!("/chatgroups/{g}/users/dave"), &admin).await;
    reaches(&mut alice, &mut carol, &g, "m4").await;
    let mut dave = app.device("dave", "d").await;
    dave.sync_all().await.unwrap();
    reaches(&mut alice, &mut dave, &g, "m5").await;
    // ... and a member who went offline and came back on another device too.
    drop(dave);
    reaches(&mut alice, &mut carol, &g, "m6").await;
    let mut dave = app.device("dave", "d2").await;
    dave.sync_all().await.unwrap();
    reaches(&mut alice, &mut dave, &g, "m7").await;
    assert!(told(&mut carol, &g, NOW).await);
    carol.pull_group(&g).await.unwrap();

    // Left while online: not told any more.
    let carol_token = app.token("carol").await;
    call(
        &app,
        "DELETE",
        &format!("/chatgroups/{g}/quit"),
        &carol_token,
    )
    .await;
    reaches(&mut alice, &mut dave, &g, "m8").await;
    assert!(
        !told(&mut carol, &g, QUIET).await,
        "a member who left was told"
    );
    assert!(!told(&mut bob, &g, QUIET).await);

    // Destroyed: a send finds no group, however recently its list was used.
    call(&app, "DELETE", &format!("/chatgroups/{g}"), &admin).await;
    assert_eq!(
        alice
            .send_group_text(&g, "anyone?")
            .await
            .unwrap()
            .unwrap_err(),
        (1, Some("group not found".into()))
    );
}

#[tokio::test]
async fn a_deleted_member_registered_again_is_a_stranger_to_a_kept_list() {
    let app = spawn_app().await;
    app.users(&["alice", "bob", "carol"]).await;
    let (s, b) = http(
        app.addr,
        "POST",
        &format!("{BASE}/chatgroups"),
        Some(&app.admin_token),
        Some(json!({"groupname": "g", "public": false, "owner": "alice", "members": ["bob", "carol"]})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let g = b["data"]["groupid"].as_str().unwrap().to_owned();
    let mut alice = app.device("alice", "a").await;
    let mut carol = app.device("carol", "c").await;
    let mut bob = app.device("bob", "b").await;
    reaches(&mut alice, &mut bob, &g, "m0").await;
    reaches(&mut alice, &mut carol, &g, "m1").await;

    call(&app, "DELETE", "/users/bob", &app.admin_token).await;
    app.users(&["bob"]).await;
    let mut bob = app.device("bob", "b").await;
    bob.sync_all().await.unwrap();
    reaches(&mut alice, &mut carol, &g, "m2").await;
    assert!(!told(&mut bob, &g, QUIET).await, "a stranger was told");
    assert_eq!(
        bob.send_group_text(&g, "let me in")
            .await
            .unwrap()
            .unwrap_err(),
        (1, Some("not in group or chatroom".into()))
    );

    // The owner's deletion destroys the group: its kept list goes with it.
    call(&app, "DELETE", "/users/alice", &app.admin_token).await;
    assert_eq!(
        carol
            .send_group_text(&g, "hello?")
            .await
            .unwrap()
            .unwrap_err(),
        (1, Some("group not found".into()))
    );
}
