//! Deleting a user takes them out of every group: an account made again under the same id
//! is a stranger to the old user's groups.
use serde_json::json;

use crate::{BASE, client::http, spawn_app};

#[tokio::test]
async fn a_user_registered_again_cannot_post_to_the_old_users_private_group() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let (s, b) = http(
        app.addr,
        "POST",
        &format!("{BASE}/chatgroups"),
        Some(&app.admin_token),
        Some(
            json!({"groupname": "private", "public": false, "owner": "bob", "members": ["alice"]}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let g = b["data"]["groupid"].as_str().unwrap().to_owned();
    let (s, b) = http(
        app.addr,
        "DELETE",
        &format!("{BASE}/users/alice"),
        Some(&app.admin_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let (s, b) = http(
        app.addr,
        "GET",
        &format!("{BASE}/chatgroups/{g}/users"),
        Some(&app.admin_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let members: Vec<_> = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| {
            ["owner", "admin", "member"]
                .iter()
                .find_map(|r| m[r].as_str())
        })
        .collect();
    assert_eq!(members, ["bob"], "{b}");

    app.users(&["alice"]).await;
    let mut alice = app.device("alice", "a").await;
    let refused = alice
        .send_group_text(&g, "let me in")
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused, (1, Some("not in group or chatroom".into())));
}
