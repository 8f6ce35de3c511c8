//! Passwords, logins and the admin credential: throttling, timing, rotation, secrets at rest.
use std::{
    net::{IpAddr, SocketAddr},
    os::unix::fs::PermissionsExt,
    path::Path,
    time::{Duration, Instant},
};

use roamd::{Server, config::Config, data_dir::CREDENTIAL_FILE};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpSocket,
};

use crate::{BASE, client::http, spawn_app, spawn_app_with};

/// A request from a chosen local address (127.0.0.x): (status, raw head, JSON body).
async fn http_from(
    from: &str,
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (u16, String, Value) {
    let body = body.to_string();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0))
        .unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, head.to_owned(), json)
}

fn login(user: &str, password: &str) -> Value {
    json!({"grant_type": "password", "username": user, "password": password})
}

#[tokio::test]
async fn failed_logins_are_throttled_per_address_and_the_owner_still_logs_in() {
    let app = spawn_app_with(|c| {
        c.login_limit_per_account = 3;
        c.login_limit_per_ip = 100;
    })
    .await;
    app.users(&["alice"]).await;
    let path = format!("{BASE}/token");
    for _ in 0..3 {
        let (s, _, body) = http_from(
            "127.0.0.9",
            app.addr,
            "POST",
            &path,
            None,
            login("alice", "guess"),
        )
        .await;
        assert_eq!(s, 400, "{body}");
    }
    // The fourth guess from there is refused before any check, even with the right password.
    let (s, head, body) = http_from(
        "127.0.0.9",
        app.addr,
        "POST",
        &path,
        None,
        login("alice", "pw"),
    )
    .await;
    assert_eq!(s, 429, "{body}");
    assert!(head.to_ascii_lowercase().contains("retry-after:"), "{head}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("reached the maximum limit"),
        "{body}"
    );
    // alice, elsewhere, logs in.
    let (s, _, body) = http_from(
        "127.0.0.2",
        app.addr,
        "POST",
        &path,
        None,
        login("alice", "pw"),
    )
    .await;
    assert_eq!(s, 200, "{body}");
}

#[tokio::test]
async fn guesses_from_one_address_are_limited_over_all_accounts_and_the_admin_grant() {
    let app = spawn_app_with(|c| {
        c.login_limit_per_account = 100;
        c.login_limit_per_ip = 4;
    })
    .await;
    let path = format!("{BASE}/token");
    let admin = |secret: &str| json!({"grant_type": "client_credentials", "client_id": "test-admin", "client_secret": secret});
    for n in 0..4 {
        let body = if n % 2 == 0 {
            admin("guess")
        } else {
            login(&format!("u{n}"), "x")
        };
        let (s, _, body) = http_from("127.0.0.7", app.addr, "POST", &path, None, body).await;
        assert_eq!(s, 400, "{body}");
    }
    let (s, _, body) = http_from(
        "127.0.0.7",
        app.addr,
        "POST",
        &path,
        None,
        admin("test-secret"),
    )
    .await;
    assert_eq!(s, 429, "{body}");
    // Successes do not count: another address logs in as admin again and again.
    for _ in 0..6 {
        let (s, _, body) = http_from(
            "127.0.0.8",
            app.addr,
            "POST",
            &path,
            None,
            admin("test-secret"),
        )
        .await;
        assert_eq!(s, 200, "{body}");
    }
}

#[tokio::test]
async fn an_unknown_user_costs_as_much_as_a_wrong_password() {
    let app = spawn_app_with(|c| {
        c.login_limit_per_account = 0;
        c.login_limit_per_ip = 0;
    })
    .await;
    app.users(&["alice"]).await;
    let path = format!("{BASE}/token");
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    // Interleaved, so that a load spike on the machine hits both series alike.
    for n in 0..5 {
        let t = Instant::now();
        let (s, body) = http(app.addr, "POST", &path, None, Some(login("alice", "wrong")))
            .await
            .unwrap();
        known.push(t.elapsed());
        assert_eq!(s, 400);
        let wrong = body;
        let t = Instant::now();
        let (s, body) = http(
            app.addr,
            "POST",
            &path,
            None,
            Some(login(&format!("nobody{n}"), "wrong")),
        )
        .await
        .unwrap();
        unknown.push(t.elapsed());
        assert_eq!(s, 400);
        // The same answer for both, but its timestamp.
        for key in ["error", "error_description", "exception"] {
            assert_eq!(wrong[key], body[key]);
        }
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[2], unknown[2]);
    // Before the dummy hash an unknown user answered ~70x faster; now both run one argon2.
    assert!(u * 2 >= k, "unknown user {u:?} vs wrong password {k:?}");
}

#[tokio::test]
async fn rotating_the_admin_secret_voids_old_admin_tokens() {
    let mut app = spawn_app().await;
    app.users(&["alice"]).await;
    let old = app.admin_token.clone();
    let path = format!("{BASE}/users/alice");
    assert_eq!(
        http(app.addr, "GET", &path, Some(&old), None)
            .await
            .unwrap()
            .0,
        200
    );
    // A restart with the same secret keeps it...
    app.restart().await;
    assert_eq!(
        http(app.addr, "GET", &path, Some(&old), None)
            .await
            .unwrap()
            .0,
        200
    );
    // ...a new secret voids it; the new one's token works.
    app.restart_with(|c| c.client_secret = Some("rotated".into()))
        .await;
    let (s, body) = http(app.addr, "GET", &path, Some(&old), None)
        .await
        .unwrap();
    assert_eq!(s, 401, "{body}");
    let (s, _) = http(app.addr, "GET", &path, Some(&app.admin_token), None)
        .await
        .unwrap();
    assert_eq!(s, 200);
    // User tokens are not the admin's: they survive.
    let alice = app.token("alice").await;
    app.restart_with(|c| c.client_secret = Some("again".into()))
        .await;
    assert_eq!(
        http(app.addr, "GET", &path, Some(&alice), None)
            .await
            .unwrap()
            .0,
        200
    );
}

#[tokio::test]
async fn a_token_alone_does_not_change_its_users_password() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let alice = app.token("alice").await;
    let other_session = app.token("alice").await;
    let path = format!("{BASE}/users/alice/password");
    for body in [
        json!({"newpassword": "pw2"}),
        json!({"newpassword": "pw2", "oldpassword": "bad"}),
    ] {
        let (s, resp) = http(app.addr, "PUT", &path, Some(&alice), Some(body))
            .await
            .unwrap();
        assert_eq!(s, 403, "{resp}");
    }
    // The old password still logs in: nothing changed.
    let _ = app.token("alice").await;
    let (s, resp) = http(
        app.addr,
        "PUT",
        &path,
        Some(&alice),
        Some(json!({"newpassword": "pw2", "oldpassword": "pw"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{resp}");
    // Every session of alice's is void now, as the gateway's token check sees it too.
    let (s, _) = http(
        app.addr,
        "GET",
        &format!("{BASE}/users/alice"),
        Some(&other_session),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 401);
    // The admin needs no current password.
    let (s, resp) = http(
        app.addr,
        "PUT",
        &format!("{BASE}/users/bob/password"),
        Some(&app.admin_token),
        Some(json!({"newpassword": "pw3"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{resp}");
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn data_files_are_private() {
    let app = spawn_app().await;
    app.users(&["alice"]).await; // a write: the WAL exists
    assert_eq!(mode(app.dir()), 0o700);
    for f in ["roam.db", "roam.db-wal", "roam.db-shm"] {
        assert_eq!(mode(&app.dir().join(f)), 0o600, "{f}");
    }
}

/// Every byte under `dir` but the credential file.
fn stored_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap() != CREDENTIAL_FILE {
            all.extend(std::fs::read(&p).unwrap());
        }
    }
    all
}

fn generated(dir: &Path, listen: &str) -> Config {
    Config {
        listen: listen.into(),
        data_dir: dir.to_owned(),
        app_key: crate::APP_KEY.into(),
        ..Config::default()
    }
}

#[tokio::test]
async fn a_generated_credential_is_shown_until_first_used_and_stored_only_as_a_hash() {
    let dir = tempfile::tempdir().unwrap();
    // A first start on a busy port fails after generating the credential...
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = busy.local_addr().unwrap().to_string();
    assert!(Server::build(&generated(dir.path(), &taken)).await.is_err());
    // ...and the next start shows it still.
    let server = Server::build(&generated(dir.path(), "127.0.0.1:0"))
        .await
        .unwrap();
    let shown = server.generated_admin.clone().expect("still shown");
    let file = dir.path().join(CREDENTIAL_FILE);
    assert_eq!(mode(&file), 0o600);
    let secret = shown.client_secret.clone();
    let needle = secret.as_bytes();
    assert!(
        !stored_bytes(dir.path())
            .windows(needle.len())
            .any(|w| w == needle),
        "the secret is in the database"
    );
    // Once the admin logs in with it, the file goes and later starts show nothing.
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let (s, body) = http(addr, "POST", &format!("{BASE}/token"), None, Some(json!({"grant_type": "client_credentials", "client_id": shown.client_id, "client_secret": secret}))).await.unwrap();
    assert_eq!(s, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while file.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!file.exists());
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    let again = Server::build(&generated(dir.path(), "127.0.0.1:0"))
        .await
        .unwrap();
    assert_eq!(again.generated_admin, None);
}

/// Peak resident memory of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn concurrent_failed_logins_do_not_inflate_memory() {
    use std::{
        io::BufRead,
        process::{Command, Stdio},
    };
    /// Kills the child however the test ends.
    struct Child(std::process::Child);
    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_roamd"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env("ROAM_APP_KEY", crate::APP_KEY)
            .env("ROAM_CLIENT_ID", "admin")
            .env("ROAM_CLIENT_SECRET", "secret")
            // Throttling would refuse most of these before hashing; this measures the hashing.
            .env("ROAM_LOGIN_LIMIT_PER_IP", "0")
            .env("ROAM_LOGIN_LIMIT_PER_ACCOUNT", "0")
            .env("ROAM_PASSWORD_HASH_THREADS", "2")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id();
    let stdout = child.0.stdout.take().unwrap();
    let addr: SocketAddr = tokio::task::spawn_blocking(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if let Some(a) = line.unwrap().strip_prefix("roamd listening on ") {
                return a.parse().unwrap();
            }
        }
        panic!("roamd exited before it was ready");
    })
    .await
    .unwrap();
    let (s, body) = http(addr, "POST", &format!("{BASE}/token"), None, Some(json!({"grant_type": "client_credentials", "client_id": "admin", "client_secret": "secret"}))).await.unwrap();
    assert_eq!(s, 200, "{body}");
    let admin = body["access_token"].as_str().unwrap().to_owned();
    let (s, _) = http(
        addr,
        "POST",
        &format!("{BASE}/users"),
        Some(&admin),
        Some(json!({"username": "alice", "password": "pw"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    // 64 clients at once, two rounds each (the 4.21 repro: RSS grew ~19 MiB per concurrent check).
    let mut clients = Vec::new();
    for _ in 0..64 {
        clients.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..2 {
                let (s, _) = http(
                    addr,
                    "POST",
                    &format!("{BASE}/token"),
                    None,
                    Some(login("alice", "wrong")),
                )
                .await
                .unwrap();
                statuses.push(s);
            }
            statuses
        }));
    }
    for c in clients {
        for s in c.await.unwrap() {
            // A wrong password, or "busy" if the queue was full: never anything else.
            assert!(s == 400 || s == 503, "{s}");
        }
    }
    let peak = peak_rss_kib(pid);
    // Two threads × 19 MiB of argon2 memory plus the server itself; before the pool the
    // same load peaked above 1 GiB.
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB");
    drop(child);
}
