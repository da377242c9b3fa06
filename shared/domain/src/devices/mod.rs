//! Charger registration, credentials and token checks.

pub mod credentials;
mod port;

pub use port::{Build, DeviceStore, FleetCounts, Listed, Profile};

use crate::feeds::Feeds;
use crate::observations::Observations;
use crate::throttle::{Attempt, Throttle};
use chrono::{DateTime, Utc};
use credentials::{TokenClaims, TokenKey};
use kernel::access::AccessToken;
use kernel::error::Error;
use kernel::ids::SerialNumber;
use kernel::ids::{DeviceId, OperatorId};
use kernel::model::Device;
use kernel::secret::Secret;
use kernel::secret::{hash_secret, new_secret, secret_matches};
use kernel::storage::WriteOutcome;
use kernel::version::FirmwareVersion;
use kernel::{Clock, Settings};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A charger's registration, parsed: the serial number has its shape and
/// the other fields are bounded text.
#[derive(Debug, Clone)]
pub struct Registration {
    pub sn: SerialNumber,
    pub model: String,
    pub manufacturer: String,
    pub firmware_version: FirmwareVersion,
}

impl Registration {
    /// The device this registration creates: a new id, not yet seen, in no
    /// site.
    pub fn device(
        &self,
        secret_hash: String,
        operator_id: OperatorId,
        now: DateTime<Utc>,
    ) -> Device {
        Device {
            device_id: DeviceId::random(),
            sn: self.sn.clone(),
            model: self.model.clone(),
            manufacturer: self.manufacturer.clone(),
            firmware_version: self.firmware_version.clone(),
            secret_hash,
            revoked_before: 0,
            operator_id,
            site_id: None,
            created_at: now,
            last_seen: None,
            reported_status: None,
            connectors: BTreeMap::new(),
            open_commands: 0,
            firmware_update: None,
            configuration: None,
            configuration_pending: None,
            campaign: None,
            recent_faults: Vec::new(),
            charge_point_id: None,
            connection: None,
        }
    }
}

/// What a re-registering charger may show to prove it owns the serial.
#[derive(Debug, Default, Clone)]
pub struct Possession {
    pub device_secret: Option<Secret<String>>,
    pub bearer_token: Option<Secret<String>>,
}

/// A charger's request for a token (`client_credentials`).
#[derive(Debug, Clone)]
pub struct DeviceLogin {
    pub device_id: DeviceId,
    pub device_secret: Secret<String>,
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub device_id: DeviceId,
    pub device_secret: Secret<String>,
    /// Lifetime in seconds of the tokens this device gets.
    pub expires_in: i64,
}

/// Chargers' registration, credentials and token checks.
#[derive(Clone)]
pub struct Devices {
    store: Arc<dyn DeviceStore>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    /// Only functions that issue or check device tokens hold the key.
    keys: Option<Arc<TokenKey>>,
    throttle: Throttle,
    feeds: Feeds,
    observations: Observations,
}

/// What a `Devices` is built from besides its store.
pub(crate) struct DevicesParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) throttle: Throttle,
    pub(crate) feeds: Feeds,
    pub(crate) observations: Observations,
}

impl Devices {
    pub(crate) fn new(store: Arc<dyn DeviceStore>, parts: DevicesParts) -> Self {
        let keys = parts
            .settings
            .token_signing_key
            .as_ref()
            .map(|key| Arc::new(TokenKey::new(key.expose())));
        Self {
            store,
            keys,
            settings: parts.settings,
            clock: parts.clock,
            throttle: parts.throttle,
            feeds: parts.feeds,
            observations: parts.observations,
        }
    }
}

impl Devices {
    /// Checks `X-Provisioning-Key` when the deployment requires one.
    pub fn check_provisioning_key(&self, presented: Option<&str>) -> Result<(), Error> {
        match &self.settings.provisioning_key {
            None => Ok(()),
            Some(expected) => {
                let ok = presented.is_some_and(|p| {
                    subtle::ConstantTimeEq::ct_eq(p.as_bytes(), expected.expose().as_bytes()).into()
                });
                ok.then_some(()).ok_or_else(|| {
                    Error::Unauthorized("X-Provisioning-Key header is missing or wrong".into())
                })
            }
        }
    }

    pub async fn register(
        &self,
        reg: Registration,
        proof: Possession,
        source: &str,
    ) -> Result<Credentials, Error> {
        // Without a provisioning key anyone may register: bound how fast.
        if self.settings.provisioning_key.is_none() {
            self.throttle
                .count_attempt(Attempt::Registration, None, source)
                .await?;
        }
        let now = self.clock.now();
        let secret = new_secret()?;
        let device = reg.device(
            hash_secret(&secret),
            self.settings.default_operator.clone(),
            now,
        );
        let activity = self
            .feeds
            .activity(
                "device.registered",
                &device.operator_id,
                format!("{} {} registered", device.model, device.sn),
            )
            .with_device(device.device_id)
            .done();
        if self.store.insert_device(&device, &activity).await? == WriteOutcome::Written {
            tracing::info!(device_id = %device.device_id, sn = %device.sn, "device registered");
            return Ok(self.credentials(device.device_id, secret));
        }
        self.reregister(reg, proof).await
    }

    /// A serial number seen before: rotate the secret if the caller proves
    /// possession (or the deployment allows it), otherwise refuse.
    async fn reregister(&self, reg: Registration, proof: Possession) -> Result<Credentials, Error> {
        let taken = || {
            Error::Conflict(format!(
                "serial number {} is already registered; send its current device_secret \
                 or a valid Bearer token to rotate the credentials",
                reg.sn
            ))
        };
        let id = self
            .store
            .device_id_by_serial(reg.sn.as_str())
            .await?
            .ok_or_else(taken)?;
        let device = self.store.get_device(id).await?.ok_or_else(taken)?;
        let by_secret = proof
            .device_secret
            .as_ref()
            .is_some_and(|s| secret_matches(s.expose(), &device.secret_hash));
        let by_token = proof
            .bearer_token
            .as_ref()
            .and_then(|t| self.verify_token(t.expose()).ok())
            .is_some_and(|c| c.device_id == id && c.issued_ms >= device.revoked_before);
        if !(by_secret || by_token || self.settings.allow_reregister) {
            return Err(taken());
        }
        let secret = new_secret()?;
        // Strictly after every token issued so far, including this millisecond's.
        let now_ms = self.clock.now().timestamp_millis() + 1;
        let outcome = self
            .store
            .rotate_secret(
                &device,
                &hash_secret(&secret),
                now_ms,
                Profile {
                    model: &reg.model,
                    manufacturer: &reg.manufacturer,
                    firmware_version: reg.firmware_version.as_str(),
                },
            )
            .await?;
        if outcome == WriteOutcome::Conflict {
            return Err(Error::Conflict(
                "the credentials changed concurrently; retry the registration".into(),
            ));
        }
        tracing::info!(device_id = %id, "device credentials rotated");
        Ok(self.credentials(id, secret))
    }

    fn credentials(&self, device_id: DeviceId, device_secret: String) -> Credentials {
        Credentials {
            device_id,
            device_secret: Secret::new(device_secret),
            expires_in: self.settings.token_ttl.num_seconds(),
        }
    }

    /// Exchanges a device's id and secret for an access token. Failures
    /// are counted per device and caller's address: while they are over
    /// the limit that address gets 429 for this device, right secret or
    /// not, and the device itself, elsewhere, is never refused.
    pub async fn authenticate(
        &self,
        login: DeviceLogin,
        source: &str,
    ) -> Result<AccessToken, Error> {
        let keys = self.token_key()?;
        let id = login.device_id;
        let subject = id.to_string();
        self.throttle
            .refuse_while_throttled(Attempt::DeviceAuth, &subject, source)
            .await?;
        let device = self.store.get_device(id).await?;
        let device =
            device.filter(|d| secret_matches(login.device_secret.expose(), &d.secret_hash));
        let Some(device) = device else {
            self.throttle
                .count_attempt(Attempt::DeviceAuth, Some(&subject), source)
                .await?;
            tracing::warn!(device_id = %id, "device authentication failed");
            return Err(Error::BadCredentials);
        };
        let now = self.clock.now();
        // Never issued before the last rotation, so a fresh token outlives it.
        let issued = now.max(
            chrono::DateTime::from_timestamp_millis(device.revoked_before).unwrap_or_default(),
        );
        Ok(AccessToken {
            access_token: Secret::new(keys.issue(id, issued)),
            expires_in: self.settings.token_ttl.num_seconds(),
        })
    }

    /// Checks a Bearer token's tag and lifetime (no store request).
    pub fn verify_token(&self, token: &str) -> Result<TokenClaims, Error> {
        self.token_key()?
            .verify(token, self.clock.now(), self.settings.token_ttl)
            .ok_or_else(|| Error::Unauthorized("the Bearer token is invalid or expired".into()))
    }

    fn token_key(&self) -> Result<&TokenKey, Error> {
        self.keys
            .as_deref()
            .ok_or_else(|| Error::internal("TOKEN_SIGNING_KEY is not set for this function"))
    }

    /// Reads the token's device, refusing tokens older than its credentials.
    pub async fn device_for(&self, claims: TokenClaims) -> Result<Device, Error> {
        self.store
            .get_device(claims.device_id)
            .await?
            .filter(|d| claims.issued_ms >= d.revoked_before)
            .ok_or_else(revoked)
    }

    /// Like `device_for`, and marks the device seen: any message, not only
    /// a heartbeat, keeps a charger online. Still one request.
    pub async fn device_seen(&self, claims: TokenClaims) -> Result<Device, Error> {
        let now = self.clock.now();
        let before = self
            .store
            .touch_device(claims.device_id, claims.issued_ms, now, None)
            .await?
            .ok_or_else(revoked)?;
        self.observations.note_outage(&before, now).await?;
        Ok(before)
    }
}

pub(crate) fn revoked() -> Error {
    Error::Unauthorized("the Bearer token was revoked or its device no longer exists".into())
}
