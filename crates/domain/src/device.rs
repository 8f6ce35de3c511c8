//! Devices: one user may be online on several devices at once ("multi-device").
use std::fmt;

use crate::{id::MessageId, user::UserId};

/// The name a device gives itself at login (the SDK's `clientResource`, e.g. `webim_web_1795…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resource(String);

/// Why a resource was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("device resource must be 1 to 128 printable characters")]
pub struct InvalidResource;

impl Resource {
    pub fn parse(raw: &str) -> Result<Resource, InvalidResource> {
        if !raw.is_empty() && raw.len() <= 128 && !raw.chars().any(char::is_control) {
            Ok(Resource(raw.to_owned()))
        } else {
            Err(InvalidResource)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A device as the store knows it.
///
/// `registered` is the message-id watermark taken when the device first logged in. A device is
/// owed what was sent to its user and not yet delivered to any device, plus everything from its
/// registration on — but never its user's own messages from before it existed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub user: UserId,
    pub resource: Resource,
    pub registered: MessageId,
}
