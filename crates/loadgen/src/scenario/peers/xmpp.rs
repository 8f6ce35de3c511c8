//! Prosody through a tiny raw XMPP client (tokio TCP, no TLS on loopback): stream, SASL PLAIN,
//! bind, session, presence, then `<message type='chat'>`. Prosody sends no ack for a message;
//! it archives it (mod_mam, SQLite) before routing it, so the recipient's receipt of the
//! message is the "stored" signal. History is a MAM query with RSM `before`.
use std::{path::PathBuf, process::Command};

use anyhow::{Context, bail};
use base64::Engine;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::adapter::{Peer, PeerProcess};

const PASSWORD: &str = "bench-pw";
const DOMAIN: &str = "localhost";

pub struct XmppPeer {
    /// target/peers/prosody (written by scripts/peers/setup.sh).
    dir: PathBuf,
    port: u16,
    process: Option<PeerProcess>,
}

impl XmppPeer {
    /// The Prosody set up under `dir`, or `None` when it is not installed there.
    pub fn find(dir: PathBuf, port: u16) -> Option<XmppPeer> {
        let ready = dir.join("seed/prosody.sqlite").is_file()
            && dir.join("prosody.cfg.lua").is_file()
            && which("prosody");
        ready.then_some(XmppPeer {
            dir,
            port,
            process: None,
        })
    }
}

/// Whether `bin` is on the PATH.
pub fn which(bin: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
}

/// One XMPP connection: the socket and what has been read but not yet consumed.
pub struct Xmpp {
    sock: TcpStream,
    buf: Vec<u8>,
    next_id: u64,
}

impl Xmpp {
    async fn login(port: u16, user: &str) -> anyhow::Result<Xmpp> {
        let sock = TcpStream::connect(("127.0.0.1", port)).await?;
        sock.set_nodelay(true)?;
        let mut x = Xmpp {
            sock,
            buf: Vec::new(),
            next_id: 0,
        };
        x.open_stream().await?;
        let plain =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{PASSWORD}"));
        x.write(&format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{plain}</auth>"
        ))
        .await?;
        let answer = x.read_until(&["<success", "<failure"]).await?;
        if !answer.contains("<success") {
            bail!("SASL PLAIN refused for {user}: {answer}");
        }
        x.read_until(&["/>", "</success>"]).await?;
        x.open_stream().await?;
        x.iq("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bench</resource></bind>")
            .await?;
        x.iq("<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>")
            .await?;
        x.write("<presence/>").await?;
        Ok(x)
    }

    async fn open_stream(&mut self) -> anyhow::Result<()> {
        self.write(&format!(
            "<?xml version='1.0'?><stream:stream to='{DOMAIN}' xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
        ))
        .await?;
        self.read_until(&["</stream:features>"]).await?;
        Ok(())
    }

    /// Sends an `<iq type='set'>` and waits for its answer.
    async fn iq(&mut self, inner: &str) -> anyhow::Result<String> {
        self.next_id += 1;
        let id = format!("q{}", self.next_id);
        self.write(&format!("<iq type='set' id='{id}'>{inner}</iq>"))
            .await?;
        let answer = self.read_until(&[&format!("id='{id}'")]).await?;
        let rest = self.read_until(&["</iq>", "/>"]).await?;
        if rest.contains("type='error'") || answer.contains("type='error'") {
            bail!("iq refused: {rest}");
        }
        Ok(format!("{answer}{rest}"))
    }

    async fn write(&mut self, s: &str) -> anyhow::Result<()> {
        self.sock.write_all(s.as_bytes()).await?;
        Ok(())
    }

    /// Reads until one of `marks` has arrived; returns everything up to and including it (the
    /// rest stays buffered). Scans only the text; it does not parse XML.
    async fn read_until(&mut self, marks: &[&str]) -> anyhow::Result<String> {
        loop {
            let hit = marks
                .iter()
                .filter_map(|m| find(&self.buf, m.as_bytes()).map(|at| at + m.len()))
                .min();
            if let Some(end) = hit {
                let taken: Vec<u8> = self.buf.drain(..end).collect();
                return Ok(String::from_utf8_lossy(&taken).into_owned());
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.sock.read(&mut chunk).await?;
            if n == 0 {
                bail!("stream closed by the server");
            }
            self.buf
                .extend_from_slice(chunk.get(..n).context("read past the buffer")?);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The text between `open` (an element's start, up to its '>') and `close`, if present.
fn text_of<'a>(xml: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = xml.find(open)?;
    let after = start + xml.get(start..)?.find('>')? + 1;
    let end = after + xml.get(after..)?.find(close)?;
    xml.get(after..end)
}

pub struct XmppPair {
    sender: Xmpp,
    recipient: Xmpp,
    to: String,
}

impl Peer for XmppPeer {
    type Pair = XmppPair;
    type Cursor = String;

    fn name(&self) -> &'static str {
        "prosody"
    }

    async fn start(&mut self) -> anyhow::Result<u32> {
        self.process = None;
        let mut cmd = Command::new("prosody");
        cmd.arg("--config").arg(self.dir.join("prosody.cfg.lua"));
        let p = PeerProcess::start(
            &self.dir.join("seed/prosody.sqlite"),
            &self.dir.join("run/prosody.sqlite"),
            &mut cmd,
            self.port,
        )
        .await?;
        let pid = p.pid();
        self.process = Some(p);
        Ok(pid)
    }

    async fn pair(&self, i: usize) -> anyhow::Result<XmppPair> {
        Ok(XmppPair {
            sender: Xmpp::login(self.port, &format!("s{i}")).await?,
            recipient: Xmpp::login(self.port, &format!("r{i}")).await?,
            to: format!("r{i}@{DOMAIN}"),
        })
    }

    async fn send(&self, pair: &mut XmppPair, body: &str) -> anyhow::Result<()> {
        pair.sender.next_id += 1;
        let msg = format!(
            "<message to='{}' type='chat' id='m{}'><body>{body}</body></message>",
            pair.to, pair.sender.next_id
        );
        pair.sender.write(&msg).await?;
        pair.recipient.read_until(&["</message>"]).await?;
        Ok(())
    }

    async fn history(
        &self,
        pair: &mut XmppPair,
        before: Option<String>,
        page: usize,
    ) -> anyhow::Result<(usize, Option<String>)> {
        let query = format!(
            "<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'>\
             <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>\
             <field var='with'><value>{}</value></field></x>\
             <set xmlns='http://jabber.org/protocol/rsm'><max>{page}</max><before>{}</before></set></query>",
            pair.to,
            before.unwrap_or_default()
        );
        // The results come as messages before the iq's answer; the answer holds the RSM set.
        let answer = pair.sender.iq(&query).await?;
        let mut fin = answer.clone();
        if !fin.contains("</fin>") {
            fin.push_str(&pair.sender.read_until(&["</iq>"]).await?);
        }
        let n = answer.matches("<result ").count();
        let complete = fin.contains("complete='true'") || fin.contains("complete=\"true\"");
        let first = text_of(&fin, "<first", "</first>").map(str::to_owned);
        Ok((n, if complete { None } else { first }))
    }

    fn stop(&mut self) {
        self.process = None;
    }
}
