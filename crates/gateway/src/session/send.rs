//! Sending: a CHAT meta from a device (a message of any chat type, or a read, delivery or
//! conversation ack) is mapped to the domain's message, stored by the service, and acked with
//! the server id; every refusal becomes the status the SDK maps to its error.
use roam_domain::service::SendError;
use roam_protocol::{
    msync,
    pb::{Meta, status::ErrorCode},
};
use roam_wire::msync::{BadClientMessage, new_message};

use super::{Session, reject};

impl Session {
    /// Stores the message in `meta` and answers with its ack (meta id, server id, server
    /// time), or with the refusal.
    pub(super) async fn send(&self, meta: Meta) -> Vec<u8> {
        let meta_id = meta.id.unwrap_or(0);
        let reject = |code: ErrorCode, reason: &str| reject(meta_id, code, reason);
        let message = match new_message(&self.online().device, &meta) {
            Ok(m) => m,
            Err(BadClientMessage::UndecodableBody) => {
                return reject(ErrorCode::PbParserError, "undecodable message body");
            }
            Err(BadClientMessage::Recall) => {
                return reject(ErrorCode::Fail, "message recall disabled");
            }
            Err(BadClientMessage::UnsupportedType) => {
                return reject(ErrorCode::WrongParameter, "unsupported message type");
            }
            Err(BadClientMessage::BadGroupId(_)) => {
                return reject(ErrorCode::Fail, "group not found");
            }
            Err(BadClientMessage::BadUserId(to)) => {
                return reject(ErrorCode::Fail, &format!("username {to} doesn't exist!"));
            }
            Err(BadClientMessage::TooLarge(_)) => {
                return reject(ErrorCode::PermissionDenied, "Sorry, data is too large");
            }
        };
        let kind = message.kind;
        match self.gw.roam.send(message).await {
            Ok(stored) => {
                self.gw.traffic.record_received(kind);
                msync::send_ack(meta_id, stored.id.0, stored.timestamp_ms)
            }
            Err(SendError::RecipientNotFound(to)) => {
                reject(ErrorCode::Fail, &format!("username {to} doesn't exist!"))
            }
            Err(SendError::GroupNotFound(_)) => reject(ErrorCode::Fail, "group not found"),
            Err(SendError::NotMember(_)) => reject(ErrorCode::Fail, "not in group or chatroom"),
            Err(SendError::NotAllowed) => reject(ErrorCode::PermissionDenied, "not allowed"),
            Err(SendError::TooLarge(_)) => {
                reject(ErrorCode::PermissionDenied, "Sorry, data is too large")
            }
            Err(SendError::Store(e)) => {
                tracing::error!(error = %e, "send failed on storage");
                reject(ErrorCode::Fail, "Sorry, internal server error")
            }
        }
    }
}
