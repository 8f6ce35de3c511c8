//! Access tokens: opaque random strings; the store keeps only their SHA-256.
use sha2::{Digest, Sha256};

use crate::user::UserId;

pub mod throttle;

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

/// The app's admin credential (Easemob's `client_id`/`client_secret`), as the server keeps it:
/// the id, and only a SHA-256 digest of the secret (bound to the id). Why SHA-256 and not
/// argon2: a generated secret has 192 random bits, beyond any guessing, and a cheap check keeps
/// failed `client_credentials` grants from costing argon2 work; throttling limits the guesses.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminCredential {
    pub client_id: String,
    digest: [u8; 32],
}

/// The prefix of [`AdminCredential::to_stored`]'s form.
const STORED_PREFIX: &str = "sha256\n";

impl AdminCredential {
    /// The credential with this secret (e.g. from the configuration).
    pub fn new(client_id: &str, client_secret: &str) -> AdminCredential {
        AdminCredential {
            client_id: client_id.to_owned(),
            digest: digest(client_id, client_secret),
        }
    }

    /// A fresh random credential, for a first start without a configured one, and its secret:
    /// shown to the operator, never stored.
    pub fn generate() -> (AdminCredential, String) {
        let id: [u8; 12] = rand::random();
        let secret: [u8; 24] = rand::random();
        let (id, secret) = (
            format!("YXA6{}", hex::encode(id)),
            format!("YXA6{}", hex::encode(secret)),
        );
        (AdminCredential::new(&id, &secret), secret)
    }

    /// The form the store keeps: the id and the secret's digest, no secret.
    pub fn to_stored(&self) -> String {
        format!(
            "{STORED_PREFIX}{}\n{}",
            self.client_id,
            hex::encode(self.digest)
        )
    }

    /// Reads [`AdminCredential::to_stored`]'s form; also the plain `id\nsecret` that earlier
    /// versions stored (the caller should store it again in the new form).
    pub fn from_stored(stored: &str) -> Option<AdminCredential> {
        if let Some(rest) = stored.strip_prefix(STORED_PREFIX) {
            let (id, hex_digest) = rest.split_once('\n')?;
            let digest = hex::decode(hex_digest).ok()?.try_into().ok()?;
            return Some(AdminCredential {
                client_id: id.to_owned(),
                digest,
            });
        }
        let (id, secret) = stored.split_once('\n')?;
        Some(AdminCredential::new(id, secret))
    }

    /// Whether `stored` is in a form that holds the secret itself (as earlier versions stored).
    pub fn stored_in_plain(stored: &str) -> bool {
        !stored.starts_with(STORED_PREFIX)
    }

    /// Names this credential without revealing it: changes whenever the id or the secret does.
    /// Admin tokens issued under another fingerprint are void (see `Roam::settle_admin_credential`).
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.digest))
    }

    /// Compares without an early exit, so timing does not tell how much of a guess was right.
    pub fn matches(&self, client_id: &str, client_secret: &str) -> bool {
        let b = digest(client_id, client_secret);
        self.digest
            .iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
    }
}

impl std::fmt::Debug for AdminCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminCredential")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

fn digest(client_id: &str, client_secret: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"roam-admin\0");
    h.update(client_id.as_bytes());
    h.update(b"\0");
    h.update(client_secret.as_bytes());
    h.finalize().into()
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
        let (c, secret) = AdminCredential::generate();
        assert!(c.matches(&c.client_id, &secret));
        assert!(!c.matches(&c.client_id, "nope"));
        assert!(!c.matches("", ""));
        assert!(!c.matches(&format!("{}x", c.client_id), &secret));
    }

    #[test]
    fn the_stored_form_keeps_no_secret() {
        let (c, secret) = AdminCredential::generate();
        let stored = c.to_stored();
        assert!(!stored.contains(&secret), "{stored}");
        assert!(!AdminCredential::stored_in_plain(&stored));
        let back = AdminCredential::from_stored(&stored).unwrap();
        assert_eq!(back, c);
        assert!(back.matches(&c.client_id, &secret));
        // What earlier versions stored still reads, and is recognised as plain.
        let old = format!("{}\n{secret}", c.client_id);
        assert!(AdminCredential::stored_in_plain(&old));
        assert_eq!(AdminCredential::from_stored(&old).unwrap(), c);
        assert!(AdminCredential::from_stored("sha256\nid\nnothex").is_none());
    }

    #[test]
    fn the_fingerprint_follows_the_secret() {
        let a = AdminCredential::new("id", "one");
        assert_eq!(
            a.fingerprint(),
            AdminCredential::new("id", "one").fingerprint()
        );
        assert_ne!(
            a.fingerprint(),
            AdminCredential::new("id", "two").fingerprint()
        );
        assert!(!a.fingerprint().contains(&hex::encode(digest("id", "one"))));
    }
}
