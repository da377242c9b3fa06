//! Partners' shared secrets at rest. They must be recoverable (they
//! decrypt and sign every message), so they are sealed with AES-256-GCM
//! under `PARTNER_SECRETS_KEY` rather than hashed: a copy of the table alone
//! reveals nothing, and a changed byte fails to open instead of signing
//! with a wrong key.

use super::wire::WireKeys;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use kernel::error::Error;
use kernel::secret::Secret;

const NONCE_LEN: usize = 12;

/// The key that seals partners' secrets; a function without it does not
/// speak to partners.
pub fn key(domain: &domain::Domain) -> Result<&Secret<[u8; 32]>, Error> {
    domain
        .settings
        .partner_secrets_key
        .as_ref()
        .ok_or_else(|| Error::internal("PARTNER_SECRETS_KEY is not set for this function"))
}

/// Hex of a fresh nonce followed by the cipher text of the keys' JSON.
pub fn seal(key: &Secret<[u8; 32]>, keys: &WireKeys) -> Result<String, Error> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce)
        .map_err(|e| Error::internal(format!("no randomness from the OS: {e}")))?;
    let plain = serde_json::to_vec(keys).map_err(Error::internal)?;
    let sealed = Aes256Gcm::new(key.expose().into())
        .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
        .map_err(|_| Error::internal("sealing a partner's secrets failed"))?;
    Ok(hex::encode([nonce.as_slice(), &sealed].concat()))
}

/// The keys sealed by [`seal`] under the same key.
pub fn open(key: &Secret<[u8; 32]>, sealed: &str) -> Result<WireKeys, Error> {
    let broken = || Error::internal("a partner's sealed secrets do not open with this key");
    let raw = hex::decode(sealed).map_err(|_| broken())?;
    if raw.len() <= NONCE_LEN {
        return Err(broken());
    }
    let (nonce, text) = raw.split_at(NONCE_LEN);
    let plain = Aes256Gcm::new(key.expose().into())
        .decrypt(Nonce::from_slice(nonce), text)
        .map_err(|_| broken())?;
    serde_json::from_slice(&plain).map_err(|_| broken())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> WireKeys {
        WireKeys {
            data_secret: Secret::new("1234567890abcdef".into()),
            data_secret_iv: Secret::new("abcdef1234567890".into()),
            sig_secret: Secret::new("0000111122223333".into()),
        }
    }

    #[test]
    fn sealed_keys_open_with_the_same_key_only() {
        let key = Secret::new([7u8; 32]);
        let sealed = seal(&key, &keys()).unwrap();
        assert!(!sealed.contains(&hex::encode("1234567890abcdef")));
        assert_eq!(open(&key, &sealed).unwrap(), keys());
        assert!(open(&Secret::new([8u8; 32]), &sealed).is_err());
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert!(open(&key, &String::from_utf8(tampered).unwrap()).is_err());
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let key = Secret::new([7u8; 32]);
        assert_ne!(seal(&key, &keys()).unwrap(), seal(&key, &keys()).unwrap());
    }
}
