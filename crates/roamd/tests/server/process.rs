//! roamd as an operator runs it: the binary in a child process, its environment, its signals,
//! its file descriptor limit.
use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use serde_json::json;
use tokio::{io::AsyncReadExt, net::TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::{APP_KEY, BASE, client::Device, client::http};

const ROAMD: &str = env!("CARGO_BIN_EXE_roamd");

/// A roamd child with its data dir; its stderr goes to `stderr.log` there.
struct Roamd {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

/// A roamd command with a fresh data dir and no `ROAM_*` variable from the caller's shell.
fn command(program: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (name, _) in std::env::vars() {
        if name.starts_with("ROAM_") {
            cmd.env_remove(name);
        }
    }
    let stderr = std::fs::File::create(dir.join("stderr.log")).unwrap();
    cmd.env("ROAM_LISTEN", "127.0.0.1:0")
        .env("ROAM_DATA_DIR", dir.join("data"))
        .env("ROAM_APP_KEY", APP_KEY)
        .env("ROAM_CLIENT_ID", "test-admin")
        .env("ROAM_CLIENT_SECRET", "test-secret")
        .stdout(Stdio::piped())
        .stderr(stderr);
    cmd
}

/// Starts `cmd` and waits (generously: the machine may be loaded) for its listening line.
fn start(mut cmd: Command, dir: tempfile::TempDir) -> Roamd {
    let mut child = cmd.spawn().expect("roamd starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("roamd listening on ") {
                let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            let _ = child.kill();
            let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
            panic!("roamd did not become ready: {log}")
        });
    Roamd { child, addr, dir }
}

impl Roamd {
    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap()
    }

    fn terminate(&self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    }

    /// Waits for the process to exit, at most `limit`: its exit code.
    fn wait(&mut self, limit: Duration) -> Option<i32> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        None
    }
}

impl Drop for Roamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn admin_token(addr: SocketAddr) -> String {
    let body = json!({"grant_type": "client_credentials", "client_id": "test-admin", "client_secret": "test-secret"});
    let (status, body) = http(addr, "POST", &format!("{BASE}/token"), None, Some(body))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn device(addr: SocketAddr, user: &str, resource: &str) -> Device {
    let body = json!({"grant_type": "password", "username": user, "password": "pw"});
    let (_, body) = http(addr, "POST", &format!("{BASE}/token"), None, Some(body))
        .await
        .unwrap();
    let token = body["access_token"].as_str().unwrap();
    let (d, status) = Device::login(addr, APP_KEY, user, token, resource)
        .await
        .unwrap();
    assert_eq!(status.0, 0, "{status:?}");
    d
}

#[tokio::test]
async fn starts_with_other_tools_variables_and_warns_once_about_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(ROAMD, dir.path());
    cmd.env("ROAM_USER", "alice")
        .env("ROAM_PASSWORD", "pw")
        .env("ROAM_SERVER", "http://127.0.0.1:5280")
        .env("ROAM_TYPO_KEY", "1");
    let roamd = start(cmd, dir);
    let (status, _) = http(roamd.addr, "GET", "/health", None, None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let log = roamd.stderr();
    assert_eq!(log.matches("ROAM_TYPO_KEY").count(), 1, "{log}");
    assert!(!log.contains("ROAM_USER"), "{log}");
    // stderr is a file here, not a terminal: no colour codes.
    assert!(!log.contains('\u{1b}'), "{log:?}");
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(ROAMD, dir.path());
    cmd.env("ROAM_LOG_FORMAT", "json");
    let roamd = start(cmd, dir);
    let log = roamd.stderr();
    assert!(log.lines().count() >= 1, "{log}");
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
}

#[test]
fn print_config_shows_the_effective_config_with_the_secret_masked() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(ROAMD, dir.path())
        .args(["--print-config", "--client-secret", "hunter2"])
        .env("ROAM_MAX_DEVICES", "7")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("test-secret"),
        "{text}"
    );
    assert!(text.contains("client_secret = \"********\""), "{text}");
    assert!(text.contains("max_devices = 7\n"), "{text}");
    assert!(text.contains("client_id = \"test-admin\"\n"), "{text}");
}

#[test]
fn a_bad_config_is_one_line_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("roamd.toml"), "max_device = 3\n").unwrap();
    let out = command(ROAMD, dir.path())
        .arg("--config")
        .arg(dir.path().join("roamd.toml"))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8(out.stderr).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("roamd: ") && text.contains("max_device"),
        "{text}"
    );
}

#[test]
fn an_unreachable_nats_is_one_line_on_stderr_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(ROAMD, dir.path())
        .env("ROAM_NATS_URL", "nats://127.0.0.1:1")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stderr).unwrap();
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("roamd: ") && last.contains("cannot connect to NATS"),
        "{text}"
    );
}

#[tokio::test]
async fn sigterm_under_live_sessions_exits_0_with_every_acked_message_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut roamd = start(command(ROAMD, dir.path()), dir);
    let addr = roamd.addr;
    let admin = admin_token(addr).await;
    let users =
        json!([{"username": "alice", "password": "pw"}, {"username": "bob", "password": "pw"}]);
    let (status, _) = http(
        addr,
        "POST",
        &format!("{BASE}/users"),
        Some(&admin),
        Some(users),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    let mut bob = device(addr, "bob", "phone").await;
    // Two senders keep sending until the server goes away; every ack they get is recorded.
    let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
    let first_ack = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for resource in ["web", "pad"] {
        let mut alice = device(addr, "alice", resource).await;
        let (acked, first_ack) = (acked.clone(), first_ack.clone());
        senders.push(tokio::spawn(async move {
            let mut n = 0;
            while let Ok(id) = alice.send_text("bob", &format!("{resource} {n}")).await {
                acked.lock().unwrap().push(id);
                first_ack.store(true, Ordering::SeqCst);
                n += 1;
            }
        }));
    }
    let until = Instant::now() + Duration::from_secs(30);
    while !first_ack.load(Ordering::SeqCst) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    roamd.terminate();
    let code = tokio::task::spawn_blocking(move || {
        let code = roamd.wait(Duration::from_secs(30));
        (code, roamd)
    })
    .await
    .unwrap();
    let (code, roamd) = code;
    assert_eq!(code, Some(0), "{}", roamd.stderr());
    for s in senders {
        tokio::time::timeout(Duration::from_secs(10), s)
            .await
            .expect("a sender still running after roamd exited")
            .unwrap();
    }
    // bob's live session was told with a close frame (1001 Going Away), not dropped.
    let told = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match bob.ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                other => panic!("the socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("bob's session was not closed");
    assert_eq!(told, Some(1001));
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());
    let db = rusqlite::Connection::open(roamd.dir.path().join("data/roam.db")).unwrap();
    for id in &acked {
        let found: i64 = db
            .query_row(
                "SELECT count(*) FROM messages WHERE id = ?1",
                [i64::try_from(*id).unwrap()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, 1, "acked message {id} is not on disk");
    }
}

/// With a descriptor limit of 256, hundreds of sockets that never send a byte neither make
/// `accept` fail nor keep `/health` from answering: roamd takes at most the limit minus
/// headroom, and closes silent ones after the header timeout.
#[tokio::test]
async fn silent_sockets_cannot_exhaust_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command("sh", dir.path());
    cmd.args(["-c", "ulimit -n 256 && exec \"$0\"", ROAMD])
        .env("ROAM_HTTP_HEADER_TIMEOUT_SECS", "2");
    let roamd = start(cmd, dir);
    let mut silent = Vec::new();
    for _ in 0..400 {
        silent.push(TcpStream::connect(roamd.addr).await.unwrap());
    }
    let started = Instant::now();
    let health = tokio::time::timeout(
        Duration::from_secs(60),
        http(roamd.addr, "GET", "/health", None, None),
    )
    .await
    .expect("/health did not answer with silent sockets open");
    assert_eq!(health.unwrap().0, 200);
    assert!(started.elapsed() < Duration::from_secs(60));
    // The silent ones are closed by the server: a read ends.
    let mut first = silent.swap_remove(0);
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(30), first.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0) | Err(_))), "{read:?}");
    let log = roamd.stderr();
    assert!(!log.contains("accept failed"), "{log}");
}
