//! What a first run of `roam` tripped over (issue 15, points 4 and 5): ids that `jq` rounds,
//! a delete of nothing reported as done, an unknown user reported as a wrong password,
//! errors printed twice, `host:port` refused as a server, and the SDK's quickstart example
//! stopping at the first event that is not a message.
use std::{path::Path, process::Stdio};

use super::{
    Running, bare, id_of, json, lines, message_ids, next_line, ok, roam_bin, run, run_command,
};
use crate::spawn_app;

#[tokio::test]
async fn ids_in_json_output_are_strings() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let sent = json(&app, "alice", &["send", "bob", "hi"]).await;
    assert!(sent[0]["id"].is_string(), "{sent:?}");
    let id = id_of(&sent[0]["id"]);

    let history = json(&app, "alice", &["history", "bob", "--page-size", "1"]).await;
    assert_eq!(message_ids(&history), [id]);
    // The cursor too (null on the last page).
    let cursor = &history[0]["cursor"];
    assert!(cursor.is_string() || cursor.is_null(), "{history:?}");
    let pages = json(&app, "alice", &["conversations"]).await;
    assert_eq!(
        id_of(&pages[0]["conversations"][0]["last_message"]["id"]),
        id
    );
}

#[tokio::test]
async fn deleting_ids_that_match_nothing_is_not_reported_as_done() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let first = ok(&app, "alice", &["send", "bob", "one"]).await;
    let second = ok(&app, "alice", &["send", "bob", "two"]).await;
    let (first, second) = (first.trim(), second.trim());
    let unknown = "915591013391663104";

    // Only an id that matches nothing: exit 1, nothing on stdout, nothing deleted.
    let r = run(
        &app,
        "alice",
        "pw",
        &["delete-messages", "bob", "--ids", unknown],
    )
    .await;
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.contains(&format!("no message {unknown}")) && r.stderr.contains("nothing deleted"),
        "{}",
        r.stderr
    );
    let history = json(&app, "alice", &["history", "bob"]).await;
    assert_eq!(message_ids(&history).len(), 2);

    // A real id and an unknown one: the real one goes and is reported, the unknown one is
    // named, exit 1.
    let ids = format!("{first},{unknown}");
    let r = run(
        &app,
        "alice",
        "pw",
        &["delete-messages", "bob", "--ids", &ids],
    )
    .await;
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout.trim(),
        format!("deleted 1 message(s) with bob: {first}")
    );
    assert!(
        r.stderr.contains(&format!("no message {unknown}")),
        "{}",
        r.stderr
    );
    let history = json(&app, "alice", &["history", "bob"]).await;
    assert_eq!(message_ids(&history), [second.parse::<u64>().unwrap()]);

    // An id deleted already matches nothing any more.
    let r = run(
        &app,
        "alice",
        "pw",
        &["delete-messages", "bob", "--ids", first],
    )
    .await;
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);

    // All found: exit 0, the ids reported (as strings with --json).
    let done = json(&app, "alice", &["delete-messages", "bob", "--ids", second]).await;
    assert_eq!(done[0]["deleted"], serde_json::json!([second]));

    // By time: nothing at or before 1 ms.
    let r = run(
        &app,
        "alice",
        "pw",
        &["delete-messages", "bob", "--before", "1"],
    )
    .await;
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("nothing deleted"), "{}", r.stderr);
}

#[tokio::test]
async fn a_refused_login_says_unknown_user_or_wrong_password() {
    let app = spawn_app().await;
    app.users(&["alice"]).await;
    for (user, password) in [("alice", "wrong"), ("nobody", "pw")] {
        let r = run(&app, user, password, &["conversations"]).await;
        assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("unknown user or wrong password"),
            "{user}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("invalid password"), "{}", r.stderr);
    }
}

#[tokio::test]
async fn an_error_is_printed_once_on_one_line() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    ok(&app, "alice", &["send", "bob", "hi"]).await;
    let r = run(&app, "alice", "pw", &["mark", "bob", "25"]).await;
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert_eq!(
        r.stderr.matches("marks are 0 to 19, got 25").count(),
        1,
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn the_server_is_given_as_host_port_or_a_url_of_any_scheme() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    ok(&app, "alice", &["send", "bob", "hi"]).await;
    for server in [
        app.addr.to_string(),
        format!("http://{}/", app.addr),
        format!("ws://{}", app.addr),
    ] {
        let mut cmd = bare(&roam_bin());
        cmd.args(["--server", &server, "--user", "alice", "--password", "pw"])
            .args(["send", "bob", "again"]);
        let r = run_command(cmd).await;
        assert_eq!(r.code, Some(0), "{server}: {}{}", r.stdout, r.stderr);
    }
}

/// `target/<profile>/examples/quickstart`, built by `cargo build --workspace --all-targets`.
fn quickstart_bin() -> std::path::PathBuf {
    let roam = roam_bin();
    let bin = roam
        .parent()
        .map(|d| {
            d.join("examples")
                .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX))
        })
        .expect("the target directory");
    assert!(
        bin.is_file(),
        "the quickstart example is not at {}: build it with `cargo build --workspace --all-targets`",
        bin.display()
    );
    bin
}

#[tokio::test]
async fn the_quickstart_example_prints_messages_after_other_events() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let mut cmd = bare(Path::new(&quickstart_bin()));
    // (`bare` adds `--app-key`, which the example does not read: its settings are variables.)
    let cmd = cmd
        .env_clear()
        .env("ROAM_SERVER", format!("http://{}", app.addr))
        .env("ROAM_APP_KEY", crate::APP_KEY)
        .env("ROAM_USER", "alice")
        .env("ROAM_PASSWORD", "pw")
        .env("ROAM_PEER", "bob")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut example = Running(cmd.spawn().expect("the example starts"));
    let mut stdout = lines(example.0.stdout.take().unwrap());
    loop {
        let line = next_line(&mut stdout).await;
        if line.ends_with("messages with bob") {
            break;
        }
    }
    // bob reads the conversation: alice hears a conversation read ack, not a message.
    ok(&app, "bob", &["read", "alice"]).await;
    let line = next_line(&mut stdout).await;
    assert!(line.starts_with("(event: ChannelAck"), "{line}");
    // The example is still listening.
    ok(&app, "bob", &["send", "alice", "after the ack"]).await;
    let line = next_line(&mut stdout).await;
    assert_eq!(line, "bob: Text(\"after the ack\")");
}
