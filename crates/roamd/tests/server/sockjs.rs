//! SockJS at `/ws`, as Web SDK 4.7/4.8 use it: the info request, the websocket transport with
//! base64 msync frames in SockJS text frames, and what is refused.
use std::{collections::VecDeque, net::SocketAddr, time::Duration};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use prost::Message as _;
use roam_protocol::{
    jid,
    msync::{self, ClientFrame},
    pb::{
        CommSyncDl, CommSyncUl, Logout, MessageBody, Meta, Provision, m_sync::Command,
        meta::NameSpace,
    },
};
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_tungstenite::tungstenite::Message;

use crate::{APP_KEY, BASE, client::Ws, client::http, client::text_body, spawn_app};

/// A SockJS client on the websocket transport: what SDK 4.7's bundled SockJS does.
struct SockJs {
    ws: Ws,
    /// Frames received in an `a[...]` not yet read.
    inbox: VecDeque<(Command, Bytes)>,
}

impl SockJs {
    /// Opens `/ws/{server}/{session}/websocket` and reads the `o`.
    async fn open(addr: SocketAddr) -> SockJs {
        let url = format!("ws://{addr}/ws/042/abcd1234/websocket");
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut s = SockJs {
            ws,
            inbox: VecDeque::new(),
        };
        assert_eq!(s.text().await.unwrap(), "o", "SockJS opens with o");
        s
    }

    /// Opens and logs in with PROVISION; asserts the login succeeded.
    async fn login(addr: SocketAddr, user: &str, token: &str) -> SockJs {
        let mut s = SockJs::open(addr).await;
        s.send(&[ClientFrame::Provision {
            guid: Some(jid::user(APP_KEY, user, Some("web"))),
            auth: Some(format!("$t${token}")),
            provision: Provision {
                resource: Some("web".into()),
                ..Default::default()
            },
        }
        .encode()])
            .await;
        let (cmd, payload) = s.next().await.unwrap();
        assert_eq!(cmd, Command::Provision);
        let status = Provision::decode(payload).unwrap().status.unwrap();
        assert_eq!(
            status.error_code.unwrap_or(0),
            0,
            "login refused: {status:?}"
        );
        s
    }

    /// Sends frames as one SockJS message: a JSON array of base64 strings.
    async fn send(&mut self, frames: &[Vec<u8>]) {
        let array: Vec<String> = frames.iter().map(|f| STANDARD.encode(f)).collect();
        self.raw(Message::Text(json!(array).to_string().into()))
            .await;
    }

    async fn raw(&mut self, message: Message) {
        self.ws.send(message).await.unwrap();
    }

    /// The next text message within 5 s, skipping `h` heartbeats.
    async fn text(&mut self) -> anyhow::Result<String> {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(5), self.ws.next())
                .await
                .context("nothing within 5 s")?
                .context("connection closed")??;
            match m {
                Message::Text(t) if t.as_str() == "h" => continue,
                Message::Text(t) => return Ok(t.as_str().to_owned()),
                Message::Close(_) => bail!("connection closed"),
                Message::Binary(_) => bail!("a binary message on a SockJS connection"),
                _ => continue,
            }
        }
    }

    /// The frames of the next `a[...]` message, decoded.
    async fn array(&mut self) -> anyhow::Result<Vec<(Command, Bytes)>> {
        let text = self.text().await?;
        let array = text
            .strip_prefix('a')
            .with_context(|| format!("not an a-frame: {text}"))?;
        let items: Vec<String> = serde_json::from_str(array)?;
        items
            .iter()
            .map(|b64| Ok(msync::decode_server(&STANDARD.decode(b64)?)?))
            .collect()
    }

    /// The next msync frame.
    async fn next(&mut self) -> anyhow::Result<(Command, Bytes)> {
        while self.inbox.is_empty() {
            let frames = self.array().await?;
            self.inbox.extend(frames);
        }
        Ok(self.inbox.pop_front().expect("filled above"))
    }

    /// Reads until the server's `c[...]` and returns it; the socket must then close.
    async fn farewell(&mut self) -> String {
        loop {
            let text = self.text().await.unwrap();
            if text.starts_with('c') {
                assert!(self.closed().await, "the socket stays open after {text}");
                return text;
            }
        }
    }

    /// True if the server closes the connection within 5 s.
    async fn closed(&mut self) -> bool {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), self.ws.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}

/// A raw HTTP/1.1 request: (status, headers in lower case, body).
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, String) {
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    (status.parse().unwrap(), headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn info_answers_browsers_with_credentials() {
    let app = spawn_app().await;
    let origin = ("Origin", "http://app.example:8080");
    let (status, headers, body) = request(app.addr, "GET", "/ws/info", &[origin]).await;
    assert_eq!(status, 200, "{body}");
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["websocket"], true);
    assert_eq!(info["origins"], json!(["*:*"]));
    assert_eq!(info["cookie_needed"], false);
    assert!(info["entropy"].is_u64(), "{info}");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("http://app.example:8080")
    );
    assert_eq!(
        header(&headers, "access-control-allow-credentials"),
        Some("true")
    );
    assert!(
        header(&headers, "cache-control")
            .unwrap()
            .contains("no-store")
    );

    let (status, headers, _) = request(
        app.addr,
        "OPTIONS",
        "/ws/info",
        &[
            origin,
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "x-requested-with"),
        ],
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("http://app.example:8080")
    );
    assert_eq!(
        header(&headers, "access-control-allow-credentials"),
        Some("true")
    );
    assert!(
        header(&headers, "access-control-allow-methods")
            .unwrap()
            .contains("GET")
    );
    assert_eq!(
        header(&headers, "access-control-allow-headers"),
        Some("x-requested-with")
    );

    let (status, _, body) = request(app.addr, "GET", "/ws", &[]).await;
    assert_eq!((status, body.as_str()), (200, "Welcome to SockJS!\n"));
}

#[tokio::test]
async fn a_sockjs_device_logs_in_sends_and_receives_through_a_frames() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let token = app.token("alice").await;
    let mut alice = SockJs::login(app.addr, "alice", &token).await;
    let mut bob = app.device("bob", "pc").await;

    // alice sends; bob, on /websocket, is notified and pulls it.
    let meta = Meta {
        id: Some(7),
        to: Some(jid::user(APP_KEY, "bob", None)),
        ns: Some(NameSpace::Chat as i32),
        payload: Some(
            text_body("alice", "bob", "hi from sockjs")
                .encode_to_vec()
                .into(),
        ),
        ..Default::default()
    };
    alice
        .send(&[ClientFrame::Sync(CommSyncUl {
            meta: Some(meta),
            ..Default::default()
        })
        .encode()])
        .await;
    let ack = loop {
        let (cmd, payload) = alice.next().await.unwrap();
        if cmd == Command::Sync {
            break CommSyncDl::decode(payload).unwrap();
        }
    };
    assert_eq!(ack.meta_id, Some(7));
    assert_eq!(ack.status.unwrap().error_code.unwrap_or(0), 0);
    assert!(ack.server_id.is_some());
    bob.notice().await.unwrap();
    let got = bob.pull("alice").await.unwrap();
    assert_eq!(got[0].text(), Some("hi from sockjs"));

    // bob answers; alice gets the notice in an a-frame and pulls over SockJS.
    bob.send_text("alice", "hi back").await.unwrap();
    let (cmd, _) = alice.next().await.unwrap();
    assert_eq!(cmd, Command::Notice);
    alice
        .send(&[ClientFrame::Sync(CommSyncUl {
            queue: Some(jid::user(APP_KEY, "bob", None)),
            ..Default::default()
        })
        .encode()])
        .await;
    let (cmd, payload) = alice.next().await.unwrap();
    assert_eq!(cmd, Command::Sync);
    let batch = CommSyncDl::decode(payload).unwrap();
    let texts: Vec<_> = batch
        .metas
        .iter()
        .map(|m| MessageBody::decode(m.payload.clone().unwrap()).unwrap())
        .filter_map(|b| b.contents.first().and_then(|c| c.text.clone()))
        .collect();
    assert!(texts.contains(&"hi back".to_owned()), "{texts:?}");

    // Several frames in one SockJS message are all answered, in order, in one a-frame.
    alice
        .send(&[ClientFrame::Unread.encode(), ClientFrame::Unread.encode()])
        .await;
    let answers = alice.array().await.unwrap();
    let commands: Vec<_> = answers.iter().map(|(c, _)| *c).collect();
    assert_eq!(commands, vec![Command::Unread, Command::Unread]);
}

#[tokio::test]
async fn garbage_closes_only_that_sockjs_connection() {
    let app = spawn_app().await;
    app.users(&["alice"]).await;
    let mut bystander = app.device("alice", "pc").await;
    let oversized = format!(r#"["{}"]"#, "A".repeat(200 * 1024));
    let breaches = [
        Message::Text("not json".into()),
        Message::Text("[1,2]".into()),
        Message::Text(r#"["not base64!"]"#.into()),
        Message::Binary(ClientFrame::Unread.encode().into()),
    ];
    for bad in breaches {
        let mut s = SockJs::open(app.addr).await;
        s.raw(bad.clone()).await;
        assert_eq!(
            s.farewell().await,
            r#"c[3000,"Broken framing."]"#,
            "after {bad:?}"
        );
    }
    // Over the size limit: closed (the socket is in error, a c-frame may not get through).
    let mut s = SockJs::open(app.addr).await;
    s.raw(Message::Text(oversized.into())).await;
    assert!(s.closed().await, "an oversized message is accepted");
    // Valid framing around bytes that are not msync: the session closes it.
    let mut s = SockJs::open(app.addr).await;
    s.send(&[vec![0xff, 0xff, 0xff]]).await;
    assert_eq!(s.farewell().await, r#"c[3000,"Go away!"]"#);

    assert_eq!(bystander.unread().await.unwrap(), vec![]);
}

#[tokio::test]
async fn kicks_and_logouts_end_with_a_c_frame() {
    let app = spawn_app().await;
    app.users(&["alice", "bob"]).await;
    let token = app.token("alice").await;
    let mut alice = SockJs::login(app.addr, "alice", &token).await;
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
    let (cmd, payload) = alice.next().await.unwrap();
    assert_eq!(cmd, Command::Sync, "the kick comes as a batch");
    assert_eq!(CommSyncDl::decode(payload).unwrap().metas.len(), 1);
    assert_eq!(alice.farewell().await, r#"c[3000,"Go away!"]"#);

    let token = app.token("bob").await;
    let mut bob = SockJs::login(app.addr, "bob", &token).await;
    bob.send(&[ClientFrame::Logout(Logout::default()).encode()])
        .await;
    let (cmd, _) = bob.next().await.unwrap();
    assert_eq!(cmd, Command::Logout);
    assert_eq!(bob.farewell().await, r#"c[3000,"Go away!"]"#);
}

#[tokio::test]
async fn only_the_websocket_transport_is_served() {
    let app = spawn_app().await;
    for (method, transport) in [
        ("POST", "xhr"),
        ("POST", "xhr_streaming"),
        ("POST", "xhr_send"),
        ("GET", "eventsource"),
        ("GET", "htmlfile"),
        ("GET", "jsonp"),
    ] {
        let path = format!("/ws/042/abcd1234/{transport}");
        let (status, _, body) = request(app.addr, method, &path, &[]).await;
        assert_eq!(status, 404, "{method} {path}");
        assert!(
            body.contains("only the SockJS websocket transport"),
            "{path}: {body}"
        );
    }
    // Ids the client picks are checked.
    for path in [
        "/ws/abc/abcd1234/websocket",
        "/ws/042/a.b/websocket",
        &format!("/ws/042/{}/websocket", "a".repeat(65)),
    ] {
        let (status, _, body) = request(app.addr, "GET", path, &[]).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    // A plain GET where a WebSocket upgrade belongs is a 400, on both endpoints.
    for path in ["/ws/042/abcd1234/websocket", "/websocket"] {
        let (status, _, _) = request(app.addr, "GET", path, &[]).await;
        assert_eq!(status, 400, "{path}");
    }
}
