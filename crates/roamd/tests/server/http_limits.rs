//! The serve loop's limits, in process: silent and idle sockets are closed, slow requests get
//! 408, WebSockets still upgrade.
use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{BASE, client::http, spawn_app, spawn_app_with};

/// Reads until the server closes the socket; the bytes it sent, or None if it did not close
/// within `limit`.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let until = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(until, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_silent_socket_is_closed_after_the_header_timeout() {
    let app = spawn_app_with(|c| c.http_header_timeout_secs = 1).await;
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let mut half = TcpStream::connect(app.addr).await.unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    for s in [&mut silent, &mut half] {
        let got = read_until_closed(s, Duration::from_secs(20)).await;
        assert!(
            got.is_some(),
            "a socket that never finished its head is still open"
        );
    }
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let app = spawn_app_with(|c| c.http_header_timeout_secs = 1).await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let got = read_until_closed(&mut s, Duration::from_secs(20))
        .await
        .expect("an idle kept-alive connection is still open");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_408_in_json() {
    let app = spawn_app_with(|c| c.http_request_timeout_secs = 1).await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST {BASE}/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"grant_type\""
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let got = read_until_closed(&mut s, Duration::from_secs(20))
        .await
        .expect("a request whose body never came is still open");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"error\":\"request_timeout\""), "{text}");
}

#[tokio::test]
async fn requests_and_websockets_still_work_under_the_limits() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let mut alice = app.device("alice", "web").await;
    let mut bob = app.device("bob", "web").await;
    alice.send_text("bob", "hi").await.unwrap();
    let got = bob.sync_all().await.unwrap();
    assert_eq!(got.len(), 1);
    let (status, _) = http(app.addr, "GET", "/health", None, None).await.unwrap();
    assert_eq!(status, 200);
}
