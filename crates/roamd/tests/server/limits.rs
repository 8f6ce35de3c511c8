//! Limits on what a client sends: names, descriptions, id lists, nicknames, user ids,
//! messages (over REST and msync), and groups per user. Each refusal is an Easemob error.
use roam_protocol::pb::{KeyValue, key_value};
use serde_json::{Value, json};

use crate::{BASE, TestApp, client::http, client::text_body, spawn_app, spawn_app_with};

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    http(
        app.addr,
        method,
        &format!("{BASE}{path}"),
        Some(token),
        body,
    )
    .await
    .unwrap()
}

/// A 400 in Easemob's shape whose description names `what`.
fn refused(status: u16, body: &Value, what: &str) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "illegal_argument", "{body}");
    let why = body["error_description"].as_str().unwrap();
    assert!(why.contains(what), "{why}");
}

#[tokio::test]
async fn group_names_descriptions_and_custom_fields_are_bounded() {
    let app = spawn_app().await;
    app.users(&["alice"]).await;
    let alice = app.token("alice").await;
    let create = |field: &'static str, value: String| {
        let mut body = json!({"groupname": "g", "desc": "d", "public": true});
        body[field] = json!(value);
        call(&app, "POST", "/chatgroups", &alice, Some(body))
    };
    // Easemob's limits are in characters: 128 of them may be 384 bytes.
    let (s, b) = create("groupname", "名".repeat(128)).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = create("groupname", "x".repeat(129)).await;
    refused(s, &b, "groupname");
    let (s, b) = create("groupname", "x".repeat(100_000)).await;
    refused(s, &b, "groupname");
    // A bigger body is refused before it is parsed.
    let (s, b) = create("groupname", "x".repeat(1_000_000)).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (413, Some("request_entity_too_large"))
    );
    let (s, b) = create("desc", "x".repeat(513)).await;
    refused(s, &b, "description");
    let (s, b) = create("custom", "x".repeat(1025)).await;
    refused(s, &b, "custom");
    let (s, b) = call(
        &app,
        "POST",
        "/chatrooms",
        &app.admin_token,
        Some(json!({"name": "x".repeat(129), "owner": "alice"})),
    )
    .await;
    refused(s, &b, "groupname");
}

#[tokio::test]
async fn a_details_query_answers_each_group_once_and_at_most_100() {
    let app = spawn_app().await;
    app.users(&["alice"]).await;
    let alice = app.token("alice").await;
    let (s, b) = call(
        &app,
        "POST",
        "/chatgroups",
        &alice,
        Some(json!({"groupname": "g", "public": true})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let g = b["data"]["groupid"].as_str().unwrap().to_owned();
    let repeated = vec![g.as_str(); 500].join(",");
    let (s, b) = call(
        &app,
        "GET",
        &format!("/chatgroups/{repeated}"),
        &alice,
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["data"].as_array().unwrap().len(),
        1,
        "one answer per group"
    );
    let many: Vec<String> = (0..101).map(|i| format!("{i}")).collect();
    let (s, b) = call(
        &app,
        "GET",
        &format!("/chatgroups/{}", many.join(",")),
        &alice,
        None,
    )
    .await;
    refused(s, &b, "group ids");
}

#[tokio::test]
async fn member_lists_are_bounded() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let members: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let (s, b) = call(
        &app,
        "POST",
        "/chatgroups",
        &app.admin_token,
        Some(json!({"groupname": "g", "owner": "alice", "members": members})),
    )
    .await;
    refused(s, &b, "members");
    // The same user named many times is one member, not a hundred.
    let (s, b) = call(
        &app,
        "POST",
        "/chatgroups",
        &app.admin_token,
        Some(json!({"groupname": "g", "owner": "alice", "members": vec!["bob"; 300]})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let g = b["data"]["groupid"].as_str().unwrap().to_owned();
    let users: Vec<String> = (0..61).map(|i| format!("u{i}")).collect();
    let (s, b) = call(
        &app,
        "DELETE",
        &format!("/chatgroups/{g}/users/{}", users.join(",")),
        &app.admin_token,
        None,
    )
    .await;
    refused(s, &b, "usernames");
}

#[tokio::test]
async fn nicknames_and_user_ids_are_checked_at_registration() {
    let app = spawn_app().await;
    let register = |body: Value| call(&app, "POST", "/users", &app.admin_token, Some(body));
    let (s, b) =
        register(json!({"username": "a", "password": "pw", "nickname": "x".repeat(101)})).await;
    refused(s, &b, "nickname");
    let (s, b) =
        register(json!({"username": "b", "password": "pw", "nickname": "名".repeat(100)})).await;
    assert_eq!(s, 200, "{b}");
    for id in ["..", "."] {
        let (s, b) = register(json!({"username": id, "password": "pw"})).await;
        refused(s, &b, "username");
    }
}

#[tokio::test]
async fn rest_admin_sends_have_the_limits_of_device_sends() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let send = |body: Value| {
        call(
            &app,
            "POST",
            "/messages/users",
            &app.admin_token,
            Some(body),
        )
    };
    let (s, b) = send(json!({"from": "alice", "to": ["bob"], "type": "txt", "body": {"msg": "x".repeat(5 * 1024)}})).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = send(json!({"from": "alice", "to": ["bob"], "type": "txt", "body": {"msg": "x".repeat(5 * 1024 + 1)}})).await;
    refused(s, &b, "message text");
    let (s, b) = send(json!({"from": "alice", "to": ["bob"], "type": "txt", "body": {"msg": "hi"}, "ext": {"k": "x".repeat(60_000)}})).await;
    refused(s, &b, "message");
    // A recipient named 700 times gets the message once (and counts once toward the 600).
    let (s, b) = send(
        json!({"from": "alice", "to": vec!["bob"; 700], "type": "txt", "body": {"msg": "once"}}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let mut bob = app.device("bob", "b").await;
    let texts: Vec<_> = bob
        .pull("alice")
        .await
        .unwrap()
        .iter()
        .filter_map(|m| m.text().map(str::len))
        .collect();
    assert_eq!(texts, [5 * 1024, 4], "the big text, then one \"once\"");
}

#[tokio::test]
async fn a_device_send_with_a_huge_ext_gets_the_size_error() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let mut alice = app.device("alice", "a").await;
    let mut body = text_body("alice", "bob", "hi");
    body.ext.push(KeyValue {
        key: Some("k".into()),
        r#type: Some(7),
        value: Some(key_value::Value::StringValue("x".repeat(60_000))),
    });
    let refused = alice.send_body("bob", body).await.unwrap().unwrap_err();
    assert_eq!(refused, (7, Some("Sorry, data is too large".into())));
    // The connection stays usable.
    alice.send_text("bob", "still here").await.unwrap();
}

#[tokio::test]
async fn groups_per_user_are_bounded_by_the_configuration() {
    let app = spawn_app_with(|c| {
        c.max_groups_per_user = 2;
        c.max_chatrooms_per_user = 1;
    })
    .await;
    app.users(&["alice", "bob"]).await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let create = |token: String, path: &'static str, members: Vec<&'static str>| {
        let app = &app;
        async move {
            call(
                app,
                "POST",
                path,
                &token,
                Some(
                    json!({"groupname": "g", "public": true, "members": members, "owner": "alice"}),
                ),
            )
            .await
        }
    };
    let (s, b) = create(alice.clone(), "/chatgroups", vec!["bob"]).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = create(alice.clone(), "/chatgroups", vec![]).await;
    assert_eq!(s, 200, "{b}");
    // A third group for alice, whether she creates it or is added to it.
    let (s, b) = create(alice.clone(), "/chatgroups", vec![]).await;
    assert_eq!((s, b["error"].as_str()), (403, Some("forbidden_op")), "{b}");
    assert!(
        b["error_description"]
            .as_str()
            .unwrap()
            .contains("too many groups"),
        "{b}"
    );
    let (s, b) = call(
        &app,
        "POST",
        "/chatgroups",
        &bob,
        Some(json!({"groupname": "b", "public": true})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let g = b["data"]["groupid"].as_str().unwrap().to_owned();
    let (s, b) = call(
        &app,
        "POST",
        &format!("/chatgroups/{g}/users/alice"),
        &bob,
        None,
    )
    .await;
    assert_eq!(s, 403, "{b}");
    // Chat rooms count on their own.
    let (s, b) = create(app.admin_token.clone(), "/chatrooms", vec![]).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = create(app.admin_token.clone(), "/chatrooms", vec![]).await;
    assert_eq!(s, 403, "{b}");
}
