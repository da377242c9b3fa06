//! A partner's shared secrets: checked when given, generated when not,
//! sealed before the domain keeps them, and shown once in the creation
//! answer.

use crate::vault;
use crate::wire::WireKeys;
use domain::Domain;
use domain::partners::{NewPartner, PartnerView};
use kernel::Error;
use kernel::access::Caller;
use kernel::ids::OperatorId;
use kernel::secret::Secret;
use serde::Serialize;

/// Length of every shared secret (16 bytes: an AES-128 key or IV).
pub const SECRET_LEN: usize = 16;
/// The standard's published test secret, which every implementer knows.
const PUBLISHED_SECRET: &str = "1234567890abcdef";
/// Fewest different characters a given secret may have.
const MIN_DISTINCT: usize = 8;

/// A given secret must be 16 bytes: the cipher uses it as its key or IV.
pub fn wire_secret_ok(secret: &str) -> bool {
    secret.len() == SECRET_LEN && secret.chars().all(|c| c.is_ascii_graphic())
}

/// Why a given secret is too easy to guess, if it is: the published test
/// secret, or fewer than 8 different characters (`aaaa…`, `abab…`).
pub fn wire_secret_weakness(secret: &str) -> Option<&'static str> {
    let distinct: std::collections::HashSet<char> = secret.chars().collect();
    if secret.eq_ignore_ascii_case(PUBLISHED_SECRET) {
        Some("is the standard's published example; choose another")
    } else if distinct.len() < MIN_DISTINCT {
        Some("must have at least 8 different characters")
    } else {
        None
    }
}

/// 16 characters of `[0-9A-Za-z]`, about 95 bits.
fn new_wire_secret() -> Result<String, Error> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(SECRET_LEN);
    while out.len() < SECRET_LEN {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::internal(format!("no randomness from the OS: {e}")))?;
        // Rejection keeps every character equally likely (248 = 4 × 62).
        out.extend(
            bytes
                .iter()
                .filter(|b| **b < 248)
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                .take(SECRET_LEN - out.len()),
        );
    }
    Ok(out)
}

fn given_or_new(given: Option<Secret<String>>) -> Result<Secret<String>, Error> {
    match given {
        Some(secret) => Ok(secret),
        None => new_wire_secret().map(Secret::new),
    }
}

/// A partner as the admin asked for it, checked at the edge; absent
/// secrets are generated.
#[derive(Debug, Clone)]
pub struct PartnerDraft {
    pub partner_operator_id: String,
    pub name: String,
    pub operator_id: OperatorId,
    pub operator_secret: Option<Secret<String>>,
    pub data_secret: Option<Secret<String>>,
    pub data_secret_iv: Option<Secret<String>>,
    pub sig_secret: Option<Secret<String>>,
    pub notify_url: Option<String>,
    pub utc_offset_minutes: i32,
}

/// The creation answer: the only time the secrets are shown.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedPartner {
    #[serde(flatten)]
    pub partner: PartnerView,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub operator_secret: Secret<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub data_secret: Secret<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub data_secret_iv: Secret<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sig_secret: Secret<String>,
}

/// `POST /admin/partners`: generates the secrets not given, seals the
/// wire secrets under this function's key, and has the domain keep the
/// partner.
pub async fn create_partner(
    domain: &Domain,
    caller: &Caller,
    draft: PartnerDraft,
) -> Result<CreatedPartner, Error> {
    let vault_key = vault::key(domain)?;
    let operator_secret = given_or_new(draft.operator_secret)?;
    let keys = WireKeys {
        data_secret: given_or_new(draft.data_secret)?,
        data_secret_iv: given_or_new(draft.data_secret_iv)?,
        sig_secret: given_or_new(draft.sig_secret)?,
    };
    let new = NewPartner {
        partner_operator_id: draft.partner_operator_id,
        name: draft.name,
        operator_id: draft.operator_id,
        operator_secret: operator_secret.clone(),
        sealed_keys: vault::seal(vault_key, &keys)?,
        notify_url: draft.notify_url,
        utc_offset_minutes: draft.utc_offset_minutes,
    };
    let partner = domain.partners.create_partner(caller, new).await?;
    Ok(CreatedPartner {
        partner,
        operator_secret,
        data_secret: keys.data_secret,
        data_secret_iv: keys.data_secret_iv,
        sig_secret: keys.sig_secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_16_alphanumerics_and_differ() {
        let a = new_wire_secret().unwrap();
        assert!(wire_secret_ok(&a));
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, new_wire_secret().unwrap());
    }

    #[test]
    fn weak_secrets_are_named() {
        assert!(wire_secret_weakness("1234567890abcdef").is_some());
        assert!(wire_secret_weakness("1234567890ABCDEF").is_some());
        assert!(wire_secret_weakness("aaaaaaaaaaaaaaaa").is_some());
        assert!(wire_secret_weakness("abcdabcdabcdabcd").is_some());
        assert!(wire_secret_weakness("abcdefgabcdefgab").is_some());
        assert_eq!(wire_secret_weakness("q7Fz2kLp9XwA4mRt"), None);
        for _ in 0..20 {
            assert_eq!(wire_secret_weakness(&new_wire_secret().unwrap()), None);
        }
    }
}
