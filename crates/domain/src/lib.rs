//! Roam's domain: the nouns of an IM server and the use-cases that combine them.
//!
//! # Layout
//! - [`user`], [`device`], [`group`], [`conversation`], [`message`], [`id`], [`auth`]: domain types that parse at the edge
//!   (`UserId::parse`), so nothing inside handles a bare `String`.
//! - [`password`]: passwords, their argon2 hashes, and the thread pool that computes them.
//! - [`roaming`]: the conversation list and history kept per user (pins, marks, deletes).
//! - [`store`]: the traits storage engines implement, one per concern (users, delivery, groups,
//!   roaming) summed up as [`store::Store`], and its error; and the rule that a write and the
//!   events it causes commit together, with live signals only after the commit.
//! - [`recent`]: the recent messages of each group, kept in memory to answer members' pulls.
//! - [`limits`]: the most a client may send of anything (names, id lists, messages).
//! - [`fanout`]: the [`fanout::Fanout`] trait through which use-cases reach online devices.
//! - [`service`]: the use-cases ([`service::Roam`]), the only place that combines store and fan-out.
//!
//! This crate knows no wire format and does no I/O of its own; transports (msync, REST) sit
//! above it and storage engines implement its traits.

pub mod auth;
pub mod conversation;
pub mod device;
pub mod fanout;
pub mod group;
pub mod id;
pub mod limits;
pub mod message;
pub mod password;
pub mod recent;
pub mod roaming;
pub mod service;
pub mod store;
pub mod user;

/// Easemob's rule for ids (users, groups): 1..=64 of ASCII letters, digits, `_`, `-`, `.`;
/// and Roam's: not dots alone. Ids go into URL paths (`/users/{id}`), where `.` and `..` are
/// dot-segments that clients and proxies remove: such a user could not be addressed.
pub(crate) fn is_legal_id(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !raw.bytes().all(|b| b == b'.')
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
