//! REST: tokens, users, errors in Easemob's shapes.
use serde_json::json;

use crate::{BASE, client::http, spawn_app};

#[tokio::test]
async fn users_are_case_insensitive_and_unique() {
    let app = spawn_app().await;
    let t = Some(app.admin_token.as_str());
    let (s, body) = http(
        app.addr,
        "POST",
        &format!("{BASE}/users"),
        t,
        Some(json!({"username": "Carol", "password": "pw"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(body["entities"][0]["username"], "carol");
    let (s, body) = http(
        app.addr,
        "POST",
        &format!("{BASE}/users"),
        t,
        Some(json!({"username": "CAROL", "password": "x"})),
    )
    .await
    .unwrap();
    assert_eq!(
        (s, body["error"].as_str()),
        (400, Some("duplicate_unique_property_exists"))
    );
    // A batch with one duplicate creates nobody.
    let (s, _) = http(app.addr, "POST", &format!("{BASE}/users"), t, Some(json!([{"username": "dave", "password": "pw"}, {"username": "carol", "password": "pw"}]))).await.unwrap();
    assert_eq!(s, 400);
    let (s, _) = http(app.addr, "GET", &format!("{BASE}/users/dave"), t, None)
        .await
        .unwrap();
    assert_eq!(s, 404);
    // Mixed case logs in to the same user.
    let (s, body) = http(
        app.addr,
        "POST",
        &format!("{BASE}/token"),
        None,
        Some(json!({"grant_type": "password", "username": "CaRoL", "password": "pw"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(body["user"]["username"], "carol");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn bad_input_gets_easemob_errors() {
    let app = spawn_app().await;
    let t = Some(app.admin_token.as_str());
    for bad in ["a b", "x@y", "", &"z".repeat(65)] {
        let (s, body) = http(
            app.addr,
            "POST",
            &format!("{BASE}/users"),
            t,
            Some(json!({"username": bad, "password": "pw"})),
        )
        .await
        .unwrap();
        assert_eq!(
            (s, body["error"].as_str()),
            (400, Some("illegal_argument")),
            "{bad:?}"
        );
    }
    let (s, body) = http(
        app.addr,
        "POST",
        &format!("{BASE}/users"),
        t,
        Some(json!({"name": "x"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 400);
    assert!(body["error_description"].is_string());
    // No token, a user token, a bogus token.
    let (s, _) = http(
        app.addr,
        "POST",
        &format!("{BASE}/users"),
        None,
        Some(json!({"username": "u1", "password": "pw"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 401);
    let (s, body) = http(
        app.addr,
        "GET",
        &format!("{BASE}/users/u1"),
        Some("bogus"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (s, body["error_description"].as_str()),
        (401, Some("Unable to authenticate (OAuth)"))
    );
    // Another org/app.
    let (s, body) = http(
        app.addr,
        "POST",
        "/other/app/token",
        None,
        Some(json!({"grant_type": "password"})),
    )
    .await
    .unwrap();
    assert_eq!(
        (s, body["error"].as_str()),
        (404, Some("organization_application_not_found"))
    );
    // Wrong secret, wrong password, unknown grant.
    let (s, _) = http(app.addr, "POST", &format!("{BASE}/token"), None, Some(json!({"grant_type": "client_credentials", "client_id": "test-admin", "client_secret": "no"}))).await.unwrap();
    assert_eq!(s, 400);
    app.users(&["alice"]).await;
    let (s, body) = http(
        app.addr,
        "POST",
        &format!("{BASE}/token"),
        None,
        Some(json!({"grant_type": "password", "username": "alice", "password": "nope"})),
    )
    .await
    .unwrap();
    assert_eq!(
        (s, body["error_description"].as_str()),
        (400, Some("invalid password"))
    );
    let (s, _) = http(
        app.addr,
        "POST",
        &format!("{BASE}/token"),
        None,
        Some(json!({"grant_type": "magic"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 400);
}

#[tokio::test]
async fn users_see_only_themselves_and_admin_deletes() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let alice = app.token("alice").await;
    let (s, _) = http(
        app.addr,
        "GET",
        &format!("{BASE}/users/alice"),
        Some(&alice),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    let (s, _) = http(
        app.addr,
        "GET",
        &format!("{BASE}/users/bob"),
        Some(&alice),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 403);
    let (s, _) = http(
        app.addr,
        "DELETE",
        &format!("{BASE}/users/bob"),
        Some(&alice),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 403);
    let (s, body) = http(
        app.addr,
        "DELETE",
        &format!("{BASE}/users/BOB"),
        Some(&app.admin_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (s, body["entities"][0]["username"].as_str()),
        (200, Some("bob"))
    );
    let (s, _) = http(
        app.addr,
        "GET",
        &format!("{BASE}/users/bob"),
        Some(&app.admin_token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 404);
}

#[tokio::test]
async fn password_change_voids_tokens_and_kicks_devices() {
    let app = spawn_app().await;
    app.users(&["alice"]).await;
    let old = app.token("alice").await;
    let mut device = app.device("alice", "phone").await;
    let (s, _) = http(
        app.addr,
        "PUT",
        &format!("{BASE}/users/alice/password"),
        Some(&app.admin_token),
        Some(json!({"newpassword": "pw2"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert!(device.closed().await, "the device was not kicked");
    let (s, _) = http(
        app.addr,
        "GET",
        &format!("{BASE}/users/alice"),
        Some(&old),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 401);
    let (s, _) = http(
        app.addr,
        "POST",
        &format!("{BASE}/token"),
        None,
        Some(json!({"grant_type": "password", "username": "alice", "password": "pw2"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
}

#[tokio::test]
async fn cors_preflight_allows_the_sdk_headers() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let req = format!(
        "OPTIONS {BASE}/token HTTP/1.1\r\nHost: x\r\nOrigin: http://app.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization,content-type\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let out = out.to_ascii_lowercase();
    assert!(out.starts_with("http/1.1 200"), "{out}");
    assert!(
        out.contains("access-control-allow-origin: http://app.example"),
        "{out}"
    );
    assert!(
        out.contains("authorization") && out.contains("content-type"),
        "{out}"
    );
}

#[tokio::test]
async fn health_answers_without_a_token() {
    let app = spawn_app().await;
    let (s, b) = http(app.addr, "GET", "/health", None, None).await.unwrap();
    assert_eq!((s, b), (200, json!({"status": "ok"})));
}
