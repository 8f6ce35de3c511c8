//! Message roaming: a user's conversation list and history as the server keeps them, so every
//! device of the user sees the same conversations, unread counts, pins, marks and history.
//!
//! Per user the store keeps positions only — where their side of a conversation starts (join
//! or clear point), their read position, the ids they deleted, pin time and marks — never copies
//! of messages. Unread counts are arithmetic on those positions.
use std::fmt;

use crate::{conversation::Target, id::MessageId, message::StoredMessage, user::UserId};

mod event;
pub use event::{ConversationEvent, ConversationOp};

/// Most items one page of a list or of history carries.
pub const MAX_PAGE: usize = 50;

/// Most message ids one one-way delete takes.
pub const MAX_DELETE_IDS: usize = 50;

/// Why a roaming request was refused before reaching the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoamingInputError {
    #[error("page size must be 1 to {MAX_PAGE}, got {0}")]
    PageSize(i64),
    #[error("invalid cursor {0:?}")]
    Cursor(String),
    #[error("invalid mark {0:?}: expected mark_0 to mark_19")]
    Mark(String),
    #[error("between 1 and {MAX_DELETE_IDS} message ids a call, got {0}")]
    TooManyIds(usize),
}

/// A page size the API accepts: 1 to [`MAX_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(usize);

impl PageSize {
    pub fn parse(n: i64) -> Result<PageSize, RoamingInputError> {
        usize::try_from(n)
            .ok()
            .filter(|size| (1..=MAX_PAGE).contains(size))
            .map(PageSize)
            .ok_or(RoamingInputError::PageSize(n))
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// One of the twenty marks (`mark_0` … `mark_19`) an app can put on conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mark(u8);

impl Mark {
    pub const COUNT: u8 = 20;

    /// Parses `mark_N`.
    pub fn parse(raw: &str) -> Result<Mark, RoamingInputError> {
        raw.strip_prefix("mark_")
            .filter(|n| !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| *n < Mark::COUNT)
            .map(Mark)
            .ok_or_else(|| RoamingInputError::Mark(raw.to_owned()))
    }

    pub fn from_index(n: u8) -> Option<Mark> {
        (n < Mark::COUNT).then_some(Mark(n))
    }

    pub fn index(self) -> u8 {
        self.0
    }

    /// This mark as a bit of [`Marks`].
    pub fn bit(self) -> u32 {
        1 << self.0
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mark_{}", self.0)
    }
}

/// The set of marks on a conversation, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Marks(pub u32);

impl Marks {
    pub fn iter(self) -> impl Iterator<Item = Mark> {
        (0..Mark::COUNT)
            .map(Mark)
            .filter(move |m| self.0 & m.bit() != 0)
    }
}

/// Where a list page continues: after the item with this sort key and tie-breaker. Opaque to
/// clients (`{key}.{tie}` in hex). Keyset paging: a conversation that did not move is never
/// repeated or skipped, whatever arrives between pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListCursor {
    /// Activity time (or pin time, for the pinned list), ms.
    pub key: u64,
    /// The store's stable id of the conversation: orders equal keys.
    pub tie: u64,
}

impl ListCursor {
    pub fn encode(&self) -> String {
        format!("{:x}.{:x}", self.key, self.tie)
    }

    /// The inverse of [`ListCursor::encode`]; an empty string is no cursor (the first page).
    pub fn parse(raw: &str) -> Result<Option<ListCursor>, RoamingInputError> {
        if raw.is_empty() || raw == "undefined" || raw == "null" {
            return Ok(None);
        }
        let bad = || RoamingInputError::Cursor(raw.to_owned());
        let (k, t) = raw.split_once('.').ok_or_else(bad)?;
        Ok(Some(ListCursor {
            key: u64::from_str_radix(k, 16).map_err(|_| bad())?,
            tie: u64::from_str_radix(t, 16).map_err(|_| bad())?,
        }))
    }
}

/// Which conversations a list call wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFilter {
    /// Every listed conversation, newest activity first. `include_empty` adds those whose
    /// messages the user deleted entirely.
    All { include_empty: bool },
    /// Pinned conversations, newest pin first.
    Pinned,
    /// Conversations carrying this mark, newest activity first.
    Marked(Mark),
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: ListFilter,
    pub limit: PageSize,
    pub after: Option<ListCursor>,
}

/// One conversation in a user's list.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationSummary {
    pub target: Target,
    /// Activity messages from others after the user's read position that the user has not
    /// deleted.
    pub unread: u64,
    /// When the user pinned it; `None` if not pinned.
    pub pinned_ms: Option<u64>,
    pub marks: Marks,
    /// The newest activity message this user can still see.
    pub last: Option<StoredMessage>,
    /// Its position in the list (the cursor that continues after it).
    pub position: ListCursor,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub items: Vec<ConversationSummary>,
    /// Set when more items follow.
    pub next: Option<ListCursor>,
}

/// Which way history is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Newest first, going back in time ("up").
    NewestFirst,
    /// Oldest first ("down").
    OldestFirst,
}

/// A page of one conversation's history.
#[derive(Debug, Clone)]
pub struct HistoryQuery {
    pub target: Target,
    /// Start after this message (exclusive); `None` = from the newest (or oldest) end.
    pub from: Option<MessageId>,
    pub direction: Direction,
    pub limit: PageSize,
    /// Only these body types (`txt`, `img`, …); empty = all.
    pub content_types: Vec<String>,
    /// Only messages with server time in `[start_ms, end_ms]`.
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    /// Only messages from this sender.
    pub sender: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    /// In the order asked for.
    pub messages: Vec<StoredMessage>,
    /// True when nothing more matches beyond the last message.
    pub is_last: bool,
}

/// A one-way delete: hides messages for one user only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// These messages (1 to [`MAX_DELETE_IDS`]).
    Ids(Vec<MessageId>),
    /// Every message with a server time at or before this, ms.
    Before(u64),
}

impl Removal {
    pub fn ids(ids: Vec<MessageId>) -> Result<Removal, RoamingInputError> {
        if ids.is_empty() || ids.len() > MAX_DELETE_IDS {
            return Err(RoamingInputError::TooManyIds(ids.len()));
        }
        Ok(Removal::Ids(ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_are_1_to_50() {
        assert!(PageSize::parse(0).is_err());
        assert!(PageSize::parse(51).is_err());
        assert!(PageSize::parse(-1).is_err());
        assert_eq!(PageSize::parse(50).unwrap().get(), 50);
    }

    #[test]
    fn marks_parse_and_iterate() {
        assert_eq!(Mark::parse("mark_0").unwrap().index(), 0);
        assert_eq!(Mark::parse("mark_19").unwrap().index(), 19);
        for bad in ["mark_20", "mark_", "mark_-1", "1", "mark_+1"] {
            assert!(Mark::parse(bad).is_err(), "{bad}");
        }
        let m = Marks(Mark::parse("mark_1").unwrap().bit() | Mark::parse("mark_7").unwrap().bit());
        assert_eq!(
            m.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
            ["mark_1", "mark_7"]
        );
    }

    #[test]
    fn cursors_round_trip() {
        let c = ListCursor {
            key: 1_700_000_000_123,
            tie: 42,
        };
        assert_eq!(ListCursor::parse(&c.encode()).unwrap(), Some(c));
        assert_eq!(ListCursor::parse("").unwrap(), None);
        assert!(ListCursor::parse("zz").is_err());
    }

    #[test]
    fn deletes_take_1_to_50_ids() {
        assert!(Removal::ids(vec![]).is_err());
        assert!(Removal::ids((0..51).map(MessageId).collect()).is_err());
        assert!(Removal::ids((0..50).map(MessageId).collect()).is_ok());
    }
}
