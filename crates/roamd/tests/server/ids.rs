//! 64-bit ids in JSON. Message ids are above 2^53 (they start with the time in ms), which a
//! JavaScript number or jq rounds: the server writes every id as a string, and takes ids as
//! strings (and as numbers where the SDK sends numbers).
use serde_json::{Value, json};

use crate::{BASE, TestApp, client::http, spawn_app};

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE: u64 = (1 << 53) - 1;

/// Every number in `v` that a JavaScript client would round, with its path.
fn unsafe_numbers(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Number(n) => {
            let safe = n
                .as_u64()
                .map(|u| u <= MAX_SAFE)
                .or_else(|| n.as_i64().map(|i| i.unsigned_abs() <= MAX_SAFE));
            if safe == Some(false) {
                out.push(format!("{path} = {n}"));
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                unsafe_numbers(x, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                unsafe_numbers(x, &format!("{path}.{k}"), out);
            }
        }
        // lastMessage's payload is JSON in a string: the SDK parses it too.
        Value::String(s) if s.starts_with('{') => {
            if let Ok(inner) = serde_json::from_str::<Value>(s) {
                unsafe_numbers(&inner, &format!("{path}(json)"), out);
            }
        }
        _ => {}
    }
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let (s, b) = http(app.addr, "GET", path, Some(token), None)
        .await
        .unwrap();
    assert_eq!(s, 200, "{path}: {b}");
    b
}

#[tokio::test]
async fn no_answer_carries_an_id_as_an_unsafe_number() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let admin = app.admin_token.clone();
    let mut answers = Vec::new();
    let mut alice = app.device("alice", "web").await;
    let id = alice.send_text("bob", "hi").await.unwrap();
    assert!(id > MAX_SAFE, "message ids are above 2^53: {id}");
    let (s, sent) = http(
        app.addr,
        "POST",
        &format!("{BASE}/messages/users"),
        Some(&admin),
        Some(json!({"from": "alice", "to": ["bob"], "type": "txt", "body": {"msg": "x"}})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{sent}");
    assert!(sent["data"]["bob"].is_string(), "{sent}");
    answers.push(("admin send", sent));
    let (s, group) = http(
        app.addr,
        "POST",
        &format!("{BASE}/chatgroups"),
        Some(&admin),
        Some(json!({"groupname": "g", "desc": "d", "owner": "alice", "members": ["bob"], "public": true})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{group}");
    let gid = group["data"]["groupid"].as_str().unwrap().to_owned();
    answers.push(("group create", group));
    let bob = app.token("bob").await;
    for path in [
        format!("{BASE}/sdk/user/bob/user_channels/list?limit=50"),
        format!("{BASE}/users/bob"),
        format!("{BASE}/chatgroups/{gid}"),
        format!("{BASE}/users/bob/joined_chatgroups"),
    ] {
        answers.push(("GET", get(&app, &bob, &path).await));
    }
    let (s, history) = http(
        app.addr,
        "POST",
        &format!("{BASE}/users/bob/messageroaming"),
        Some(&bob),
        Some(json!({"queue": "alice", "pull_number": 10, "is_positive": true})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{history}");
    assert!(history["data"]["next_key"].is_string(), "{history}");
    answers.push(("history", history));
    let mut bad = Vec::new();
    for (what, answer) in &answers {
        unsafe_numbers(answer, what, &mut bad);
    }
    assert!(
        bad.is_empty(),
        "ids as numbers a JavaScript client rounds: {bad:?}"
    );
}

#[tokio::test]
async fn ids_above_2_pow_53_are_taken_as_strings_and_as_exact_numbers() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let mut alice = app.device("alice", "web").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(alice.send_text("bob", &format!("m{n}")).await.unwrap());
    }
    let bob = app.token("bob").await;
    let page_after = |start: Value| {
        let bob = bob.clone();
        let app = &app;
        async move {
            let (s, b) = http(
                app.addr,
                "POST",
                &format!("{BASE}/users/bob/messageroaming"),
                Some(&bob),
                Some(json!({"queue": "alice", "pull_number": 10, "is_positive": true, "start": start})),
            )
            .await
            .unwrap();
            assert_eq!(s, 200, "{b}");
            b["data"]["msgs"].as_array().unwrap().len()
        }
    };
    // Continuing after the first message: the two others, whether the id is a string or an
    // exact JSON number (as a client with 64-bit integers sends it).
    assert_eq!(page_after(json!(ids[0].to_string())).await, 2);
    assert_eq!(page_after(json!(ids[0])).await, 2);
    // A delete by a string id above 2^53 removes exactly that message.
    let (s, b) = http(
        app.addr,
        "DELETE",
        &format!(
            "{BASE}/sdk/message/roaming/chat/user/bob?userId=alice&msgIdList={}&resource=web",
            ids[1]
        ),
        Some(&bob),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    assert_eq!(page_after(json!(ids[0].to_string())).await, 1);
}

#[test]
fn the_check_finds_an_id_written_as_a_number() {
    let mut bad = Vec::new();
    let v = json!({"data": {"bob": 915591013391663104_u64, "ok": 9007199254740991_u64},
                   "meta": {"payload": "{\"id\": 915591013391663104}"}});
    unsafe_numbers(&v, "x", &mut bad);
    assert_eq!(bad.len(), 2, "{bad:?}");
}
