//! What the server sends a connected client: announcements (unread counts, notices) that
//! start pulls, pulled batches that become events, and the acks of sends.
use std::collections::{HashMap, HashSet, VecDeque};

use prost::Message as _;
use roam_protocol::{
    msync::{self, ClientFrame},
    pb::{
        CommNotice, CommSyncDl, CommSyncUl, CommUnreadDl, Jid, Meta, StatisticsBody,
        m_sync::Command as Cmd, meta::NameSpace, statistics_body,
    },
};

use super::{End, Task};
use crate::Error;

/// Message ids remembered to drop redeliveries after a reconnect.
const REMEMBERED: usize = 10_000;

/// The last delivered message ids, to drop a batch delivered again.
#[derive(Default)]
pub(super) struct Seen {
    ids: HashSet<u64>,
    order: VecDeque<u64>,
}

impl Seen {
    /// True the first time `id` is seen.
    fn first(&mut self, id: u64) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        true
    }
}

impl Task {
    /// Handles one server frame; returns the frames to send in answer.
    pub(super) fn on_frame(
        &mut self,
        bytes: &[u8],
        pulls: &mut HashMap<String, bool>,
    ) -> Result<Vec<Vec<u8>>, End> {
        let lost = |e: &dyn std::fmt::Display| End::Lost(e.to_string());
        let (cmd, payload) = msync::decode_server(bytes).map_err(|e| lost(&e))?;
        let mut out = vec![];
        let mut pull = |queue: Jid, out: &mut Vec<Vec<u8>>| {
            let key = queue_key(&queue);
            if let Some(again) = pulls.get_mut(&key) {
                *again = true;
            } else {
                pulls.insert(key, false);
                out.push(pull_frame(queue, None));
            }
        };
        match cmd {
            Cmd::Unread => {
                let dl = CommUnreadDl::decode(payload).map_err(|e| lost(&e))?;
                for q in dl.unread {
                    if let Some(queue) = q.queue {
                        pull(queue, &mut out);
                    }
                }
            }
            Cmd::Notice => {
                let n = CommNotice::decode(payload).map_err(|e| lost(&e))?;
                if let Some(queue) = n.queue {
                    pull(queue, &mut out);
                }
            }
            Cmd::Sync => {
                let dl = CommSyncDl::decode(payload).map_err(|e| lost(&e))?;
                if let Some(reason) = dl.metas.iter().find_map(kicked) {
                    return Err(End::Kicked(reason));
                }
                match dl.queue {
                    Some(queue) => self.on_batch(queue, dl.metas, dl.next_key, pulls, &mut out),
                    None => self.on_ack(dl),
                }
            }
            Cmd::Logout => return Err(End::Lost("logged out by the server".into())),
            Cmd::Provision => {}
        }
        Ok(out)
    }

    /// A pulled batch: hand its events over, then acknowledge it with the next pull. An empty
    /// batch ends the pull, unless the queue was announced again meanwhile.
    fn on_batch(
        &mut self,
        queue: Jid,
        metas: Vec<Meta>,
        next_key: Option<u64>,
        pulls: &mut HashMap<String, bool>,
        out: &mut Vec<Vec<u8>>,
    ) {
        let key = queue_key(&queue);
        if metas.is_empty() {
            match pulls.get_mut(&key) {
                Some(again) if *again => {
                    *again = false;
                    out.push(pull_frame(queue, None));
                }
                _ => {
                    pulls.remove(&key);
                }
            }
            return;
        }
        for meta in &metas {
            if !self.seen.first(meta.id.unwrap_or_default()) {
                continue;
            }
            if let Some(event) = crate::event::from_meta(meta) {
                self.emit(event);
            }
        }
        pulls.entry(key).or_insert(false);
        out.push(pull_frame(queue, next_key));
    }

    /// The answer to a send.
    fn on_ack(&mut self, dl: CommSyncDl) {
        let Some(p) = dl.meta_id.and_then(|id| self.pending.remove(&id)) else {
            return;
        };
        let status = dl.status.unwrap_or_default();
        let result = match status.error_code.unwrap_or(0) {
            0 => Ok((
                dl.server_id.unwrap_or_default(),
                dl.timestamp.unwrap_or_default(),
            )),
            code => Err(Error::from_send(code, status.reason.unwrap_or_default())),
        };
        let _ = p.done.send(result);
    }
}

/// The reason, if `meta` is the server logging this device out (a STATISTIC meta).
fn kicked(meta: &Meta) -> Option<String> {
    if meta.ns != Some(NameSpace::Statistic as i32) {
        return None;
    }
    let body = StatisticsBody::decode(meta.payload.clone()?).ok()?;
    match statistics_body::Operation::try_from(body.operation?).ok()? {
        statistics_body::Operation::UserRemoved => Some("the user was deleted".into()),
        statistics_body::Operation::UserKickedByChangePassword => {
            Some("the password was changed".into())
        }
        statistics_body::Operation::UserLoginAnotherDevice
        | statistics_body::Operation::UserKickedByOtherDevice => {
            Some("logged in on another device".into())
        }
        statistics_body::Operation::Information => None,
    }
}

fn queue_key(q: &Jid) -> String {
    format!(
        "{}@{}",
        q.name.as_deref().unwrap_or_default(),
        q.domain.as_deref().unwrap_or_default()
    )
}

fn pull_frame(queue: Jid, key: Option<u64>) -> Vec<u8> {
    ClientFrame::Sync(CommSyncUl {
        queue: Some(queue),
        key,
        ..Default::default()
    })
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redelivered_id_is_seen_once() {
        let mut s = Seen::default();
        assert!(s.first(1));
        assert!(!s.first(1));
        for id in 2..(REMEMBERED as u64 + 10) {
            assert!(s.first(id));
        }
        assert_eq!(s.ids.len(), REMEMBERED);
    }
}
