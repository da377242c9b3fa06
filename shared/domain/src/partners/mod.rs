//! Partner platforms speaking the T/CEC 102 "evcs" style (contract §9):
//! who they are and the secrets they share with us (`vault`), the wire
//! format (`wire`), opening a request (`envelope`), and what each legacy
//! route does (`stations`, `steering`, `inbound`). A partner is bound to
//! one of our tenants and acts as that tenant's operator.

mod envelope;
pub mod feeds;
mod inbound;
pub mod notify;
pub mod outbox;
mod port;
mod stations;
mod steering;
pub mod vault;
pub mod wire;

pub use envelope::{Opened, TokenAnswer, TokenLogin, TokenRule};
pub use inbound::{ConnectorPush, STATUSES, SessionPush};
pub use port::PartnerStore;
pub use stations::{StationQuery, StationStatusQuery};
pub use steering::{START_CHARGE_SEQ_LEN, SteerKind, SteerRequest};

use crate::Domain;
use chrono::{DateTime, Utc};
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::{OperatorId, PartnerId};
use kernel::model::Role;
use kernel::secret::Secret;
use kernel::storage::WriteOutcome;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wire::WireKeys;

/// The standard's home time zone, UTC+8, is the default.
pub const DEFAULT_UTC_OFFSET_MINUTES: i32 = 480;
/// Length of every shared secret (16 bytes: an AES-128 key or IV).
pub const SECRET_LEN: usize = 16;

/// A partner as stored: secrets only hashed or sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    pub partner_id: PartnerId,
    /// The 9-character id the partner signs with (`OperatorID`).
    pub partner_operator_id: String,
    pub name: String,
    /// Our tenant whose fleet it sees and steers.
    pub operator_id: OperatorId,
    pub notify_url: Option<String>,
    pub utc_offset_minutes: i32,
    pub operator_secret_hash: String,
    /// The three wire secrets, sealed by [`vault::seal`].
    pub sealed_keys: String,
    pub created_at: DateTime<Utc>,
}

/// A partner as listed: no secrets.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PartnerView {
    pub partner_id: PartnerId,
    #[schema(example = "MA1234567")]
    pub partner_operator_id: String,
    pub name: String,
    #[schema(value_type = String)]
    pub operator_id: OperatorId,
    pub notify_url: Option<String>,
    pub utc_offset_minutes: i32,
    pub created_at: DateTime<Utc>,
}

impl From<&Partner> for PartnerView {
    fn from(p: &Partner) -> Self {
        Self {
            partner_id: p.partner_id,
            partner_operator_id: p.partner_operator_id.clone(),
            name: p.name.clone(),
            operator_id: p.operator_id.clone(),
            notify_url: p.notify_url.as_deref().map(notify::shown_notify_url),
            utc_offset_minutes: p.utc_offset_minutes,
            created_at: p.created_at,
        }
    }
}

/// A partner to create, checked at the edge; absent secrets are generated.
#[derive(Debug, Clone)]
pub struct NewPartner {
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedPartner {
    #[serde(flatten)]
    pub partner: PartnerView,
    #[schema(value_type = String)]
    pub operator_secret: Secret<String>,
    #[schema(value_type = String)]
    pub data_secret: Secret<String>,
    #[schema(value_type = String)]
    pub data_secret_iv: Secret<String>,
    #[schema(value_type = String)]
    pub sig_secret: Secret<String>,
}

/// A partner's access token (`query_token`), stored by hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartnerToken {
    pub partner_id: PartnerId,
    pub expires_at: DateTime<Utc>,
}

/// A connector status a partner pushed (`notification_stationStatus`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PartnerConnector {
    pub partner_id: PartnerId,
    pub connector_id: String,
    pub status: u32,
    pub park_status: Option<u32>,
    pub lock_status: Option<u32>,
    pub received_at: DateTime<Utc>,
}

/// A session's progress a partner pushed (`notify_work_status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PartnerSession {
    pub partner_id: PartnerId,
    pub start_charge_seq: String,
    pub start_charge_seq_stat: u32,
    pub connector_id: String,
    pub connector_status: u32,
    pub current_a: Option<f64>,
    pub voltage_a: Option<f64>,
    pub soc: Option<f64>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub total_power: Option<f64>,
    pub elec_money: Option<f64>,
    pub service_money: Option<f64>,
    pub total_money: Option<f64>,
    pub received_at: DateTime<Utc>,
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

impl Domain {
    /// The key that seals partners' secrets; a function without it does
    /// not speak to partners.
    fn vault_key(&self) -> Result<&Secret<[u8; 32]>, Error> {
        self.settings
            .partner_secrets_key
            .as_ref()
            .ok_or_else(|| Error::internal("PARTNER_SECRETS_KEY is not set for this function"))
    }

    /// A partner's wire secrets, unsealed.
    pub fn partner_keys(&self, partner: &Partner) -> Result<WireKeys, Error> {
        vault::open(self.vault_key()?, &partner.sealed_keys)
    }

    /// `POST /admin/partners` (admin).
    pub async fn create_partner(
        &self,
        caller: &Caller,
        new: NewPartner,
    ) -> Result<CreatedPartner, Error> {
        caller.require(Role::Admin)?;
        if let Some(raw) = &new.notify_url {
            let url = kernel::input::web_url(raw).ok_or_else(|| {
                Error::invalid("notify_url", "must be an absolute https URL with a host")
            })?;
            notify::check_notify_url(&url, self.settings.allow_local_notify_urls)
                .map_err(|refusal| Error::invalid("notify_url", refusal.to_string()))?;
        }
        self.require_operators(std::slice::from_ref(&new.operator_id))
            .await?;
        let operator_secret = given_or_new(new.operator_secret)?;
        let keys = WireKeys {
            data_secret: given_or_new(new.data_secret)?,
            data_secret_iv: given_or_new(new.data_secret_iv)?,
            sig_secret: given_or_new(new.sig_secret)?,
        };
        let partner = Partner {
            partner_id: PartnerId::time_ordered(),
            partner_operator_id: new.partner_operator_id,
            name: new.name,
            operator_id: new.operator_id,
            notify_url: new.notify_url,
            utc_offset_minutes: new.utc_offset_minutes,
            operator_secret_hash: crate::devices::credentials::hash_secret(
                operator_secret.expose(),
            ),
            sealed_keys: vault::seal(self.vault_key()?, &keys)?,
            created_at: self.clock.now(),
        };
        match self.store.insert_partner(&partner).await? {
            WriteOutcome::Written => Ok(CreatedPartner {
                partner: PartnerView::from(&partner),
                operator_secret,
                data_secret: keys.data_secret,
                data_secret_iv: keys.data_secret_iv,
                sig_secret: keys.sig_secret,
            }),
            WriteOutcome::Conflict => Err(Error::Conflict(format!(
                "a partner with partner_operator_id {} exists already",
                partner.partner_operator_id
            ))),
        }
    }

    /// `GET /admin/partners` (admin) and `GET /v1/partners` (each caller
    /// its own tenants' partners).
    pub async fn visible_partners(&self, caller: &Caller) -> Result<Vec<PartnerView>, Error> {
        let mut partners: Vec<PartnerView> = self
            .store
            .all_partners()
            .await?
            .iter()
            .filter(|p| caller.sees(&p.operator_id))
            .map(PartnerView::from)
            .collect();
        partners.sort_by(|a, b| a.partner_operator_id.cmp(&b.partner_operator_id));
        Ok(partners)
    }

    async fn visible_partner(&self, caller: &Caller, id: PartnerId) -> Result<Partner, Error> {
        let found = self.store.get_partner(id).await?;
        caller.visible(found, |p| &p.operator_id, &format!("partner {id}"))
    }

    /// `GET /v1/partners/:id/connectors`: what the partner last pushed.
    pub async fn pushed_connectors(
        &self,
        caller: &Caller,
        id: PartnerId,
    ) -> Result<Vec<PartnerConnector>, Error> {
        let partner = self.visible_partner(caller, id).await?;
        Ok(self.store.partner_connectors(partner.partner_id).await?)
    }

    /// `GET /v1/partners/:id/sessions`: what the partner last pushed.
    pub async fn pushed_sessions(
        &self,
        caller: &Caller,
        id: PartnerId,
    ) -> Result<Vec<PartnerSession>, Error> {
        let partner = self.visible_partner(caller, id).await?;
        Ok(self.store.partner_sessions(partner.partner_id).await?)
    }
}

/// Checks the 9-character partner id of the standard.
pub fn partner_code_ok(code: &str) -> bool {
    code.len() == 9
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A given secret must be 16 bytes: the cipher uses it as its key or IV.
pub fn wire_secret_ok(secret: &str) -> bool {
    secret.len() == SECRET_LEN && secret.chars().all(|c| c.is_ascii_graphic())
}

/// The standard's published test secret, which every implementer knows.
const PUBLISHED_SECRET: &str = "1234567890abcdef";
/// Fewest different characters a given secret may have.
const MIN_DISTINCT: usize = 8;

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

    #[test]
    fn partner_codes_are_nine_upper_case_letters_or_digits() {
        assert!(partner_code_ok("123456789"));
        assert!(partner_code_ok("MA1234567"));
        assert!(!partner_code_ok("ma1234567"));
        assert!(!partner_code_ok("12345678"));
    }
}
