//! Group membership as the use-cases see it: the members of a group, answered from the kept
//! lists ([`crate::group::roster`]) when they can be, and membership writes run so that those
//! lists never go stale.
use std::{future::Future, sync::Arc};

use super::Roam;
use crate::{
    group::{
        GroupId,
        roster::{Scope, Ticket},
    },
    store::StoreError,
    user::UserId,
};

impl Roam {
    /// Every member of `group`, None if there is no such group. From memory when the group's
    /// list is kept, else read from the store (and kept, when no membership write overlapped
    /// the read).
    pub(super) async fn members(
        &self,
        group: &GroupId,
    ) -> Result<Option<Arc<[UserId]>>, StoreError> {
        let ticket: Ticket = match self.rosters.get(group) {
            Ok(members) => return Ok(Some(members)),
            Err(ticket) => ticket,
        };
        // A list is kept only for a group that exists: a send to an unknown one must keep
        // failing, and an operator may reuse a destroyed group's id.
        if self.store.group(group).await?.is_none() {
            return Ok(None);
        }
        let ids = self.store.member_ids(group).await?;
        Ok(Some(self.rosters.fill(group, ticket, ids)))
    }

    /// Runs `write`, a store write that may change the members of `scope`, with the kept lists
    /// of `scope` bypassed while it runs and dropped once it has committed or failed.
    ///
    /// The write runs in a task of its own, so that it is seen to its end even if the caller is
    /// dropped (a REST client that hangs up, a closing connection): the store would finish a
    /// write already queued, and the lists must be dropped after it commits, not before.
    pub(super) async fn membership_write<T, W>(
        &self,
        scope: Scope,
        write: W,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let writing = self.rosters.writing(scope);
        tokio::spawn(async move {
            let done = write.await;
            drop(writing);
            done
        })
        .await
        .map_err(|e| StoreError::Engine(format!("a membership write did not finish: {e}")))?
    }
}
