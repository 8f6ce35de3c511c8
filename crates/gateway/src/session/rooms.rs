//! Chat rooms over msync: the SDK's `joinChatRoom` / `leaveChatRoom` send a MUC meta with a
//! JOIN or LEAVE operation; groups are managed over REST.
use bytes::Bytes;
use prost::Message as _;
use roam_domain::{auth::Principal, now_ms, service::GroupError};
use roam_protocol::{
    msync,
    pb::{MucBody, muc_body::Operation, status::ErrorCode},
};

use super::{Session, reject};

impl Session {
    /// Joins or leaves the room the MUC body names; the ack carries no server id.
    pub(super) async fn room(&self, meta_id: u64, payload: Option<Bytes>) -> Vec<u8> {
        let reject = |code: ErrorCode, reason: &str| reject(meta_id, code, reason);
        let Some(muc) = payload.and_then(|p| MucBody::decode(p).ok()) else {
            return reject(ErrorCode::PbParserError, "undecodable MUC body");
        };
        let id = muc
            .muc_id
            .as_ref()
            .and_then(|j| j.name.clone())
            .unwrap_or_default();
        let caller = Principal::User(self.me().clone());
        let result = match Operation::try_from(muc.operation.unwrap_or(-1)) {
            Ok(Operation::Join) => self.gw.roam.join_group(&caller, &id).await.map(|_| ()),
            Ok(Operation::Leave) => self.gw.roam.leave_group(&caller, &id).await,
            _ => return reject(ErrorCode::UnknownCommand, "unsupported MUC operation"),
        };
        match result {
            Ok(()) => msync::send_ack(meta_id, 0, now_ms()),
            Err(GroupError::NotFound(g)) => {
                reject(ErrorCode::Fail, &format!("grpID {g} does not exist!"))
            }
            Err(GroupError::InvalidGroupId(_)) => {
                reject(ErrorCode::Fail, "group ID illegal, please check it")
            }
            Err(GroupError::Full(_)) => reject(ErrorCode::Fail, "group member list is full!"),
            Err(GroupError::NotMember(..)) => reject(ErrorCode::Fail, "not in group or chatroom"),
            Err(GroupError::Store(e)) => {
                tracing::error!(error = %e, "MUC operation failed on storage");
                reject(ErrorCode::Fail, "Sorry, internal server error")
            }
            Err(e) => reject(ErrorCode::PermissionDenied, &e.to_string()),
        }
    }
}
