//! Access tokens: opaque random strings; the store keeps only their SHA-256.
use sha2::{Digest, Sha256};

use crate::user::UserId;

/// Who a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A user: may act as this user only.
    User(UserId),
    /// The app's administrator (the `client_credentials` grant): may manage every user.
    Admin,
}

/// A token as handed to a client. Shown once; not recoverable from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A new token: 32 random bytes, hex-encoded.
    pub fn generate() -> Token {
        let bytes: [u8; 32] = rand::random();
        Token(hex::encode(bytes))
    }

    /// Wraps a token a client presented.
    pub fn presented(raw: &str) -> Token {
        Token(raw.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

/// The SHA-256 of a token: what the store keys tokens by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

/// A stored token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub hash: TokenHash,
    pub principal: Principal,
    /// Absolute expiry, epoch ms.
    pub expires_ms: u64,
}

/// The app's admin credential (Easemob's `client_id`/`client_secret`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminCredential {
    pub client_id: String,
    pub client_secret: String,
}

impl AdminCredential {
    /// A fresh random credential, for a first start without a configured one.
    pub fn generate() -> AdminCredential {
        let id: [u8; 12] = rand::random();
        let secret: [u8; 24] = rand::random();
        AdminCredential {
            client_id: format!("YXA6{}", hex::encode(id)),
            client_secret: format!("YXA6{}", hex::encode(secret)),
        }
    }

    /// Compares without an early exit, so timing does not tell how much of a guess was right.
    pub fn matches(&self, client_id: &str, client_secret: &str) -> bool {
        let a = Sha256::digest(format!("{}\0{}", self.client_id, self.client_secret));
        let b = Sha256::digest(format!("{client_id}\0{client_secret}"));
        a.iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_stably() {
        let (a, b) = (Token::generate(), Token::generate());
        assert_ne!(a, b);
        assert_eq!(a.hash(), Token::presented(a.as_str()).hash());
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn admin_credential_matches_exactly() {
        let c = AdminCredential::generate();
        assert!(c.matches(&c.client_id, &c.client_secret));
        assert!(!c.matches(&c.client_id, "nope"));
        assert!(!c.matches("", ""));
    }
}
