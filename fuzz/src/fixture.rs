//! One in-process roamd shared by every execution of a target: a temp data dir, `normal`
//! fsync (the fuzzer is not testing durability), users `alice` and `bob`, a group of both, and
//! their tokens. Built once, on first use; requests run on its single-threaded runtime.
use std::sync::{Arc, LazyLock};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use roam_gateway::Gateway;
use roamd::{Server, config::Config};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const APP_KEY: &str = "fuzz-org#fuzz-app";
pub const BASE: &str = "/fuzz-org/fuzz-app";
pub const PASSWORD: &str = "pw";

pub struct Fixture {
    pub runtime: tokio::runtime::Runtime,
    pub router: Router,
    pub gateway: Arc<Gateway>,
    pub admin_token: String,
    pub alice_token: String,
    pub bob_token: String,
    pub group_id: String,
    _dir: tempfile::TempDir,
    _server: Server,
}

/// The shared server, built on first use.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: LazyLock<Fixture> = LazyLock::new(build);
    &FIXTURE
}

fn build() -> Fixture {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_owned(),
        app_key: APP_KEY.into(),
        client_id: Some("fuzz-admin".into()),
        client_secret: Some("fuzz-secret".into()),
        open_registration: true,
        sqlite_synchronous: "normal".into(),
        ..Config::default()
    };
    let server = runtime
        .block_on(Server::build(&config))
        .expect("the server builds");
    let router = server.router();
    let call = |method: &str, path: &str, token: Option<&str>, body: Value| {
        let (status, body) = runtime.block_on(request(&router, method, path, token, body));
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body
    };
    let admin_token = call(
        "POST",
        "/token",
        None,
        json!({"grant_type": "client_credentials", "client_id": "fuzz-admin", "client_secret": "fuzz-secret"}),
    )["access_token"]
        .as_str()
        .expect("an admin token")
        .to_owned();
    call(
        "POST",
        "/users",
        Some(&admin_token),
        json!([{"username": "alice", "password": PASSWORD}, {"username": "bob", "password": PASSWORD}]),
    );
    let token = |user: &str| {
        call(
            "POST",
            "/token",
            None,
            json!({"grant_type": "password", "username": user, "password": PASSWORD}),
        )["access_token"]
            .as_str()
            .expect("a user token")
            .to_owned()
    };
    let (alice_token, bob_token) = (token("alice"), token("bob"));
    let group_id = call(
        "POST",
        "/chatgroups",
        Some(&admin_token),
        json!({"groupname": "g", "desc": "d", "owner": "alice", "members": ["bob"], "public": true}),
    )["data"]["groupid"]
        .as_str()
        .expect("a group id")
        .to_owned();
    Fixture {
        gateway: server.gateway(),
        runtime,
        router,
        admin_token,
        alice_token,
        bob_token,
        group_id,
        _dir: dir,
        _server: server,
    }
}

/// One JSON request under [`BASE`]; the status and the body (JSON, or a string if not).
pub async fn request(
    router: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("{BASE}{path}"))
        .header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = req
        .body(Body::from(body.to_string()))
        .expect("a valid request");
    let resp = router.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("a body").to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}
