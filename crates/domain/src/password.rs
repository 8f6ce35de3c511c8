//! Passwords: what a user chooses, and the argon2id hash that is all the store keeps.
//!
//! Hashing and checking take tens of milliseconds and ~19 MiB of working memory each. The
//! functions here take that memory from the caller ([`Memory`]) so that a worker can reuse one
//! block for every hash it computes: an allocation of 19 MiB per login is what let failed logins
//! grow the process by gigabytes (the allocator kept the freed blocks). The use-cases run them
//! on [`pool::HashPool`], a fixed set of threads that each own one [`Memory`].
use std::{fmt, sync::LazyLock};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::phc::{Output, ParamsString, PasswordHash as Phc, Salt},
};

pub mod pool;

/// A password as a user chose it: 1..=64 characters. Never stored; only its hash is.
#[derive(Clone)]
pub struct Password(String);

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password must be 1 to 64 characters")]
pub struct InvalidPassword;

/// Most argon2 blocks (KiB) a stored hash may ask for: 4 × the default. A hash asking for more
/// is treated as not matching rather than allocating what it says.
const MAX_BLOCKS: u32 = 4 * Params::DEFAULT_M_COST;

/// The working memory of one argon2 computation, kept and reused by its owner.
#[derive(Default)]
pub struct Memory(Vec<Block>);

impl Memory {
    /// The first `blocks` blocks, growing (once) if this memory is smaller.
    fn blocks(&mut self, blocks: usize) -> &mut [Block] {
        if self.0.len() < blocks {
            self.0.resize(blocks, Block::default());
        }
        &mut self.0[..blocks]
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.0.len() * Block::SIZE
    }
}

impl Password {
    pub fn parse(raw: &str) -> Result<Password, InvalidPassword> {
        let n = raw.chars().count();
        if (1..=64).contains(&n) {
            Ok(Password(raw.to_owned()))
        } else {
            Err(InvalidPassword)
        }
    }

    /// Hashes with argon2id (default parameters) and a random salt, in fresh memory. For tests
    /// and tools; the server hashes on [`pool::HashPool`] with [`Password::hash_in`].
    pub fn hash(&self) -> PasswordHash {
        self.hash_in(&mut Memory::default())
    }

    /// Hashes with argon2id (default parameters) and a random salt, in `memory`.
    pub fn hash_in(&self, memory: &mut Memory) -> PasswordHash {
        let salt: [u8; 16] = rand::random();
        let params = Params::default();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        argon
            .hash_password_into_with_memory(
                self.0.as_bytes(),
                &salt,
                &mut out,
                memory.blocks(params.block_count()),
            )
            .expect("argon2id with default parameters and a 16-byte salt accepts any password");
        let phc = Phc {
            algorithm: argon2::ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).expect("default parameters encode"),
            salt: Some(Salt::new(&salt).expect("16 bytes is a valid salt")),
            hash: Some(Output::new(&out).expect("32 bytes is a valid output")),
        };
        PasswordHash(phc.to_string())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// An argon2 hash in PHC string form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

/// The hash checked when the user does not exist, so that an unknown user costs the same
/// argon2 work as a wrong password and timing does not tell which users exist. Its password is
/// random and thrown away: nothing matches it.
static DUMMY: LazyLock<PasswordHash> = LazyLock::new(|| {
    let random: [u8; 16] = rand::random();
    Password(hex::encode(random)).hash()
});

impl PasswordHash {
    /// Wraps a PHC string read back from storage.
    pub fn from_stored(phc: String) -> PasswordHash {
        PasswordHash(phc)
    }

    /// A hash no password matches, with the parameters of real ones (see `DUMMY`).
    pub fn dummy() -> &'static PasswordHash {
        &DUMMY
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks `candidate` in fresh memory. For tests and tools; see [`PasswordHash::verify_in`].
    pub fn verify(&self, candidate: &str) -> bool {
        self.verify_in(candidate, &mut Memory::default())
    }

    /// Checks `candidate` in `memory`, comparing in constant time. Slow on purpose. A hash that
    /// does not parse, or asks for more than `MAX_BLOCKS` of memory, matches nothing.
    pub fn verify_in(&self, candidate: &str, memory: &mut Memory) -> bool {
        let Ok(phc) = Phc::new(&self.0) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(phc.algorithm.as_str()) else {
            return false;
        };
        let version = match phc.version.map(Version::try_from) {
            None => Version::default(),
            Some(Ok(v)) => v,
            Some(Err(_)) => return false,
        };
        let Ok(params) = Params::try_from(&phc.params) else {
            return false;
        };
        if params.m_cost() > MAX_BLOCKS {
            return false;
        }
        let argon = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0u8; expected.len()];
        let blocks = memory.blocks(params.block_count());
        if argon
            .hash_password_into_with_memory(candidate.as_bytes(), salt, &mut out, blocks)
            .is_err()
        {
            return false;
        }
        out.iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_verifies_only_the_password() {
        let h = Password::parse("secret").unwrap().hash();
        assert!(h.verify("secret"));
        assert!(!h.verify("Secret"));
        assert!(!PasswordHash::from_stored("garbage".into()).verify("secret"));
        assert!(Password::parse("").is_err());
    }

    #[test]
    fn hashes_interoperate_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // A hash made by the crate's own API (as stored by earlier versions) still verifies.
        let theirs = Argon2::default().hash_password(b"pw").unwrap().to_string();
        assert!(PasswordHash::from_stored(theirs).verify("pw"));
        // And ours verifies with theirs.
        let ours = Password::parse("pw").unwrap().hash();
        let phc = Phc::new(ours.as_str()).unwrap();
        assert!(Argon2::default().verify_password(b"pw", &phc).is_ok());
    }

    #[test]
    fn memory_is_reused_not_grown() {
        let mut memory = Memory::default();
        let h = Password::parse("pw").unwrap().hash_in(&mut memory);
        let held = memory.bytes();
        assert_eq!(held, 19 * 1024 * 1024);
        assert!(h.verify_in("pw", &mut memory));
        assert!(!PasswordHash::dummy().verify_in("pw", &mut memory));
        assert_eq!(memory.bytes(), held);
    }

    #[test]
    fn a_hash_asking_for_huge_memory_matches_nothing() {
        let huge = "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let mut memory = Memory::default();
        assert!(!PasswordHash::from_stored(huge.into()).verify_in("pw", &mut memory));
        assert_eq!(memory.bytes(), 0);
    }
}
