//! A value that must never reach a log: its `Debug` is redacted, and it is
//! read only through [`Secret::expose`]. Serialization passes it through,
//! for the one answer that shows a new secret to its owner. Also how
//! secrets are made and kept: 32 random bytes, stored only as a SHA-256
//! hash (they are high-entropy, so a slow hash buys nothing).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A fresh random secret as 64 hex characters.
pub fn new_secret() -> Result<String, crate::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| crate::Error::internal(format!("no randomness from the OS: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares a presented secret with a stored hash in constant time.
pub fn secret_matches(presented: &str, stored_hash: &str) -> bool {
    hash_secret(presented)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_stored_as_hashes_that_still_verify() {
        let secret = new_secret().unwrap();
        assert_eq!(secret.len(), 64);
        let stored = hash_secret(&secret);
        assert_ne!(stored, secret);
        assert!(secret_matches(&secret, &stored));
        assert!(!secret_matches(&new_secret().unwrap(), &stored));
    }

    #[test]
    fn debug_output_never_shows_the_value() {
        let s = Secret::new("hunter2-0123456789".to_owned());
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&s)), "Some([redacted])");
        assert_eq!(s.expose(), "hunter2-0123456789");
    }

    #[test]
    fn serialization_passes_the_value_through() {
        let s = Secret::new("abc".to_owned());
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"abc\"");
    }
}
