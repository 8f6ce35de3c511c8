//! Synapse through the Matrix client-server API (reqwest): a direct room per pair, the sender's
//! `PUT /rooms/{room}/send` answers once the event is persisted (its "ack"), history is
//! `/messages?dir=b`. The recipient has joined the room (its `/sync` would deliver the events;
//! the send answer is the signal used here).
use std::{path::PathBuf, process::Command};

use anyhow::Context;
use serde_json::{Value, json};

use super::adapter::{Peer, PeerProcess};

const PASSWORD: &str = "bench-pw";

pub struct MatrixPeer {
    /// target/peers (the venv and synapse/ written by scripts/peers/setup.sh).
    dir: PathBuf,
    port: u16,
    http: reqwest::Client,
    process: Option<PeerProcess>,
}

impl MatrixPeer {
    /// The Synapse set up under `dir`, or `None` when it is not installed there.
    pub fn find(dir: PathBuf, port: u16) -> Option<MatrixPeer> {
        let ready = dir.join("synapse/seed/homeserver.db").is_file()
            && dir.join("synapse/homeserver.yaml").is_file()
            && dir.join("venv-synapse/bin/python").is_file();
        ready.then(|| MatrixPeer {
            dir,
            port,
            http: reqwest::Client::new(),
            process: None,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/_matrix/client/v3{path}", self.port)
    }

    async fn login(&self, user: &str) -> anyhow::Result<String> {
        let r: Value = self
            .http
            .post(self.url("/login"))
            .json(&json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": PASSWORD}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(r["access_token"]
            .as_str()
            .context("no access_token")?
            .to_owned())
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        Ok(self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}

/// A room id as one path segment (`!abc:localhost`).
fn segment(room: &str) -> String {
    room.replace('!', "%21").replace(':', "%3A")
}

pub struct MatrixPair {
    token: String,
    room: String,
    txn: u64,
}

impl Peer for MatrixPeer {
    type Pair = MatrixPair;
    type Cursor = String;

    fn name(&self) -> &'static str {
        "synapse"
    }

    async fn start(&mut self) -> anyhow::Result<u32> {
        self.process = None;
        let mut cmd = Command::new(self.dir.join("venv-synapse/bin/python"));
        cmd.args(["-m", "synapse.app.homeserver", "-c"])
            .arg(self.dir.join("synapse/homeserver.yaml"))
            .current_dir(self.dir.join("synapse/run"));
        let p = PeerProcess::start(
            &self.dir.join("synapse/seed/homeserver.db"),
            &self.dir.join("synapse/run/homeserver.db"),
            &mut cmd,
            self.port,
        )
        .await?;
        let pid = p.pid();
        self.process = Some(p);
        Ok(pid)
    }

    async fn pair(&self, i: usize) -> anyhow::Result<MatrixPair> {
        let token = self.login(&format!("s{i}")).await?;
        let peer = self.login(&format!("r{i}")).await?;
        let room = self
            .post(
                &token,
                "/createRoom",
                json!({"preset": "trusted_private_chat", "is_direct": true, "invite": [format!("@r{i}:localhost")]}),
            )
            .await?;
        let room = room["room_id"].as_str().context("no room_id")?.to_owned();
        self.post(&peer, &format!("/rooms/{}/join", segment(&room)), json!({}))
            .await?;
        Ok(MatrixPair {
            token,
            room,
            txn: 0,
        })
    }

    async fn send(&self, pair: &mut MatrixPair, body: &str) -> anyhow::Result<()> {
        pair.txn += 1;
        self.http
            .put(self.url(&format!(
                "/rooms/{}/send/m.room.message/b{}",
                segment(&pair.room),
                pair.txn
            )))
            .bearer_auth(&pair.token)
            .json(&json!({"msgtype": "m.text", "body": body}))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    async fn history(
        &self,
        pair: &mut MatrixPair,
        before: Option<String>,
        page: usize,
    ) -> anyhow::Result<(usize, Option<String>)> {
        let mut req = self
            .http
            .get(self.url(&format!("/rooms/{}/messages", segment(&pair.room))))
            .bearer_auth(&pair.token)
            .query(&[("dir", "b"), ("limit", &page.to_string())]);
        if let Some(from) = &before {
            req = req.query(&[("from", from)]);
        }
        let r: Value = req.send().await?.error_for_status()?.json().await?;
        let n = r["chunk"].as_array().map_or(0, |c| {
            c.iter().filter(|e| e["type"] == "m.room.message").count()
        });
        Ok((n, r["end"].as_str().map(str::to_owned)))
    }

    fn stop(&mut self) {
        self.process = None;
    }
}
