//! Partner platforms speaking the T/CEC 102 "evcs" style (contract §9):
//! who they are, admitting a request (`envelope`: token and replay guard),
//! what each legacy route does (`stations`, `steering`, `inbound`), and
//! pushes to them (`outbox`, `notify`). A partner is bound to one of our
//! tenants and acts as that tenant's operator. The wire format and its
//! cryptography, and the sealing of partners' secrets, are the `tcec`
//! crate's: the domain keeps the sealed secrets without reading them.

mod envelope;
pub mod feeds;
mod inbound;
pub mod notify;
pub mod outbox;
mod port;
mod stations;
mod steering;

pub use envelope::{Admission, Refused, TokenAnswer, TokenLogin, TokenRule};
pub use inbound::{ConnectorPush, STATUSES, SessionPush};
pub use port::PartnerStore;
pub use stations::{StationQuery, StationStatusQuery};
pub use steering::{START_CHARGE_SEQ_LEN, SteerKind, SteerRequest};

use crate::access::Access;
use crate::commands::{CommandStore, Commands};
use crate::devices::DeviceStore;
use crate::sites::SiteStore;
use crate::tenants::{TenantStore, Tenants};
use crate::throttle::Throttle;
use chrono::{DateTime, Utc};
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::{OperatorId, PartnerId};
use kernel::model::Role;
use kernel::secret::Secret;
use kernel::storage::WriteOutcome;
use kernel::{Clock, Settings};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The standard's home time zone, UTC+8, is the default.
pub const DEFAULT_UTC_OFFSET_MINUTES: i32 = 480;

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
    /// The three wire secrets, sealed by the protocol layer (`tcec`).
    pub sealed_keys: String,
    pub created_at: DateTime<Utc>,
}

/// A partner as listed: no secrets.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerView {
    pub partner_id: PartnerId,
    #[cfg_attr(feature = "openapi", schema(example = "MA1234567"))]
    pub partner_operator_id: String,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
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

/// A partner to create, checked at the edge. Its wire secrets arrive
/// sealed (the protocol layer generates and seals them): the domain keeps
/// them without ever reading them.
#[derive(Debug, Clone)]
pub struct NewPartner {
    pub partner_operator_id: String,
    pub name: String,
    pub operator_id: OperatorId,
    pub operator_secret: Secret<String>,
    pub sealed_keys: String,
    pub notify_url: Option<String>,
    pub utc_offset_minutes: i32,
}

/// A partner's access token (`query_token`), stored by hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartnerToken {
    pub partner_id: PartnerId,
    pub expires_at: DateTime<Utc>,
}

/// A connector status a partner pushed (`notification_stationStatus`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerConnector {
    pub partner_id: PartnerId,
    pub connector_id: String,
    pub status: u32,
    pub park_status: Option<u32>,
    pub lock_status: Option<u32>,
    pub received_at: DateTime<Utc>,
}

/// A session's progress a partner pushed (`notify_work_status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

ports!(
    /// The ports the partner protocol uses.
    PartnersPorts: PartnerStore, DeviceStore, SiteStore, CommandStore, TenantStore
);

/// What partners are built on.
pub(crate) struct PartnerParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) throttle: Throttle,
    pub(crate) tenants: Tenants,
    pub(crate) access: Access,
    pub(crate) commands: Commands,
}

/// Partner platforms: their accounts, what they read and steer, and the
/// pushes they are owed.
#[derive(Clone)]
pub struct Partners {
    store: Arc<dyn PartnersPorts>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    throttle: Throttle,
    tenants: Tenants,
    access: Access,
    commands: Commands,
}

impl Partners {
    pub(crate) fn new(store: Arc<dyn PartnersPorts>, parts: PartnerParts) -> Self {
        Self {
            store,
            settings: parts.settings,
            clock: parts.clock,
            throttle: parts.throttle,
            tenants: parts.tenants,
            access: parts.access,
            commands: parts.commands,
        }
    }
}

impl Partners {
    /// `POST /admin/partners` (admin).
    pub async fn create_partner(
        &self,
        caller: &Caller,
        new: NewPartner,
    ) -> Result<PartnerView, Error> {
        caller.require(Role::Admin)?;
        if let Some(raw) = &new.notify_url {
            let url = kernel::input::web_url(raw).ok_or_else(|| {
                Error::invalid("notify_url", "must be an absolute https URL with a host")
            })?;
            notify::check_notify_url(&url, self.settings.allow_local_notify_urls)
                .map_err(|refusal| Error::invalid("notify_url", refusal.to_string()))?;
        }
        self.tenants
            .require_operators(std::slice::from_ref(&new.operator_id))
            .await?;
        let partner = Partner {
            partner_id: PartnerId::time_ordered(),
            partner_operator_id: new.partner_operator_id,
            name: new.name,
            operator_id: new.operator_id,
            notify_url: new.notify_url,
            utc_offset_minutes: new.utc_offset_minutes,
            operator_secret_hash: kernel::secret::hash_secret(new.operator_secret.expose()),
            sealed_keys: new.sealed_keys,
            created_at: self.clock.now(),
        };
        match self.store.insert_partner(&partner).await? {
            WriteOutcome::Written => Ok(PartnerView::from(&partner)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_codes_are_nine_upper_case_letters_or_digits() {
        assert!(partner_code_ok("123456789"));
        assert!(partner_code_ok("MA1234567"));
        assert!(!partner_code_ok("ma1234567"));
        assert!(!partner_code_ok("12345678"));
    }
}
