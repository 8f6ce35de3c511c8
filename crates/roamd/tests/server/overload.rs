//! The gateway under hostile load: large messages, clients that stop reading, floods,
//! connection squatters, sessions that outlive their token.
use std::time::{Duration, Instant};

use prost::Message as _;
use roam_protocol::{
    jid,
    msync::ClientFrame,
    pb::{CommNotice, CommSyncDl, CommSyncUl, KeyValue, key_value, m_sync::Command},
};
use tokio_tungstenite::tungstenite;

use crate::{
    APP_KEY,
    client::{Device, text_body},
    spawn_app, spawn_app_with,
};

/// `mallory` sends `n` messages to `to`, each with a 15,000-byte string in `ext` (just under
/// the 16 KiB a message may take; 60 of them are more than 1 MiB, and a page of 50 would be
/// over 1 MiB as SockJS base64).
async fn send_large(mallory: &mut Device, to: &str, n: usize) {
    for i in 0..n {
        let mut body = text_body("mallory", to, &format!("large {i}"));
        body.ext = vec![KeyValue {
            key: Some("pad".into()),
            r#type: Some(key_value::ValueType::String as i32),
            value: Some(key_value::Value::StringValue("x".repeat(15_000))),
        }];
        mallory.send_body(to, body).await.unwrap().unwrap();
    }
}

/// Sends `n` pulls of the first page of `peer`'s queue without reading any answer.
async fn pull_without_reading(d: &mut Device, peer: &str, n: usize) {
    for _ in 0..n {
        let ul = CommSyncUl {
            queue: Some(jid::user(APP_KEY, peer, None)),
            ..Default::default()
        };
        d.send_frame(ClientFrame::Sync(ul).encode()).await.unwrap();
    }
}

#[tokio::test]
async fn sixty_large_messages_reach_the_victim_in_pages_that_fit_a_frame() {
    let app = spawn_app().await;
    app.users(&["mallory", "victim"]).await;
    let mut mallory = app.device("mallory", "m").await;
    send_large(&mut mallory, "victim", 60).await;
    let mut victim = app.device("victim", "v").await;
    let got = victim.sync_all().await.unwrap();
    assert_eq!(got.len(), 60);
    assert_eq!(got[59].text(), Some("large 59"));
    // Everything was acknowledged: the next login owes nothing, and the session is alive.
    assert!(victim.unread().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_after_the_write_timeout() {
    let app = spawn_app_with(|c| c.write_timeout_secs = 2).await;
    app.users(&["mallory", "victim"]).await;
    let mut mallory = app.device("mallory", "m").await;
    send_large(&mut mallory, "victim", 40).await;
    let mut victim = app.device("victim", "v").await;
    // ~240 KB per answer, 200 answers: far more than the socket buffers hold.
    pull_without_reading(&mut victim, "mallory", 200).await;
    // The server is stuck writing to a client that reads nothing; well after the write
    // timeout the client looks: the connection was closed (it stays open without the timeout,
    // as the idle timeout of 95 s never fires while the session is blocked in a write).
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert!(
        victim.closed().await,
        "a client that reads nothing stayed connected"
    );
}

#[tokio::test]
async fn a_flood_from_one_device_does_not_drop_the_senders_slow_other_device() {
    let app = spawn_app_with(|c| {
        c.write_timeout_secs = 120;
        c.sqlite_synchronous = "normal".into();
        c.send_rate_per_connection = 0;
        c.send_rate_per_user = 0;
    })
    .await;
    app.users(&["mallory", "alice", "bob"]).await;
    let mut mallory = app.device("mallory", "m").await;
    send_large(&mut mallory, "alice", 40).await;
    let mut a1 = app.device("alice", "a1").await;
    let mut a2 = app.device("alice", "a2").await;
    // a2 is slow: the server is blocked writing to it while a1 sends more messages than a
    // per-message queue would hold (each one a notice for a2).
    pull_without_reading(&mut a2, "mallory", 60).await;
    for i in 0..1_100 {
        a1.send_text("bob", &format!("m{i}")).await.unwrap();
    }
    // a2 reads again: its 60 answers, then the notice for bob, then it pulls everything.
    let (mut answers, mut noticed) = (0, false);
    while answers < 60 || !noticed {
        let (cmd, payload) = a2.next_frame().await.expect("a2 stays connected");
        match cmd {
            Command::Sync if CommSyncDl::decode(payload.clone()).unwrap().queue.is_some() => {
                answers += 1
            }
            Command::Notice => {
                let n = CommNotice::decode(payload).unwrap();
                noticed |= n.queue.and_then(|q| q.name).as_deref() == Some("bob");
            }
            _ => {}
        }
    }
    assert_eq!(a2.pull("bob").await.unwrap().len(), 1_100);
}

#[tokio::test]
async fn sends_over_the_connection_rate_are_refused_with_traffic_limit() {
    let app = spawn_app_with(|c| {
        c.send_rate_per_connection = 1;
        c.send_rate_per_user = 1_000;
        c.send_burst = 5;
    })
    .await;
    app.users(&["alice", "bob"]).await;
    let mut a1 = app.device("alice", "a1").await;
    for i in 0..5 {
        a1.send_text("bob", &format!("m{i}")).await.unwrap();
    }
    let refused = a1
        .send_body("bob", text_body("alice", "bob", "one too many"))
        .await
        .unwrap();
    assert_eq!(refused, Err((7, Some("traffic limit".into()))));
    // Another connection of the same user has its own allowance.
    let mut a2 = app.device("alice", "a2").await;
    a2.send_text("bob", "from a2").await.unwrap();
    // The refused message was not stored.
    let mut bob = app.device("bob", "b").await;
    let got = bob.pull("alice").await.unwrap();
    assert_eq!(got.len(), 6);
    assert!(got.iter().all(|m| m.text() != Some("one too many")));
}

#[tokio::test]
async fn sends_over_the_user_rate_are_refused_across_devices() {
    let app = spawn_app_with(|c| {
        c.send_rate_per_connection = 1_000;
        c.send_rate_per_user = 1;
        c.send_burst = 4;
    })
    .await;
    app.users(&["alice", "bob"]).await;
    let mut a1 = app.device("alice", "a1").await;
    let mut a2 = app.device("alice", "a2").await;
    for i in 0..2 {
        a1.send_text("bob", &format!("a1 {i}")).await.unwrap();
        a2.send_text("bob", &format!("a2 {i}")).await.unwrap();
    }
    let refused = a2
        .send_body("bob", text_body("alice", "bob", "over"))
        .await
        .unwrap();
    assert_eq!(refused, Err((7, Some("traffic limit".into()))));
    // Another user is not affected.
    let mut bob = app.device("bob", "b").await;
    bob.send_text("alice", "hi").await.unwrap();
}

#[tokio::test]
async fn beyond_max_connections_the_upgrade_is_answered_503_at_once() {
    let app = spawn_app_with(|c| c.max_connections = 1).await;
    app.users(&["alice"]).await;
    let _squatter = app.device("alice", "a1").await;
    let started = Instant::now();
    let refused = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(format!("ws://{}/websocket", app.addr)),
    )
    .await
    .expect("the upgrade is answered at once, not queued");
    let Err(tungstenite::Error::Http(response)) = refused else {
        panic!("expected an HTTP refusal, got {refused:?}");
    };
    assert_eq!(response.status(), 503);
    let body: serde_json::Value =
        serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
    assert_eq!(body["error"], "service_unavailable", "{body}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_session_is_closed_when_its_token_expires() {
    let app = spawn_app_with(|c| c.token_ttl_secs = 3).await;
    app.users(&["alice"]).await;
    let token = app.token("alice").await;
    let (mut d, status) = Device::login(app.addr, APP_KEY, "alice", &token, "r")
        .await
        .unwrap();
    assert_eq!(status.0, 0);
    let logged_in = Instant::now();
    // No frame for 5 s ends `closed` with false; the expiry is at most 3 s away.
    assert!(d.closed().await, "the session outlived its token");
    assert!(logged_in.elapsed() < Duration::from_secs(8));
    let (_, status) = Device::login(app.addr, APP_KEY, "alice", &token, "r")
        .await
        .unwrap();
    assert_eq!(status, (1, Some("Sorry, token expired".into())));
}
