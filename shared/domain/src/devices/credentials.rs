//! Device secrets and access tokens.
//!
//! Secrets are 32 random bytes shown once and stored only as a SHA-256 hash
//! (they are high-entropy, so a slow hash buys nothing). Access tokens are
//! self-verifying so that a heartbeat needs no token lookup: 16 bytes of
//! device id, 6 bytes of issue time in milliseconds and an 80-bit
//! HMAC-SHA256 tag, 64 hex characters in all. Nothing about a token is
//! stored; rotating a device's secret sets `revoked_before`, which kills
//! every token issued earlier.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hmac::{Hmac, Mac};
use kernel::ids::DeviceId;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

const TAG_LEN: usize = 10;
const TOKEN_LEN: usize = 16 + 6 + TAG_LEN;

/// Both token routes speak RFC 6749's client-credentials grant only.
pub fn client_credentials_grant(grant_type: &str) -> Result<(), kernel::Error> {
    if grant_type == "client_credentials" {
        Ok(())
    } else {
        Err(kernel::Error::bad_request(
            "grant_type",
            "must be client_credentials",
        ))
    }
}

/// The HMAC keyed once at start; each use clones the keyed state.
pub struct TokenKey(HmacSha256);

/// What a valid token says about its bearer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenClaims {
    pub device_id: DeviceId,
    /// Milliseconds since the epoch; compared with the device's `revoked_before`.
    pub issued_ms: i64,
}

impl TokenClaims {
    pub fn issued_at(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.issued_ms)
            .single()
            .unwrap_or_default()
    }
}

impl TokenKey {
    pub fn new(key: &[u8]) -> Self {
        Self(HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length"))
    }

    fn tag(&self, body: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.0.clone();
        mac.update(body);
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }

    pub fn issue(&self, device_id: DeviceId, issued_at: DateTime<Utc>) -> String {
        let mut token = Vec::with_capacity(TOKEN_LEN);
        token.extend_from_slice(device_id.0.as_bytes());
        token.extend_from_slice(&issued_at.timestamp_millis().to_be_bytes()[2..]);
        let tag = self.tag(&token);
        token.extend_from_slice(&tag);
        hex::encode(token)
    }

    /// Checks the tag and the lifetime; revocation is checked by the store
    /// in the same request that serves the call.
    pub fn verify(&self, token: &str, now: DateTime<Utc>, ttl: Duration) -> Option<TokenClaims> {
        let raw = hex::decode(token).ok()?;
        if raw.len() != TOKEN_LEN {
            return None;
        }
        let (body, tag) = raw.split_at(16 + 6);
        if !bool::from(self.tag(body).ct_eq(tag)) {
            return None;
        }
        let device_id = DeviceId(Uuid::from_slice(&body[..16]).ok()?);
        let mut ms = [0u8; 8];
        ms[2..].copy_from_slice(&body[16..]);
        let claims = TokenClaims {
            device_id,
            issued_ms: i64::from_be_bytes(ms),
        };
        let issued = claims.issued_at();
        (issued <= now + Duration::minutes(1) && now < issued + ttl).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::new(&[7u8; 32])
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_token_is_64_hex_and_names_its_device() {
        let id = DeviceId::random();
        let now = at("2026-05-10T14:00:00.123Z");
        let token = key().issue(id, now);
        assert_eq!(token.len(), 64);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        let claims = key().verify(&token, now, Duration::hours(24)).unwrap();
        assert_eq!(claims.device_id, id);
        assert_eq!(claims.issued_at(), now);
    }

    #[test]
    fn a_token_dies_after_its_lifetime() {
        let now = at("2026-05-10T14:00:00Z");
        let token = key().issue(DeviceId::random(), now);
        let ttl = Duration::hours(24);
        assert!(
            key()
                .verify(&token, now + Duration::hours(23), ttl)
                .is_some()
        );
        assert!(
            key()
                .verify(&token, now + Duration::hours(24), ttl)
                .is_none()
        );
    }

    #[test]
    fn a_changed_or_foreign_token_is_refused() {
        let now = at("2026-05-10T14:00:00Z");
        let token = key().issue(DeviceId::random(), now);
        let mut tampered = token.clone().into_bytes();
        tampered[0] = if tampered[0] == b'0' { b'1' } else { b'0' };
        let ttl = Duration::hours(24);
        assert!(
            key()
                .verify(std::str::from_utf8(&tampered).unwrap(), now, ttl)
                .is_none()
        );
        assert!(TokenKey::new(&[8u8; 32]).verify(&token, now, ttl).is_none());
        assert!(key().verify("not-hex", now, ttl).is_none());
    }
}
