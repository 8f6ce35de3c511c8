//! Users: ids, passwords and what is stored about them.
use std::fmt;

/// A user id as Easemob allows it: 1..=64 of ASCII letters, digits, `_`, `-`, `.`; not dots
/// alone (`.` and `..` cannot be addressed in a URL path).
///
/// Case-insensitive: `Alice` and `alice` are one user, so the id is lower-cased when parsed and
/// every layer below compares lower-case ids only. (Easemob's own doc admits mixed case breaks
/// its conversation list; parsing once here is what keeps ours right.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

/// Why a user id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "username [{0}] is not legal: use 1 to 64 of letters, digits, '_', '-', '.', not dots alone"
)]
pub struct InvalidUserId(pub String);

impl UserId {
    pub fn parse(raw: &str) -> Result<UserId, InvalidUserId> {
        let ok = crate::is_legal_id(raw);
        if ok {
            Ok(UserId(raw.to_ascii_lowercase()))
        } else {
            Err(InvalidUserId(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub use crate::password::{InvalidPassword, Password, PasswordHash};

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    /// See [`User::uuid`]; made by [`entity_uuid`].
    pub uuid: String,
    pub password: PasswordHash,
    pub nickname: Option<String>,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    /// A stable opaque uuid, as Easemob returns for every entity.
    pub uuid: String,
    pub password: PasswordHash,
    pub nickname: Option<String>,
    pub created_ms: u64,
    pub modified_ms: u64,
}

/// A random uuid (v4 layout) for Easemob's `uuid` entity fields.
pub fn entity_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_case_insensitive() {
        assert_eq!(
            UserId::parse("Alice").unwrap(),
            UserId::parse("alice").unwrap()
        );
        assert_eq!(UserId::parse("ALICE").unwrap().as_str(), "alice");
    }

    #[test]
    fn user_ids_follow_easemob_rules() {
        for ok in ["a", "a_b-c.d", "A1", &"x".repeat(64), "a..", ".a", "_", "-"] {
            assert!(UserId::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a@b",
            "é",
            "a/b",
            &"x".repeat(65),
            ".",
            "..",
            "...",
        ] {
            assert!(UserId::parse(bad).is_err(), "{bad}");
        }
    }
}
