//! `roam admin …` against a real roamd: users, groups and members, sending as the admin, a
//! user's conversations and history, and the export of one user's data.
use std::collections::BTreeMap;

use serde_json::Value;

use super::{Run, bare, conversation_ids, id_of, json, message_ids, ok, roam_bin, run_command};
use crate::{TestApp, spawn_app};

/// `roam --server … admin --client-id … --client-secret … <args>`.
async fn admin_run(app: &TestApp, secret: &str, args: &[&str]) -> Run {
    let mut cmd = bare(&roam_bin());
    cmd.args(["--server", &app.addr.to_string(), "admin"])
        .args(["--client-id", "test-admin", "--client-secret", secret])
        .args(args);
    run_command(cmd).await
}

/// Runs an admin command, expects success, answers stdout.
async fn admin(app: &TestApp, args: &[&str]) -> String {
    let r = admin_run(app, "test-secret", args).await;
    assert_eq!(
        r.code,
        Some(0),
        "roam admin {args:?}:\n{}{}",
        r.stdout,
        r.stderr
    );
    r.stdout
}

/// An admin command with `--json`: each line parsed.
async fn admin_json(app: &TestApp, args: &[&str]) -> Vec<Value> {
    let mut args = args.to_vec();
    args.push("--json");
    parse_lines(&admin(app, &args).await)
}

fn parse_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[tokio::test]
async fn users_through_the_admin_cli() {
    let app = spawn_app().await;
    let r = admin_run(&app, "wrong", &["user", "list"]).await;
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("wrong client id or client secret"),
        "{}",
        r.stderr
    );

    let created = admin_json(
        &app,
        &["user", "create", "alice", "pw1", "--nickname", "Al"],
    )
    .await;
    assert_eq!(created[0]["username"], "alice");
    assert_eq!(created[0]["nickname"], "Al");
    admin(&app, &["user", "create", "bob", "pw"]).await;
    let r = admin_run(&app, "test-secret", &["user", "create", "bob", "pw"]).await;
    assert_eq!(r.code, Some(1), "a second bob: {}{}", r.stdout, r.stderr);

    // 120 users: more than one page of the list.
    let names: Vec<String> = (0..118).map(|i| format!("u{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    for chunk in refs.chunks(59) {
        app.users(chunk).await;
    }
    let listed = admin_json(&app, &["user", "list"]).await;
    let listed: Vec<&str> = listed
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 120, "{listed:?}");
    assert_eq!(&listed[..2], ["alice", "bob"]);
    assert_eq!(listed[119], "u117");
    let table = admin(&app, &["user", "list"]).await;
    assert!(table.starts_with("USER "), "{table}");

    let shown = admin_json(&app, &["user", "show", "alice"]).await;
    assert_eq!(shown[0]["nickname"], "Al");

    // A new password: the old one no longer logs in, the new one does.
    admin(&app, &["user", "password", "alice", "pw2"]).await;
    let r = super::run(&app, "alice", "pw1", &["conversations"]).await;
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    let r = super::run(&app, "alice", "pw2", &["conversations"]).await;
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);

    admin(&app, &["user", "delete", "bob"]).await;
    let r = admin_run(&app, "test-secret", &["user", "show", "bob"]).await;
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("not found"), "{}", r.stderr);
}

#[tokio::test]
async fn groups_members_and_sending_as_the_admin() {
    let app = spawn_app().await;
    app.users(&["alice", "bob", "carol"]).await;
    let created = admin_json(
        &app,
        &[
            "group",
            "create",
            "team",
            "--owner",
            "alice",
            "--members",
            "bob",
        ],
    )
    .await;
    let id = created[0]["id"].as_str().unwrap().to_owned();
    let listed = admin_json(&app, &["group", "list"]).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        (listed[0]["id"].as_str(), listed[0]["members"].as_u64()),
        (Some(id.as_str()), Some(2))
    );

    admin(&app, &["group", "add", &id, "carol"]).await;
    let shown = admin_json(&app, &["group", "show", &id]).await;
    let roles: BTreeMap<&str, &str> = shown[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        BTreeMap::from([("alice", "owner"), ("bob", "member"), ("carol", "member")])
    );

    // Sent as the admin: to a user, and to the group; both land in the history.
    let sent = admin_json(&app, &["send", "carol", "welcome"]).await;
    let to_carol = id_of(&sent[0]["id"]);
    let to_group: u64 = admin(&app, &["send", &id, "maintenance at 6", "--group"])
        .await
        .trim()
        .parse()
        .unwrap();
    let history = json(&app, "carol", &["history", "admin"]).await;
    assert_eq!(message_ids(&history), [to_carol]);
    let history = json(&app, "bob", &["history", &id, "--group"]).await;
    assert_eq!(message_ids(&history), [to_group]);

    admin(&app, &["group", "remove", &id, "carol"]).await;
    let r = admin_run(&app, "test-secret", &["group", "remove", &id, "carol"]).await;
    assert_eq!(
        r.code,
        Some(1),
        "not a member any more: {}{}",
        r.stdout,
        r.stderr
    );
    let shown = admin_json(&app, &["group", "show", &id]).await;
    assert_eq!(shown[0]["members"].as_array().unwrap().len(), 2);

    admin(&app, &["group", "destroy", &id]).await;
    let r = admin_run(&app, "test-secret", &["group", "show", &id]).await;
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(admin_json(&app, &["group", "list"]).await.is_empty());
}

#[tokio::test]
async fn a_users_conversations_and_history_as_the_admin() {
    let app = spawn_app().await;
    app.users(&["alice", "bob", "carol"]).await;
    let first: u64 = ok(&app, "alice", &["send", "bob", "one"])
        .await
        .trim()
        .parse()
        .unwrap();
    let second: u64 = ok(&app, "bob", &["send", "alice", "two"])
        .await
        .trim()
        .parse()
        .unwrap();
    ok(&app, "alice", &["send", "carol", "three"]).await;

    let pages = admin_json(&app, &["conversations", "alice"]).await;
    assert_eq!(conversation_ids(&pages), ["carol", "bob"]);
    let history = admin_json(&app, &["history", "alice", "bob", "--down"]).await;
    assert_eq!(message_ids(&history), [first, second]);
    let table = admin(&app, &["history", "alice", "bob"]).await;
    assert!(table.contains("bob") && table.contains("two"), "{table}");
}

#[tokio::test]
async fn export_holds_a_users_profile_conversations_history_pins_and_marks() {
    let app = spawn_app().await;
    app.users(&["alice", "bob", "carol", "dave"]).await;
    let created = admin_json(
        &app,
        &[
            "group",
            "create",
            "team",
            "--owner",
            "carol",
            "--members",
            "alice",
        ],
    )
    .await;
    let group = created[0]["id"].as_str().unwrap().to_owned();

    // 120 messages with bob (more than two history pages), one with carol, two in the group;
    // one to bob deleted by alice; bob pinned, carol marked 3 and 7.
    let mut with_bob = Vec::new();
    for i in 0..120 {
        let (from, to) = if i % 2 == 0 {
            ("alice", "bob")
        } else {
            ("bob", "alice")
        };
        let id: u64 = ok(&app, from, &["send", to, &format!("m{i}")])
            .await
            .trim()
            .parse()
            .unwrap();
        with_bob.push(id);
    }
    let deleted = with_bob.remove(10);
    ok(
        &app,
        "alice",
        &["delete-messages", "bob", "--ids", &deleted.to_string()],
    )
    .await;
    ok(&app, "carol", &["send", "alice", "hi alice"]).await;
    ok(&app, "carol", &["send", &group, "g1", "--group"]).await;
    ok(&app, "alice", &["send", &group, "g2", "--group"]).await;
    ok(&app, "alice", &["pin", "bob"]).await;
    ok(&app, "alice", &["mark", "carol", "3"]).await;
    ok(&app, "alice", &["mark", "carol", "7"]).await;
    // Others' conversations are not alice's data.
    ok(&app, "dave", &["send", "bob", "not alice's"]).await;

    let out = admin(&app, &["export", "alice"]).await;
    let records = parse_lines(&out);
    let of =
        |kind: &str| -> Vec<&Value> { records.iter().filter(|r| r["record"] == kind).collect() };
    assert_eq!(records[0]["record"], "profile");
    assert_eq!(records[0]["username"], "alice");
    let end = records.last().unwrap();
    assert_eq!(end["record"], "end");

    let conversations = of("conversation");
    let by_id: BTreeMap<&str, &Value> = conversations
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), *c))
        .collect();
    let mut expected = vec!["bob", "carol", group.as_str()];
    expected.sort_unstable();
    assert_eq!(by_id.keys().copied().collect::<Vec<_>>(), expected);
    assert_eq!(by_id["bob"]["pinned"], true);
    assert_eq!(by_id["carol"]["pinned"], false);
    assert_eq!(by_id["carol"]["marks"], serde_json::json!([3, 7]));
    assert_eq!(by_id[group.as_str()]["chat_type"], "group");

    let messages = of("message");
    let ids_with = |peer: &str| -> Vec<u64> {
        messages
            .iter()
            .filter(|m| m["conversation"] == peer)
            .map(|m| id_of(&m["id"]))
            .collect()
    };
    // Oldest first, all pages, without what alice deleted.
    assert_eq!(ids_with("bob"), with_bob);
    assert_eq!(ids_with("carol").len(), 1);
    let texts: Vec<&str> = messages
        .iter()
        .filter(|m| m["conversation"] == group.as_str())
        .map(|m| m["body"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["g1", "g2"]);
    assert!(!out.contains("not alice's"));
    assert_eq!(end["messages"], 119 + 1 + 2);
    assert_eq!(end["conversations"], 3);
    assert_eq!(records.len(), 1 + 3 + 122 + 1);

    let r = admin_run(&app, "test-secret", &["export", "nobody"]).await;
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// `GET /users`, the route under `roam admin user list`: admin only, paged by a cursor.
#[tokio::test]
async fn the_user_list_route_is_admin_only_and_paged() {
    use crate::{BASE, client::http};
    let app = spawn_app().await;
    app.users(&["carol", "alice", "bob"]).await;
    let get = |query: &'static str, token: Option<String>| {
        let addr = app.addr;
        async move {
            http(
                addr,
                "GET",
                &format!("{BASE}/users{query}"),
                token.as_deref(),
                None,
            )
            .await
            .unwrap()
        }
    };
    let (status, _) = get("", None).await;
    assert_eq!(status, 401);
    let (status, body) = get("", Some(app.token("alice").await)).await;
    assert_eq!(status, 403, "{body}");
    for bad in ["?limit=0", "?limit=101", "?limit=x"] {
        let (status, body) = get(bad, Some(app.admin_token.clone())).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, body) = get("?limit=2", Some(app.admin_token.clone())).await;
    assert_eq!(status, 200, "{body}");
    let names = |b: &Value| -> Vec<String> {
        b["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&body), ["alice", "bob"]);
    assert_eq!(body["cursor"], "bob");
    let (_, body) = get("?limit=2&cursor=bob", Some(app.admin_token.clone())).await;
    assert_eq!(names(&body), ["carol"]);
    assert!(body.get("cursor").is_none(), "{body}");
}
