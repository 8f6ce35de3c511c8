//! The `roam` terminal client (crates/cli) against a real roamd, run as a subprocess the way
//! a user or a script runs it. The binary is the one `cargo build --workspace` put next to
//! this test's directory (scripts/test.sh builds everything before testing).
use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::{APP_KEY, TestApp, spawn_app};

mod admin;
mod fixes;

/// `target/<profile>/roam`: the test runs from `target/<profile>/deps/`.
fn roam_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("the target directory")
        .join(format!("roam{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the roam binary is not at {}: build it first with `cargo build --workspace --all-targets` \
         (scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// `roam --app-key …` with no `ROAM_*` variables from the environment, and nothing else.
fn bare(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    for var in [
        "ROAM_SERVER",
        "ROAM_APP_KEY",
        "ROAM_USER",
        "ROAM_PASSWORD",
        "ROAM_TOKEN",
        "ROAM_CLIENT_ID",
        "ROAM_CLIENT_SECRET",
        "ROAM_PEER",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(["--app-key", APP_KEY]);
    cmd
}

/// `roam --server … --app-key … --user <user> --password <password> <args>`, with no
/// `ROAM_*` variables from the environment.
fn command(app: &TestApp, user: &str, password: &str, args: &[&str]) -> Command {
    let mut cmd = bare(&roam_bin());
    cmd.args(["--server", &format!("http://{}", app.addr)])
        .args(["--user", user, "--password", password])
        .args(args);
    cmd
}

pub(super) struct Run {
    pub(super) code: Option<i32>,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

/// Runs `roam` to its end (on a blocking thread: the server runs on this test's runtime).
async fn run(app: &TestApp, user: &str, password: &str, args: &[&str]) -> Run {
    run_command(command(app, user, password, args)).await
}

/// Runs a prepared command to its end (on a blocking thread).
async fn run_command(mut cmd: Command) -> Run {
    let args = format!("{:?}", cmd.get_args().collect::<Vec<_>>());
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || cmd.output()),
    )
    .await
    .unwrap_or_else(|_| panic!("roam {args:?} ran for 30 s"))
    .unwrap()
    .expect("roam starts");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `roam` as `user` (password "pw"), expects success, and answers its stdout.
async fn ok(app: &TestApp, user: &str, args: &[&str]) -> String {
    let r = run(app, user, "pw", args).await;
    assert_eq!(
        r.code,
        Some(0),
        "roam {args:?} failed:\n{}{}",
        r.stdout,
        r.stderr
    );
    r.stdout
}

/// Each stdout line as JSON.
async fn json(app: &TestApp, user: &str, args: &[&str]) -> Vec<Value> {
    let mut args = args.to_vec();
    args.push("--json");
    ok(app, user, &args)
        .await
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The conversation ids of JSON conversation pages.
fn conversation_ids(pages: &[Value]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| p["conversations"].as_array().unwrap())
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A message id as the CLI writes it in JSON: a string of digits (ids pass 2^53, past what
/// JavaScript numbers and `jq` hold exactly).
fn id_of(v: &Value) -> u64 {
    v.as_str()
        .unwrap_or_else(|| panic!("an id is a JSON string: {v}"))
        .parse()
        .unwrap_or_else(|e| panic!("an id is digits ({e}): {v}"))
}

/// The message ids of one JSON history page.
fn message_ids(pages: &[Value]) -> Vec<u64> {
    assert_eq!(pages.len(), 1, "{pages:?}");
    pages[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| id_of(&m["id"]))
        .collect()
}

#[tokio::test]
async fn send_list_history_pin_and_delete_through_the_cli() {
    let app = spawn_app().await;
    app.users(&["alice", "bob", "carol"]).await;

    // `send` prints the server id.
    let first: u64 = ok(&app, "alice", &["send", "bob", "hello from the cli"])
        .await
        .trim()
        .parse()
        .expect("send prints the id");
    let second = json(&app, "alice", &["send", "bob", "second"]).await;
    let second = id_of(&second[0]["id"]);
    assert!(second > first);
    ok(&app, "alice", &["send", "carol", "hi carol"]).await;

    // The list shows both conversations, newest first, with the last message.
    let pages = json(&app, "alice", &["conversations"]).await;
    assert_eq!(conversation_ids(&pages), ["carol", "bob"]);
    let bob = &pages[0]["conversations"][1];
    assert_eq!(bob["chat_type"], "single");
    assert_eq!(id_of(&bob["last_message"]["id"]), second);
    assert_eq!(bob["last_message"]["body"]["text"], "second");
    // Page by page: one conversation per page, two pages.
    let pages = json(
        &app,
        "alice",
        &["conversations", "--page-size", "1", "--all-pages"],
    )
    .await;
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert_eq!(conversation_ids(&pages), ["carol", "bob"]);
    // Readable: a table with a header.
    let table = ok(&app, "alice", &["conversations"]).await;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID "), "{table}");
    assert!(
        lines[2].starts_with("bob ") && lines[2].ends_with("alice: second"),
        "{table}"
    );
    // bob has one conversation with 2 unread; `read` clears it.
    let pages = json(&app, "bob", &["conversations"]).await;
    assert_eq!(pages[0]["conversations"][0]["unread"], 2);
    ok(&app, "bob", &["read", "alice"]).await;
    let pages = json(&app, "bob", &["conversations"]).await;
    assert_eq!(pages[0]["conversations"][0]["unread"], 0);

    // History: newest first, or oldest first with --down.
    let history = json(&app, "alice", &["history", "bob"]).await;
    assert_eq!(message_ids(&history), [second, first]);
    assert_eq!(
        history[0]["messages"][1]["body"]["text"],
        "hello from the cli"
    );
    let down = json(&app, "alice", &["history", "bob", "--down"]).await;
    assert_eq!(message_ids(&down), [first, second]);
    let after = json(
        &app,
        "alice",
        &["history", "bob", "--down", "--cursor", &first.to_string()],
    )
    .await;
    assert_eq!(message_ids(&after), [second]);

    // Pin, then the pinned list; --off unpins.
    let state = json(&app, "alice", &["pin", "bob"]).await;
    assert_eq!(state[0]["pinned"], true);
    let pinned = json(&app, "alice", &["conversations", "--pinned"]).await;
    assert_eq!(conversation_ids(&pinned), ["bob"]);
    assert_eq!(pinned[0]["conversations"][0]["pinned"], true);
    ok(&app, "alice", &["pin", "bob", "--off"]).await;
    let pinned = json(&app, "alice", &["conversations", "--pinned"]).await;
    assert!(conversation_ids(&pinned).is_empty(), "{pinned:?}");

    // Marks.
    ok(&app, "alice", &["mark", "carol", "3"]).await;
    let marked = json(&app, "alice", &["conversations", "--mark", "3"]).await;
    assert_eq!(conversation_ids(&marked), ["carol"]);

    // A one-way delete by id: gone from alice's history only.
    ok(
        &app,
        "alice",
        &["delete-messages", "bob", "--ids", &first.to_string()],
    )
    .await;
    let history = json(&app, "alice", &["history", "bob"]).await;
    assert_eq!(message_ids(&history), [second]);
    let bobs = json(&app, "bob", &["history", "alice"]).await;
    assert_eq!(message_ids(&bobs), [second, first]);

    // Deleting the conversation with its history.
    ok(&app, "alice", &["delete", "carol", "--with-history"]).await;
    let pages = json(&app, "alice", &["conversations"]).await;
    assert_eq!(conversation_ids(&pages), ["bob"]);
    let history = json(&app, "alice", &["history", "carol"]).await;
    assert!(message_ids(&history).is_empty());
}

#[tokio::test]
async fn errors_go_to_stderr_with_exit_code_1() {
    let app = spawn_app().await;
    app.users(&["alice"]).await;

    let r = run(&app, "alice", "wrong", &["conversations"]).await;
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.starts_with("roam: ") && r.stderr.contains("unauthorized"),
        "{}",
        r.stderr
    );

    // Refused by the SDK before any request, and by the server.
    let r = run(
        &app,
        "alice",
        "pw",
        &["history", "bob", "--page-size", "51"],
    )
    .await;
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("page size"), "{}", r.stderr);
    let r = run(&app, "alice", "pw", &["pin", "nobody"]).await;
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("conversation not found"), "{}", r.stderr);
}

/// Lines of a reader, on a thread, into a channel (so that reads can time out).
fn lines(reader: impl Read + Send + 'static) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

async fn next_line(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a line within 10 s")
        .expect("the stream is open")
}

/// A child process, killed when dropped (also when the test fails).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn tail_prints_incoming_messages() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;

    let mut tail = Running(
        command(&app, "bob", "pw", &["tail"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("roam tail starts"),
    );
    let mut stdout = lines(tail.0.stdout.take().unwrap());
    let mut stderr = lines(tail.0.stderr.take().unwrap());
    let ready = next_line(&mut stderr).await;
    assert!(ready.starts_with("listening as bob"), "{ready}");

    ok(&app, "alice", &["send", "bob", "hi tail"]).await;
    let line = next_line(&mut stdout).await;
    drop(tail);
    // `HH:MM:SS alice → bob: hi tail`
    let (time, rest) = line.split_once(' ').unwrap();
    assert_eq!(time.len(), 8, "{line}");
    assert_eq!(rest, "alice → bob: hi tail");
}
