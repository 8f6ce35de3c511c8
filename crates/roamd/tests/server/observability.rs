//! `/metrics`, `/ready` and `/health`: who may scrape, and that the figures follow traffic.
use serde_json::json;

use crate::{BASE, client::http, spawn_app};

/// A GET whose answer is text (the exposition format is not JSON): status and body.
pub(crate) async fn get_text(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_owned())
}

/// The value of the sample whose name and labels are exactly `series` (0 if absent).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            (name == series).then(|| value.parse().unwrap())
        })
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_are_for_the_admin_only() {
    let app = spawn_app().await;
    app.users(&["alice"]).await;
    let alice = app.token("alice").await;
    assert_eq!(get_text(app.addr, "/metrics", None).await.0, 401);
    assert_eq!(get_text(app.addr, "/metrics", Some("nope")).await.0, 401);
    assert_eq!(get_text(app.addr, "/metrics", Some(&alice)).await.0, 403);
    let (status, text) = get_text(app.addr, "/metrics", Some(&app.admin_token)).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("# TYPE roam_devices_online gauge"), "{text}");
}

#[tokio::test]
async fn metrics_follow_traffic() {
    let app = spawn_app().await;
    let scrape = || async {
        let (status, text) = get_text(app.addr, "/metrics", Some(&app.admin_token)).await;
        assert_eq!(status, 200, "{text}");
        text
    };
    let before = scrape().await;
    app.users(&["alice", "bob"]).await;
    let mut a = app.device("alice", "web_1").await;
    let mut b = app.device("bob", "web_1").await;
    a.send_text("bob", "hello").await.unwrap();
    assert_eq!(b.pull("alice").await.unwrap().len(), 1);
    let (status, _) = http(
        app.addr,
        "GET",
        &format!("{BASE}/users/nobody"),
        Some(&app.admin_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 404);
    let after = scrape().await;

    let moved = |series: &str| sample(&after, series) - sample(&before, series);
    assert_eq!(
        moved(r#"roam_messages_received_total{kind="chat"}"#),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved(r#"roam_messages_delivered_total{kind="chat"}"#),
        1.0,
        "{after}"
    );
    assert_eq!(sample(&after, "roam_devices_online"), 2.0, "{after}");
    assert_eq!(sample(&after, "roam_websocket_connections"), 2.0, "{after}");
    // Registering, logging in and storing the message each went through the writer.
    assert!(
        moved("roam_sqlite_writer_batch_size_count") >= 3.0,
        "{after}"
    );
    assert!(
        moved("roam_sqlite_writer_commit_seconds_count") >= 3.0,
        "{after}"
    );
    // Latency by matched route (the pattern, not the user's path), errors by status.
    assert_eq!(
        moved(
            r#"roam_http_request_duration_seconds_count{method="POST",route="/{org}/{app}/users"}"#
        ),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved(r#"roam_http_errors_total{route="/{org}/{app}/users/{username}",status="404"}"#),
        1.0,
        "{after}"
    );
    assert!(
        !after.contains("nobody"),
        "raw paths never become labels: {after}"
    );

    drop((a, b));
}

#[tokio::test]
async fn ready_reports_each_dependency() {
    let app = spawn_app().await;
    let (status, body) = http(app.addr, "GET", "/ready", None, None).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["checks"]["store"]["status"], "ok");
    assert!(body["checks"]["store"]["latency_ms"].is_number(), "{body}");
    // /health keeps its contract.
    let (s, b) = http(app.addr, "GET", "/health", None, None).await.unwrap();
    assert_eq!((s, b), (200, json!({"status": "ok"})));
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_of_this_app() {
    let app = spawn_app().await;
    let (status, doc) = http(app.addr, "GET", "/openapi.json", None, None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    for route in roam_rest::routes::table() {
        let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} undocumented",
            route.method,
            route.path
        );
        let org = op["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "org"))
            .unwrap();
        assert_eq!(org["schema"]["enum"], json!(["test-org"]), "{}", route.path);
    }
    for probe in ["/health", "/ready", "/openapi.json"] {
        assert!(doc["paths"][probe]["get"].is_object(), "{probe}");
    }
}
