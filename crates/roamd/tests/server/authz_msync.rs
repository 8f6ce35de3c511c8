//! The authorization matrix over msync: every client frame × every kind of caller.
//!
//! A connection's caller is fixed by its login (PROVISION), so the matrix is: the login with
//! no token, a malformed one, an expired one, another user's, the admin's and the user's own;
//! every other frame before a login; and, once logged in, sends and pulls by a stranger to a
//! group (a non-member) and by a member. [`kind`] matches every [`ClientFrame`] variant without
//! a wildcard, so a new frame kind does not compile until it has a row here.
use futures::{SinkExt, StreamExt};
use roam_protocol::{
    jid,
    msync::ClientFrame,
    pb::{CommSyncUl, Logout, Provision},
};
use tokio_tungstenite::tungstenite::Message;

use crate::{APP_KEY, authz::world, client::Device, spawn_app};

/// The rows: one per frame kind. The compiler checks this match is exhaustive.
fn kind(frame: &ClientFrame) -> &'static str {
    match frame {
        ClientFrame::Provision { .. } => "provision",
        ClientFrame::Unread => "unread",
        ClientFrame::Sync(_) => "sync",
        ClientFrame::Logout(_) => "logout",
    }
}

#[tokio::test]
async fn a_login_needs_the_users_own_valid_token() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let cases: [(&str, &str); 5] = [
        ("no token", ""),
        ("a malformed token", "not-a-token"),
        ("an expired token", &w.expired),
        ("another user's token", &w.bob),
        ("the admin's token", &app.admin_token),
    ];
    for (who, token) in cases {
        let (mut d, (code, reason)) = Device::login(app.addr, APP_KEY, "ann", token, "web_1")
            .await
            .unwrap();
        assert_ne!(code, 0, "ann logged in with {who}: {reason:?}");
        assert!(
            d.closed().await,
            "the connection stays open after a login with {who}"
        );
    }
    let (_d, (code, reason)) = Device::login(app.addr, APP_KEY, "ann", &w.ann, "web_1")
        .await
        .unwrap();
    assert_eq!(code, 0, "{reason:?}");
}

#[tokio::test]
async fn no_frame_is_served_before_a_login() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let group = jid::conference(APP_KEY, &w.group);
    let frames = [
        ClientFrame::Unread,
        ClientFrame::Sync(CommSyncUl {
            queue: Some(group),
            ..Default::default()
        }),
        ClientFrame::Logout(Logout::default()),
        // A login without any credential, for completeness of the rows.
        ClientFrame::Provision {
            guid: None,
            auth: None,
            provision: Provision::default(),
        },
    ];
    for frame in frames {
        let name = kind(&frame);
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/websocket", app.addr))
            .await
            .unwrap();
        ws.send(Message::Binary(frame.encode().into()))
            .await
            .unwrap();
        // Whatever comes back (a refusal, the logout's reply) carries no data, and the server
        // closes the connection.
        let closed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while let Some(m) = ws.next().await {
                match m {
                    Ok(Message::Binary(b)) => {
                        assert!(b.len() < 200, "{name} before login got {} bytes", b.len());
                    }
                    Ok(Message::Close(_)) | Err(_) => return true,
                    Ok(_) => {}
                }
            }
            true
        })
        .await
        .unwrap_or(false);
        assert!(closed, "{name} before a login left the connection open");
    }
}

#[tokio::test]
async fn a_non_member_neither_sends_to_nor_reads_a_group() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mut ann = app.device("ann", "web_1").await;
    assert!(
        ann.send_group_text(&w.group, "for members")
            .await
            .unwrap()
            .is_ok()
    );

    let mut bob = app.device("bob", "web_1").await;
    let refused = bob.send_group_text(&w.group, "let me in").await.unwrap();
    assert!(
        refused.is_err(),
        "a stranger sent to the group: {refused:?}"
    );
    assert!(bob.pull_group(&w.group).await.unwrap().is_empty());

    let mut cat = app.device("cat", "web_1").await;
    assert!(cat.send_group_text(&w.group, "hi").await.unwrap().is_ok());
    let texts: Vec<_> = cat
        .pull_group(&w.group)
        .await
        .unwrap()
        .iter()
        .filter_map(|m| m.text().map(str::to_owned))
        .collect();
    assert!(texts.contains(&"for members".to_owned()), "{texts:?}");
}
