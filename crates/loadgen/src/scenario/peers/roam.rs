//! The Roam side of the comparison: a fresh roamd per round (`sqlite_synchronous=full`), users
//! through the admin API, pairs through the SDK (WebSocket for sends, REST for history).
use roam_sdk::{ChatType, Client, HistoryQuery, Options, Outgoing};

use super::adapter::Peer;
use crate::{
    Ctx,
    server::{APP_KEY, Roamd},
};

const PASSWORD: &str = "bench-pw";

pub struct RoamPeer<'a> {
    ctx: &'a Ctx,
    senders: usize,
    server: Option<Roamd>,
}

impl<'a> RoamPeer<'a> {
    pub fn new(ctx: &'a Ctx, senders: usize) -> RoamPeer<'a> {
        RoamPeer {
            ctx,
            senders,
            server: None,
        }
    }
}

pub struct RoamPair {
    sender: Client,
    _recipient: Client,
    to: String,
    drain: tokio::task::JoinHandle<()>,
}

impl Drop for RoamPair {
    fn drop(&mut self) {
        self.drain.abort();
    }
}

impl Peer for RoamPeer<'_> {
    type Pair = RoamPair;
    type Cursor = u64;

    fn name(&self) -> &'static str {
        "roam"
    }

    async fn start(&mut self) -> anyhow::Result<u32> {
        let server = self.ctx.server(&[("sqlite_synchronous", "full")]).await?;
        let admin = server.admin().await?;
        for i in 0..self.senders {
            for u in [format!("s{i}"), format!("r{i}")] {
                // An attached server may have them from an earlier run.
                if admin.user(&u).await.is_err() {
                    admin.create_user(&u, PASSWORD, None).await?;
                }
            }
        }
        let pid = server.pid;
        self.server = Some(server);
        Ok(pid)
    }

    async fn pair(&self, i: usize) -> anyhow::Result<RoamPair> {
        let url = &self
            .server
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("roamd not started"))?
            .url;
        let to = format!("r{i}");
        let (sender, _own) =
            Client::open(Options::password(url, APP_KEY, &format!("s{i}"), PASSWORD)).await?;
        let (recipient, mut events) =
            Client::open(Options::password(url, APP_KEY, &to, PASSWORD)).await?;
        // The recipient is online and takes every delivery (the server pushes to it).
        let drain = tokio::spawn(async move { while events.recv().await.is_some() {} });
        Ok(RoamPair {
            sender,
            _recipient: recipient,
            to,
            drain,
        })
    }

    async fn send(&self, pair: &mut RoamPair, body: &str) -> anyhow::Result<()> {
        pair.sender
            .send(&Outgoing::text(ChatType::Single, pair.to.as_str(), body))
            .await?;
        Ok(())
    }

    async fn history(
        &self,
        pair: &mut RoamPair,
        before: Option<u64>,
        page: usize,
    ) -> anyhow::Result<(usize, Option<u64>)> {
        let mut q = HistoryQuery::new(ChatType::Single, &pair.to).page_size(u32::try_from(page)?);
        if let Some(id) = before {
            q = q.after(id);
        }
        let p = pair.sender.get_history_messages(&q).await?;
        Ok((p.messages.len(), if p.is_last { None } else { p.cursor }))
    }

    fn stop(&mut self) {
        self.server = None;
    }
}
