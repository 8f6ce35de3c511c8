//! Cluster mode at roamd's level: NATS in the probes, and a clear failure when it is not
//! there. (Deliveries between nodes are `roam-cluster`'s tests: two nodes here would need a
//! shared database.) NATS is at `ROAM_TEST_NATS_URL`, default nats://127.0.0.1:4222.
use crate::{client::http, spawn_app_with};

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
