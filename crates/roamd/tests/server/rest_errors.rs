//! Errors the HTTP layer answers by itself (unknown route, wrong method, undecodable path,
//! oversize body) come in Easemob's JSON error shape with the right status, as every other
//! error does: the SDK reads any answer as JSON.
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{BASE, spawn_app};

/// Sends `head` (a request line and headers, without the blank line) and `body`; answers the
/// status, the Content-Type and the body parsed as JSON (panics if it is not).
async fn raw(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> (u16, String, Value) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{head}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    // The server may answer (413) before it has read the whole body.
    let _ = s.write_all(body).await;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, content_type, json)
}

fn easemob_error(status: u16, content_type: &str, body: &Value, error: &str) {
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert_eq!(body["error"], error, "{status} {body}");
    assert!(body["error_description"].is_string(), "{body}");
    assert!(body["timestamp"].is_u64(), "{body}");
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let app = spawn_app().await;
    let (s, ct, b) = raw(app.addr, &format!("PATCH {BASE}/users/alice HTTP/1.1"), b"").await;
    assert_eq!(s, 405);
    easemob_error(s, &ct, &b, "method_not_allowed");
    let (s, ct, b) = raw(app.addr, &format!("GET {BASE}/token HTTP/1.1"), b"").await;
    assert_eq!(s, 405);
    easemob_error(s, &ct, &b, "method_not_allowed");
}

#[tokio::test]
async fn an_undecodable_path_is_a_json_400() {
    let app = spawn_app().await;
    let head = format!(
        "GET {BASE}/users/%ff HTTP/1.1\r\nAuthorization: Bearer {}",
        app.admin_token
    );
    let (s, ct, b) = raw(app.addr, &head, b"").await;
    assert_eq!(s, 400);
    easemob_error(s, &ct, &b, "illegal_argument");
}

#[tokio::test]
async fn an_oversize_body_is_a_json_413() {
    let app = spawn_app().await;
    let body = format!(r#"{{"username":"a","password":"{}"}}"#, "x".repeat(200_000));
    let head = format!(
        "POST {BASE}/users HTTP/1.1\r\nContent-Type: application/json\r\nAuthorization: Bearer {}",
        app.admin_token
    );
    let (s, ct, b) = raw(app.addr, &head, body.as_bytes()).await;
    assert_eq!(s, 413);
    easemob_error(s, &ct, &b, "request_entity_too_large");
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    for path in [format!("{BASE}/no/such/thing"), "/nowhere".into()] {
        let (s, ct, b) = raw(app.addr, &format!("GET {path} HTTP/1.1"), b"").await;
        assert_eq!(s, 404, "{path}");
        easemob_error(s, &ct, &b, "service_resource_not_found");
    }
}
