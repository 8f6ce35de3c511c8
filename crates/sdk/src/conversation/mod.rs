//! The server-side conversation and history operations, under the official SDK's names:
//! `get_server_conversations`, `get_server_pinned_conversations`, `pin_conversation`,
//! `get_history_messages`, `remove_history_messages`, `delete_conversation`, and marks.
//! Each validates its arguments as the official SDK does, then calls the REST API; bodies and
//! answers are the protocol crate's [`roam_protocol::rest::roaming`] types, the very ones the
//! server writes.
//!
//! - [`list`]: the conversation list (all, pinned, marked);
//! - [`flags`]: pins, marks and conversation deletes;
//! - [`history`]: history pages and one-way message deletes.
use crate::InputError;

mod flags;
mod history;
mod list;

pub use flags::{ConversationRef, PinState};
pub use history::{Direction, HistoryPage, HistoryQuery, Removal};
pub use list::{Conversation, ConversationPage, ConversationQuery};

/// Most items a page holds (conversations or messages).
///
/// ```
/// let q = roam_sdk::ConversationQuery { page_size: roam_sdk::MAX_PAGE_SIZE, ..Default::default() };
/// assert_eq!(q.page_size, 50);
/// ```
pub const MAX_PAGE_SIZE: u32 = 50;
/// Most message ids one delete names.
///
/// ```
/// let ids: Vec<u64> = (1..=roam_sdk::MAX_DELETE_IDS as u64).collect();
/// let removal = roam_sdk::Removal::Ids(ids); // the most one call takes
/// ```
pub const MAX_DELETE_IDS: usize = 50;

fn page_size(n: u32) -> Result<u32, InputError> {
    if (1..=MAX_PAGE_SIZE).contains(&n) {
        Ok(n)
    } else {
        Err(InputError::PageSize(n))
    }
}

/// A mark (0..=19) as the REST API names it: `mark_N`.
fn mark_name(mark: u8) -> Result<String, InputError> {
    if mark < 20 {
        Ok(format!("mark_{mark}"))
    } else {
        Err(InputError::Mark(mark))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked_like_the_official_sdk() {
        assert_eq!(page_size(0), Err(InputError::PageSize(0)));
        assert_eq!(page_size(51), Err(InputError::PageSize(51)));
        assert_eq!(page_size(50), Ok(50));
        assert_eq!(mark_name(19).unwrap(), "mark_19");
        assert_eq!(mark_name(20), Err(InputError::Mark(20)));
    }
}
