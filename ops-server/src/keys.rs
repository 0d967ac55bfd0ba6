//! A namespace's API keys: made here from the operating system's randomness, shown once, and kept by the
//! store as a bcrypt hash beside a nonce that every token issued for the key names.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ops_core::NamespaceKey;

/// Random bytes in a key: 256 bits, 43 characters once encoded.
const KEY_BYTES: usize = 32;

/// Random bytes in a nonce: 128 bits, 22 characters once encoded.
const NONCE_BYTES: usize = 16;

/// The longest key bcrypt reads whole; it ignores bytes past 72, so a longer key presented is refused
/// rather than matched on its first 72 bytes.
pub const MAX_KEY_LEN: usize = 72;

/// Why a key could not be made or checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The operating system gave no random bytes.
    #[error("cannot read random bytes from the operating system")]
    Random(#[source] getrandom::Error),
    /// bcrypt refused to hash the key (a cost outside 4 to 31).
    #[error("cannot hash the key")]
    Hash(#[source] bcrypt::BcryptError),
}

/// A key just made: the key itself, to show once, and what the store keeps of it.
#[derive(Debug)]
#[non_exhaustive]
pub struct IssuedKey {
    /// The key, to hand to its user; nothing keeps it.
    pub key: String,
    /// Its hash and a fresh nonce, for [`Store::add_namespace_key`](ops_core::Store::add_namespace_key)
    /// or [`Store::replace_namespace_key`](ops_core::Store::replace_namespace_key).
    pub stored: NamespaceKey,
}

/// Makes a key for `key_name` of `namespace`, hashed at bcrypt's default cost (12, as Shaken Fist's
/// `bcrypt.gensalt()`).
pub fn issue(namespace: &str, key_name: &str) -> Result<IssuedKey, KeyError> {
    issue_with_cost(namespace, key_name, bcrypt::DEFAULT_COST)
}

/// [`issue`] at another bcrypt cost: each step doubles the time a check takes (about 0.2 s at 12 here).
/// Tests use the least, 4.
pub fn issue_with_cost(namespace: &str, key_name: &str, cost: u32) -> Result<IssuedKey, KeyError> {
    let key = random_text(KEY_BYTES)?;
    let hash = bcrypt::hash(&key, cost).map_err(KeyError::Hash)?;
    Ok(IssuedKey {
        stored: NamespaceKey::new(namespace, key_name, hash, new_nonce()?),
        key,
    })
}

/// A fresh nonce for a key.
pub fn new_nonce() -> Result<String, KeyError> {
    random_text(NONCE_BYTES)
}

/// Whether `presented` is the key `stored` was made for. bcrypt compares the hashes in constant time; a
/// key longer than [`MAX_KEY_LEN`] or a stored hash bcrypt cannot read never matches.
pub fn matches(stored: &NamespaceKey, presented: &str) -> bool {
    presented.len() <= MAX_KEY_LEN && bcrypt::verify(presented, &stored.key_hash).unwrap_or(false)
}

/// A new token signing secret, as text: 256 random bits.
pub(crate) fn new_secret_text() -> Result<String, KeyError> {
    random_text(KEY_BYTES)
}

fn random_text(bytes: usize) -> Result<String, KeyError> {
    let mut random = vec![0_u8; bytes];
    getrandom::fill(&mut random).map_err(KeyError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(random))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_key_matches_its_hash_and_nothing_else() {
        let issued = issue_with_cost("team-a", "deploy", 4).unwrap();
        assert_eq!(issued.key.len(), 43);
        assert!(
            issued.stored.key_hash.starts_with("$2b$04$"),
            "{}",
            issued.stored.key_hash
        );
        assert!(!issued.stored.key_hash.contains(&issued.key));
        assert_eq!(
            (
                issued.stored.namespace.as_str(),
                issued.stored.key_name.as_str()
            ),
            ("team-a", "deploy")
        );
        assert!(matches(&issued.stored, &issued.key));
        assert!(!matches(&issued.stored, &issued.key[1..]));
        assert!(!matches(&issued.stored, ""));
        let other = issue_with_cost("team-a", "deploy", 4).unwrap();
        assert_ne!(other.key, issued.key);
        assert_ne!(other.stored.nonce, issued.stored.nonce);
        assert!(!matches(&other.stored, &issued.key));
    }

    #[test]
    fn a_key_longer_than_bcrypt_reads_never_matches() {
        // bcrypt would match any key that starts with the same 72 bytes.
        let long = "k".repeat(MAX_KEY_LEN);
        let stored = NamespaceKey::new("system", "admin", bcrypt::hash(&long, 4).unwrap(), "nonce");
        assert!(matches(&stored, &long));
        assert!(!matches(&stored, &format!("{long}extra")));
    }

    #[test]
    fn an_unreadable_hash_never_matches() {
        let stored = NamespaceKey::new("system", "admin", "not a bcrypt hash", "nonce");
        assert!(!matches(&stored, "anything"));
    }

    #[test]
    fn nonces_are_fresh_url_safe_text() {
        let (a, b) = (new_nonce().unwrap(), new_nonce().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{a}"
        );
    }
}
