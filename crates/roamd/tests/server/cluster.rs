//! Cluster mode at roamd's level: NATS in the probes, a clear failure when it is not there,
//! and presence between two nodes over real sockets (the device limit, one session per
//! device). Deliveries between nodes are `roam-cluster`'s tests: they need a shared database,
//! and these two nodes each have their own (the user is registered on both). NATS is at
//! `ROAM_TEST_NATS_URL`, default nats://127.0.0.1:4222.
use std::time::Duration;

use crate::{
    APP_KEY, TestApp,
    client::{Device, http},
    spawn_app_with,
};

pub fn nats_url() -> String {
    std::env::var("ROAM_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

#[tokio::test]
async fn the_probes_report_nats_in_cluster_mode() {
    let app = spawn_app_with(|c| c.nats_url = Some(nats_url())).await;
    let (status, body) = http(app.addr, "GET", "/ready", None, None).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["checks"]["store"]["status"], "ok", "{body}");
    assert_eq!(body["checks"]["nats"]["status"], "ok", "{body}");
    let (status, body) = http(app.addr, "GET", "/health", None, None).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["checks"]["nats"]["status"], "ok", "{body}");
    let (status, text) =
        crate::observability::get_text(app.addr, "/metrics", Some(&app.admin_token)).await;
    assert_eq!(status, 200);
    assert!(text.contains("roam_cluster_nats_up 1"), "{text}");
    assert!(
        text.contains("roam_cluster_messages_dropped_total 0"),
        "{text}"
    );
}

#[tokio::test]
async fn an_empty_nats_url_is_a_single_node() {
    let app = spawn_app_with(|c| c.nats_url = Some(String::new())).await;
    let (_, body) = http(app.addr, "GET", "/ready", None, None).await.unwrap();
    assert!(body["checks"].get("nats").is_none(), "{body}");
}

#[tokio::test]
async fn an_unreachable_nats_stops_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::config(dir.path());
    config.nats_url = Some("nats://127.0.0.1:1".into());
    let err = roamd::Server::build(&config).await.err().unwrap();
    let text = format!("{err:#}");
    assert!(
        text.contains("cannot connect to NATS at nats://127.0.0.1:1"),
        "{text}"
    );
}

async fn two_nodes() -> (TestApp, TestApp) {
    let a = spawn_app_with(|c| {
        c.nats_url = Some(nats_url());
        c.node_id = 1;
    })
    .await;
    let b = spawn_app_with(|c| {
        c.nats_url = Some(nats_url());
        c.node_id = 2;
    })
    .await;
    (a, b)
}

/// A user name no other run of this suite uses (runs may share one NATS).
fn fresh_user() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("c{nanos:x}{:x}", std::process::id())
}

#[tokio::test]
async fn the_device_limit_and_same_device_replacement_hold_across_nodes() {
    let (a, b) = two_nodes().await;
    let user = fresh_user();
    a.users(&[&user]).await;
    b.users(&[&user]).await;
    // The limit is 3 in tests: three devices on node a fill it for node b too.
    let mut r1 = a.device(&user, "r1").await;
    let mut r2 = a.device(&user, "r2").await;
    let _r3 = a.device(&user, "r3").await;
    let token = b.token(&user).await;
    let mut refused = false;
    for _ in 0..50 {
        let (d, status) = Device::login(b.addr, APP_KEY, &user, &token, "r4")
            .await
            .unwrap();
        if status.0 == 13 {
            refused = true;
            break;
        }
        // Not seen yet (presence takes a NATS round trip): leave and try again.
        drop(d);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "node b never counted node a's devices");
    // r1 logging in on node b replaces its session on node a, and only that one.
    let (_moved, status) = Device::login(b.addr, APP_KEY, &user, &token, "r1")
        .await
        .unwrap();
    assert_eq!(status.0, 0, "{status:?}");
    assert!(r1.closed().await, "the old session of r1 stays open");
    assert!(
        r2.unread().await.is_ok(),
        "the user's other device was closed"
    );
}
