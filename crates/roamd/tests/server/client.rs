//! A minimal msync client for tests and benches: just enough of what the SDK does (login,
//! send, notice → pull → ack) to drive roamd over a real socket. The Rust SDK will replace it.
#![allow(dead_code)]

use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use prost::Message as _;
use roam_protocol::{
    jid,
    msync::{self, ClientFrame},
    pb::{
        CommNotice, CommSyncDl, CommSyncUl, CommUnreadDl, Jid, MessageBody, Meta, Provision,
        m_sync::Command, message_body, meta::NameSpace,
    },
};
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A raw HTTP/1.1 JSON request (tests need no HTTP client crate): (status, body).
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> anyhow::Result<(u16, serde_json::Value)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await?;
    let text = String::from_utf8(raw)?;
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .context("no status")?
        .parse()?;
    let json = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .filter(|b| !b.is_empty())
        .map(serde_json::from_str)
        .transpose()?
        .unwrap_or(serde_json::Value::Null);
    Ok((status, json))
}

/// A received chat meta, decoded.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: u64,
    pub ns: i32,
    /// For MUC metas (group events): the decoded body.
    pub muc: Option<roam_protocol::pb::MucBody>,
    pub from: String,
    pub from_resource: Option<String>,
    pub to: String,
    pub body: MessageBody,
}

impl Received {
    pub fn text(&self) -> Option<&str> {
        self.body.contents.first().and_then(|c| c.text.as_deref())
    }
}

/// One device.
pub struct Device {
    pub ws: Ws,
    pub app_key: String,
    pub user: String,
    pub resource: String,
    next_meta: u64,
}

/// The status a login got: (error code, reason).
pub type LoginStatus = (i32, Option<String>);

impl Device {
    /// Connects and sends PROVISION; returns the device and the status it got.
    pub async fn login(
        addr: std::net::SocketAddr,
        app_key: &str,
        user: &str,
        token: &str,
        resource: &str,
    ) -> anyhow::Result<(Device, LoginStatus)> {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/websocket")).await?;
        let mut d = Device {
            ws,
            app_key: app_key.to_owned(),
            user: user.to_owned(),
            resource: resource.to_owned(),
            next_meta: 1,
        };
        let frame = ClientFrame::Provision {
            guid: Some(jid::user(app_key, user, Some(resource))),
            auth: Some(format!("$t${token}")),
            provision: Provision {
                resource: Some(resource.to_owned()),
                ..Default::default()
            },
        };
        d.send_frame(frame.encode()).await?;
        let payload = d.expect(Command::Provision).await?;
        let p = Provision::decode(payload)?;
        let status = p.status.context("provision reply without status")?;
        Ok((d, (status.error_code.unwrap_or(0), status.reason)))
    }

    pub async fn send_frame(&mut self, frame: Vec<u8>) -> anyhow::Result<()> {
        self.ws.send(Message::Binary(frame.into())).await?;
        Ok(())
    }

    /// Next binary frame, within 5 s.
    pub async fn next_frame(&mut self) -> anyhow::Result<(Command, Bytes)> {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(5), self.ws.next())
                .await
                .context("no frame within 5 s")?
                .context("connection closed")??;
            match m {
                Message::Binary(b) => return Ok(msync::decode_server(&b)?),
                Message::Close(_) => bail!("connection closed"),
                _ => continue,
            }
        }
    }

    async fn expect(&mut self, cmd: Command) -> anyhow::Result<Bytes> {
        let (c, p) = self.next_frame().await?;
        if c != cmd {
            bail!("expected {cmd:?}, got {c:?}");
        }
        Ok(p)
    }

    /// True if the server closes the connection within 5 s (frames before that are skipped).
    pub async fn closed(&mut self) -> bool {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), self.ws.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Sends a body to user `to` and waits for its ack: Ok(server id) or Err((code, reason)).
    pub async fn send_body(
        &mut self,
        to: &str,
        body: MessageBody,
    ) -> anyhow::Result<Result<(u64, u64), (i32, Option<String>)>> {
        let to = jid::user(&self.app_key, to, None);
        self.send_meta(to, NameSpace::Chat, body.encode_to_vec())
            .await
    }

    /// Sends a text to a group and waits for its ack.
    pub async fn send_group_text(
        &mut self,
        group: &str,
        text: &str,
    ) -> anyhow::Result<Result<(u64, u64), (i32, Option<String>)>> {
        let mut body = text_body(&self.user, group, text);
        body.r#type = Some(message_body::Type::Groupchat as i32);
        let to = jid::conference(&self.app_key, group);
        self.send_meta(to, NameSpace::Chat, body.encode_to_vec())
            .await
    }

    /// Sends a meta and waits for its ack: Ok((server id, time)) or Err((code, reason)).
    pub async fn send_meta(
        &mut self,
        to: Jid,
        ns: NameSpace,
        payload: Vec<u8>,
    ) -> anyhow::Result<Result<(u64, u64), (i32, Option<String>)>> {
        let id = self.next_meta;
        self.next_meta += 1;
        let ns = ns as i32;
        let body_bytes = payload;
        let meta = Meta {
            id: Some(id),
            to: Some(to),
            ns: Some(ns),
            payload: Some(Bytes::from(body_bytes)),
            ..Default::default()
        };
        self.send_frame(
            ClientFrame::Sync(CommSyncUl {
                meta: Some(meta),
                ..Default::default()
            })
            .encode(),
        )
        .await?;
        // Notices may arrive before the ack; they are replayed by the next `receive`.
        loop {
            let (cmd, payload) = self.next_frame().await?;
            if cmd != Command::Sync {
                continue;
            }
            let dl = CommSyncDl::decode(payload)?;
            if dl.meta_id != Some(id) {
                continue;
            }
            let st = dl.status.context("ack without status")?;
            return Ok(match st.error_code.unwrap_or(0) {
                0 => Ok((
                    dl.server_id.context("ack without server id")?,
                    dl.timestamp.unwrap_or(0),
                )),
                code => Err((code, st.reason)),
            });
        }
    }

    pub async fn send_text(&mut self, to: &str, text: &str) -> anyhow::Result<u64> {
        match self.send_body(to, text_body(&self.user, to, text)).await? {
            Ok((id, _)) => Ok(id),
            Err(e) => bail!("send refused: {e:?}"),
        }
    }

    /// UNREAD: the queues the server lists (by name), with counts.
    pub async fn unread(&mut self) -> anyhow::Result<Vec<(String, u32)>> {
        Ok(self
            .unread_queues()
            .await?
            .into_iter()
            .map(|(q, n)| (q.name.unwrap_or_default(), n))
            .collect())
    }

    /// UNREAD: the queues the server lists, as JIDs, with counts.
    pub async fn unread_queues(&mut self) -> anyhow::Result<Vec<(Jid, u32)>> {
        self.send_frame(ClientFrame::Unread.encode()).await?;
        loop {
            let (cmd, payload) = self.next_frame().await?;
            if cmd == Command::Unread {
                let dl = CommUnreadDl::decode(payload)?;
                return Ok(dl
                    .unread
                    .into_iter()
                    .map(|q| (q.queue.unwrap_or_default(), q.n.unwrap_or(0)))
                    .collect());
            }
        }
    }

    /// Pulls one user queue to its end, acking each batch as the SDK does.
    pub async fn pull(&mut self, peer: &str) -> anyhow::Result<Vec<Received>> {
        let queue = jid::user(&self.app_key, peer, None);
        self.pull_queue(queue).await
    }

    /// Pulls a group's queue to its end.
    pub async fn pull_group(&mut self, group: &str) -> anyhow::Result<Vec<Received>> {
        let queue = jid::conference(&self.app_key, group);
        self.pull_queue(queue).await
    }

    /// Pulls any queue (as named by UNREAD or a NOTICE) to its end.
    pub async fn pull_queue(&mut self, queue: Jid) -> anyhow::Result<Vec<Received>> {
        let mut key = None;
        let mut out = Vec::new();
        loop {
            let ul = CommSyncUl {
                queue: Some(queue.clone()),
                key,
                ..Default::default()
            };
            self.send_frame(ClientFrame::Sync(ul).encode()).await?;
            let dl = loop {
                let (cmd, payload) = self.next_frame().await?;
                if cmd == Command::Sync {
                    let dl = CommSyncDl::decode(payload)?;
                    if dl.queue.is_some() {
                        break dl;
                    }
                }
            };
            anyhow::ensure!(dl.status.is_some(), "pull answer without status");
            for m in dl.metas {
                out.push(decode_meta(m)?);
            }
            if dl.is_last == Some(true) {
                return Ok(out);
            }
            key = dl.next_key;
        }
    }

    /// Everything the server has for this device: UNREAD, then a pull of every queue.
    pub async fn sync_all(&mut self) -> anyhow::Result<Vec<Received>> {
        let mut out = Vec::new();
        for (queue, _) in self.unread_queues().await? {
            out.extend(self.pull_queue(queue).await?);
        }
        Ok(out)
    }

    /// Waits for the next NOTICE and returns its queue's name.
    pub async fn notice(&mut self) -> anyhow::Result<String> {
        loop {
            let (cmd, payload) = self.next_frame().await?;
            if cmd == Command::Notice {
                let n = CommNotice::decode(payload)?;
                return Ok(n.queue.and_then(|q| q.name).unwrap_or_default());
            }
        }
    }
}

pub fn text_body(from: &str, to: &str, text: &str) -> MessageBody {
    MessageBody {
        r#type: Some(message_body::Type::Chat as i32),
        from: Some(Jid {
            name: Some(from.into()),
            ..Default::default()
        }),
        to: Some(Jid {
            name: Some(to.into()),
            ..Default::default()
        }),
        contents: vec![message_body::Content {
            text: Some(text.into()),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn decode_meta(m: Meta) -> anyhow::Result<Received> {
    let ns = m.ns.unwrap_or(0);
    let payload = m.payload.unwrap_or_default();
    let (body, muc) = if ns == NameSpace::Muc as i32 {
        (
            MessageBody::default(),
            Some(roam_protocol::pb::MucBody::decode(payload)?),
        )
    } else {
        (MessageBody::decode(payload)?, None)
    };
    let from = m.from.unwrap_or_default();
    Ok(Received {
        id: m.id.unwrap_or(0),
        ns,
        muc,
        from: from.name.unwrap_or_default(),
        from_resource: from.client_resource,
        to: m.to.and_then(|t| t.name).unwrap_or_default(),
        body,
    })
}
