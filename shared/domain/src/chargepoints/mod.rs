//! OCPP charge points (contract §12): provisioning with a password, the
//! charger's connection, and what its messages mean for the fleet. The
//! OCPP wire format is the gateway's; here a charge point is a device
//! whose messages arrive over a kept connection.

mod messages;
mod orders;
mod port;

pub use crate::idtags::TokenStatus;
pub use messages::{Answer, BootInfo, MeterReading, StartOutcome, StatusReport, TxEnd, TxStart};
pub(crate) use orders::ChargePointRules;
pub use orders::{ChargerOrder, Order, order_for};
pub use port::ChargePointStore;

use crate::access::Access;
use crate::commands::Commands;
use crate::devices::credentials::TokenClaims;
use crate::devices::{DeviceStore, Devices};
use crate::feeds::Feeds;
use crate::idtags::IdTags;
use crate::observations::Observations;
use crate::profiles::ProfileStore;
use crate::records::Records;
use crate::tariffs::Tariffs;
use crate::telemetry::Telemetry;
use crate::throttle::{Attempt, Throttle};
use chrono::{DateTime, Utc};
use kernel::Clock;
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::{CommandId, ConnectorId, DeviceId, OperatorId, SerialNumber, SiteId};
use kernel::model::{Device, LiveConnection, Role};
use kernel::paging::ListPage;
use kernel::paging::Paging;
use kernel::secret::{Secret, hash_secret, new_secret, secret_matches};
use kernel::storage::WriteOutcome;
use kernel::version::FirmwareVersion;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Optimistic writes of one charge point are retried this often on a race.
const SAVE_ATTEMPTS: usize = 5;
/// A password is 20 random bytes as 40 hex digits (OCPP's limit is 40).
const PASSWORD_HEX: usize = 40;
/// What a charge point is until its BootNotification names it.
const UNBOOTED_MODEL: &str = "OCPP charge point";
const UNBOOTED_MANUFACTURER: &str = "unknown";

/// A charge point as kept: who it is, its password's hash, what it said
/// at boot, and the sessions and remote starts that span its messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargePoint {
    pub charge_point_id: String,
    pub device_id: DeviceId,
    pub operator_id: OperatorId,
    pub site_id: Option<SiteId>,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    /// The subprotocol of its last connection.
    pub protocol: Option<String>,
    pub boot: Option<Boot>,
    /// The last OCPP 1.6 `transactionId` handed out.
    pub last_transaction: i64,
    /// The transaction running on each connector.
    #[serde(default)]
    pub sessions: BTreeMap<ConnectorId, String>,
    /// Remote starts sent and not yet begun, by connector.
    #[serde(default)]
    pub remote_starts: BTreeMap<ConnectorId, RemoteStart>,
    /// Remote stops sent, by the transaction they end.
    #[serde(default)]
    pub stops: BTreeMap<String, CommandId>,
    /// The firmware update it was last sent.
    pub firmware: Option<FirmwareOrder>,
    /// Bumped by every write: a write of a stale copy is refused.
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Boot {
    pub vendor: String,
    pub model: String,
    pub serial_number: Option<String>,
    pub firmware_version: Option<String>,
    pub at: DateTime<Utc>,
}

/// A remote start the platform sent: the id tag it issued for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteStart {
    pub command_id: CommandId,
    pub id_tag: String,
    /// OCPP 2.0.1's `remoteStartId`.
    pub remote_start_id: i64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirmwareOrder {
    pub command_id: CommandId,
    pub version: FirmwareVersion,
}

/// One charging session of a charge point, from its start to its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    pub device_id: DeviceId,
    pub transaction_id: String,
    pub connector_id: ConnectorId,
    /// The energy register at the start, Wh.
    pub meter_start_wh: Option<f64>,
    pub started_at: DateTime<Utc>,
    pub id_tag: Option<String>,
    /// The remote start it fulfils.
    pub command_id: Option<CommandId>,
    pub max_power_kw: Option<f64>,
    pub last_register_wh: Option<f64>,
    pub ended_at: Option<DateTime<Utc>>,
    /// How the platform answered the session's token (`accepted`,
    /// `blocked`, `expired`, `invalid`); none without a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// The running cost last told the charger (2.0.1's `CostUpdated`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_told: Option<CostTold>,
}

/// A running cost told a charger, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostTold {
    pub at: DateTime<Utc>,
    pub total_cost: rust_decimal::Decimal,
}

/// A call sent to a charger and not yet answered: what its answer
/// settles. Kept in the store, so that whichever process (or Lambda
/// invocation) gets the answer can settle it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingCall {
    pub device_id: DeviceId,
    pub message_id: String,
    pub action: String,
    pub command_id: CommandId,
    /// The calls its command was split into (1.6 sets one key per call).
    pub parts: u32,
    pub sent_at: DateTime<Utc>,
}

/// A connection as a stateless transport (API Gateway) keeps it between
/// messages: who is on it, with which version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Socket {
    pub connection_id: String,
    pub charge_point_id: String,
    pub device_id: DeviceId,
    pub operator_id: OperatorId,
    pub protocol: String,
    /// When the password was checked: the charger's claims date from then.
    pub issued_ms: i64,
    pub since: DateTime<Utc>,
}

impl Socket {
    pub fn charger(&self) -> Charger {
        Charger {
            charge_point_id: self.charge_point_id.clone(),
            device_id: self.device_id,
            operator_id: self.operator_id.clone(),
            claims: TokenClaims {
                device_id: self.device_id,
                issued_ms: self.issued_ms,
            },
        }
    }
}

/// `POST /v1/ocpp/charge-points`, parsed.
#[derive(Debug, Clone)]
pub struct NewChargePoint {
    pub charge_point_id: String,
    pub operator_id: Option<OperatorId>,
    pub site_id: Option<SiteId>,
    pub model: Option<String>,
    pub manufacturer: Option<String>,
}

/// Whether `id` is a charge point id: 1..48 of `A-Z a-z 0-9 . _ - :`.
pub fn valid_charge_point_id(id: &str) -> bool {
    // `.` and `..` would name a path's parts in the charger's URL.
    (1..=48).contains(&id.len())
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
}

/// A charge point as the console sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChargePointView {
    pub charge_point_id: String,
    pub device_id: DeviceId,
    pub operator_id: String,
    pub site_id: Option<SiteId>,
    /// `ocpp1.6` or `ocpp2.0.1`; null until it first connects.
    pub protocol: Option<String>,
    pub connected: bool,
    pub connected_since: Option<DateTime<Utc>>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub boot: Option<Boot>,
    pub created_at: DateTime<Utc>,
    /// What the charger is configured with; it appends `/<charge_point_id>`.
    pub url: String,
}

/// A new or rotated password, shown once.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Provisioned {
    pub charge_point_id: String,
    pub device_id: DeviceId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub password: Secret<String>,
    /// What the charger is configured with; it appends `/<charge_point_id>`.
    pub url: String,
}

#[derive(Debug, Clone, Default)]
pub struct ChargePointFilter {
    pub site_id: Option<SiteId>,
    pub connected: Option<bool>,
}

/// A charger on its connection: who it is, and the claims its messages
/// are checked with (a password rotation ends them).
#[derive(Debug, Clone)]
pub struct Charger {
    pub charge_point_id: String,
    pub device_id: DeviceId,
    pub operator_id: OperatorId,
    pub claims: TokenClaims,
}

impl ChargePoint {
    /// Takes the remote start waiting on `connector` that this start names
    /// (by 2.0.1's `remoteStartId` or by its tag); the command it fulfils.
    pub fn take_remote_start(
        &mut self,
        connector: ConnectorId,
        remote_start_id: Option<i64>,
        id_tag: Option<&str>,
    ) -> Option<CommandId> {
        let named = self.remote_starts.get(&connector).is_some_and(|r| {
            remote_start_id == Some(r.remote_start_id)
                || id_tag.is_some_and(|t| t.eq_ignore_ascii_case(&r.id_tag))
        });
        named
            .then(|| self.remote_starts.remove(&connector))
            .flatten()
            .map(|r| r.command_id)
    }
}

fn view(cp: &ChargePoint, device: Option<&Device>, url: &str) -> ChargePointView {
    let connection = device.and_then(|d| d.connection.as_ref());
    ChargePointView {
        charge_point_id: cp.charge_point_id.clone(),
        device_id: cp.device_id,
        operator_id: cp.operator_id.to_string(),
        site_id: device.map_or(cp.site_id, |d| d.site_id),
        protocol: cp.protocol.clone(),
        connected: connection.is_some(),
        connected_since: connection.map(|c| c.since),
        last_message_at: device.and_then(|d| d.last_seen),
        boot: cp.boot.clone(),
        created_at: cp.created_at,
        url: url.to_owned(),
    }
}

/// The device's serial number: the charge point id where it is one, else
/// a digest of it (serial numbers take no `:`).
fn serial_for(charge_point_id: &str) -> SerialNumber {
    SerialNumber::parse(charge_point_id).unwrap_or_else(|| {
        let digest = &hash_secret(charge_point_id)[..24];
        SerialNumber::parse(&format!("ocpp-{digest}")).expect("hex is a serial number")
    })
}

fn new_password() -> Result<String, Error> {
    Ok(new_secret()?[..PASSWORD_HEX].to_owned())
}

/// Reads, changes and writes a charge point, again on a race.
pub(crate) async fn update_charge_point(
    store: &dyn ChargePointStore,
    id: &str,
    mut change: impl FnMut(&mut ChargePoint) -> Result<(), Error>,
) -> Result<ChargePoint, Error> {
    for _ in 0..SAVE_ATTEMPTS {
        let mut cp = store
            .get_charge_point(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("charge point {id}")))?;
        change(&mut cp)?;
        cp.version += 1;
        if store.save_charge_point(&cp).await? == WriteOutcome::Written {
            return Ok(cp);
        }
    }
    Err(Error::Conflict(format!(
        "charge point {id} is being changed concurrently; retry"
    )))
}

ports!(
    /// The ports charge points use.
    ChargePointsPorts: ChargePointStore, DeviceStore, ProfileStore
);

/// What charge points are built on.
pub(crate) struct ChargePointParts {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) throttle: Throttle,
    pub(crate) feeds: Feeds,
    pub(crate) access: Access,
    pub(crate) devices: Devices,
    pub(crate) id_tags: IdTags,
    pub(crate) observations: Observations,
    pub(crate) commands: Commands,
    pub(crate) telemetry: Telemetry,
    pub(crate) records: Records,
    pub(crate) tariffs: Tariffs,
}

/// OCPP charge points: provisioning, their connections, and what their
/// messages mean for the fleet.
#[derive(Clone)]
pub struct ChargePoints {
    store: Arc<dyn ChargePointsPorts>,
    clock: Arc<dyn Clock>,
    throttle: Throttle,
    feeds: Feeds,
    access: Access,
    devices: Devices,
    id_tags: IdTags,
    observations: Observations,
    commands: Commands,
    telemetry: Telemetry,
    records: Records,
    tariffs: Tariffs,
}

impl ChargePoints {
    pub(crate) fn new(store: Arc<dyn ChargePointsPorts>, parts: ChargePointParts) -> Self {
        Self {
            store,
            clock: parts.clock,
            throttle: parts.throttle,
            feeds: parts.feeds,
            access: parts.access,
            devices: parts.devices,
            id_tags: parts.id_tags,
            observations: parts.observations,
            commands: parts.commands,
            telemetry: parts.telemetry,
            records: parts.records,
            tariffs: parts.tariffs,
        }
    }
}

impl ChargePoints {
    /// `POST /v1/ocpp/charge-points`: a charge point and its device, with
    /// a password shown once.
    pub async fn provision_charge_point(
        &self,
        caller: &Caller,
        new: NewChargePoint,
        url: String,
    ) -> Result<Provisioned, Error> {
        caller.require(Role::Operator)?;
        let operator_id = self.access.owning_operator(caller, new.operator_id)?;
        if let Some(site) = new.site_id {
            let site = self.access.visible_site(caller, site).await?;
            if site.operator_id != operator_id {
                return Err(Error::invalid(
                    "site_id",
                    "must be a site of the charge point's operator",
                ));
            }
        }
        let now = self.clock.now();
        let password = new_password()?;
        let mut device = crate::devices::Registration {
            sn: serial_for(&new.charge_point_id),
            model: new.model.unwrap_or_else(|| UNBOOTED_MODEL.into()),
            manufacturer: new
                .manufacturer
                .unwrap_or_else(|| UNBOOTED_MANUFACTURER.into()),
            firmware_version: FirmwareVersion::parse("unknown")
                .ok_or_else(|| Error::internal("\"unknown\" is a firmware version"))?,
        }
        .device(hash_secret(&new_secret()?), operator_id.clone(), now);
        device.site_id = new.site_id;
        device.charge_point_id = Some(new.charge_point_id.clone());
        let cp = ChargePoint {
            charge_point_id: new.charge_point_id.clone(),
            device_id: device.device_id,
            operator_id: operator_id.clone(),
            site_id: new.site_id,
            password_hash: hash_secret(&password),
            created_at: now,
            protocol: None,
            boot: None,
            last_transaction: 0,
            sessions: BTreeMap::new(),
            remote_starts: BTreeMap::new(),
            stops: BTreeMap::new(),
            firmware: None,
            version: 0,
        };
        let activity = self
            .feeds
            .activity(
                "device.registered",
                &operator_id,
                format!("OCPP charge point {} provisioned", cp.charge_point_id),
            )
            .with_device(device.device_id)
            .with_site(device.site_id)
            .done();
        if self
            .store
            .insert_charge_point(&cp, &device, &activity)
            .await?
            == WriteOutcome::Conflict
        {
            return Err(Error::Conflict(format!(
                "charge point {} exists already",
                cp.charge_point_id
            )));
        }
        tracing::info!(charge_point_id = %cp.charge_point_id, device_id = %cp.device_id, "charge point provisioned");
        Ok(Provisioned {
            charge_point_id: cp.charge_point_id,
            device_id: cp.device_id,
            password: Secret::new(password),
            url,
        })
    }

    async fn visible_charge_point(&self, caller: &Caller, id: &str) -> Result<ChargePoint, Error> {
        let found = self.store.get_charge_point(id).await?;
        caller.visible(found, |cp| &cp.operator_id, &format!("charge point {id}"))
    }

    pub async fn charge_point(
        &self,
        caller: &Caller,
        id: &str,
        url: &str,
    ) -> Result<ChargePointView, Error> {
        let cp = self.visible_charge_point(caller, id).await?;
        let device = self.store.get_device(cp.device_id).await?;
        Ok(view(&cp, device.as_ref(), url))
    }

    pub async fn charge_points(
        &self,
        caller: &Caller,
        filter: ChargePointFilter,
        paging: Paging,
        url: &str,
    ) -> Result<ListPage<ChargePointView>, Error> {
        let mut all = Vec::new();
        for op in self.access.scope(caller).await? {
            all.extend(self.store.operator_charge_points(&op).await?);
        }
        let ids: Vec<DeviceId> = all.iter().map(|cp| cp.device_id).collect();
        let devices: BTreeMap<DeviceId, Device> = self
            .store
            .get_devices(&ids)
            .await?
            .into_iter()
            .map(|d| (d.device_id, d))
            .collect();
        let mut views: Vec<ChargePointView> = all
            .iter()
            .map(|cp| view(cp, devices.get(&cp.device_id), url))
            .filter(|v| filter.site_id.is_none_or(|s| v.site_id == Some(s)))
            .filter(|v| filter.connected.is_none_or(|c| v.connected == c))
            .collect();
        views.sort_by(|a, b| a.charge_point_id.cmp(&b.charge_point_id));
        Ok(ListPage::slice(views, paging.page, paging.size))
    }

    /// A new password; the old one fails from now on, and the device's
    /// claims from before end, so an open connection that used it is
    /// refused at its next message (and closed by the gateway at once).
    pub async fn rotate_charge_point_password(
        &self,
        caller: &Caller,
        id: &str,
        url: String,
    ) -> Result<Provisioned, Error> {
        let cp = self.visible_charge_point(caller, id).await?;
        caller.require(Role::Operator)?;
        let password = new_password()?;
        self.update_charge_point(&cp.charge_point_id, |cp| {
            cp.password_hash = hash_secret(&password);
            Ok(())
        })
        .await?;
        let device = self
            .store
            .get_device(cp.device_id)
            .await?
            .ok_or_else(|| Error::internal("a charge point without its device"))?;
        let now_ms = self.clock.now().timestamp_millis() + 1;
        self.store
            .rotate_secret(
                &device,
                &device.secret_hash,
                now_ms,
                crate::devices::Profile {
                    model: &device.model,
                    manufacturer: &device.manufacturer,
                    firmware_version: device.firmware_version.as_str(),
                },
            )
            .await?;
        self.commands.close_line(&device).await;
        tracing::info!(charge_point_id = %cp.charge_point_id, "charge point password rotated");
        Ok(Provisioned {
            charge_point_id: cp.charge_point_id,
            device_id: cp.device_id,
            password: Secret::new(password),
            url,
        })
    }

    /// Reads, changes and writes a charge point, again on a race.
    pub(crate) async fn update_charge_point(
        &self,
        id: &str,
        change: impl FnMut(&mut ChargePoint) -> Result<(), Error>,
    ) -> Result<ChargePoint, Error> {
        update_charge_point(self.store.as_ref(), id, change).await
    }

    /// The WebSocket upgrade's HTTP Basic check. Failures are counted per
    /// charge point id and source address; past the limit that source gets
    /// 429 for every wrong password until the window ends. The right
    /// password always passes, so a charger sharing an address with a
    /// guesser (a carrier's NAT) is never locked out; with 160 random bits
    /// a guess is hopeless anyway.
    pub async fn charge_point_login(
        &self,
        id: &str,
        password: Option<&str>,
        source: &str,
    ) -> Result<Charger, Error> {
        let found = match valid_charge_point_id(id) {
            true => self.store.get_charge_point(id).await?,
            false => None,
        };
        let Some(cp) =
            found.filter(|cp| password.is_some_and(|p| secret_matches(p, &cp.password_hash)))
        else {
            self.throttle
                .count_attempt(Attempt::ChargePointAuth, Some(id), source)
                .await?;
            return Err(Error::Unauthorized(
                "unknown charge point or wrong password".into(),
            ));
        };
        Ok(Charger {
            charge_point_id: cp.charge_point_id,
            device_id: cp.device_id,
            operator_id: cp.operator_id,
            claims: TokenClaims {
                device_id: cp.device_id,
                issued_ms: self.clock.now().timestamp_millis(),
            },
        })
    }

    /// The charger's connection is open: the device is online while it
    /// lasts, and a newer connection replaces an older one.
    pub async fn charger_connected(
        &self,
        charger: &Charger,
        protocol: &str,
        connection_id: &str,
    ) -> Result<(), Error> {
        let now = self.clock.now();
        let connection = LiveConnection {
            protocol: protocol.to_owned(),
            connection_id: connection_id.to_owned(),
            since: now,
        };
        self.store
            .set_connection(charger.device_id, Some(&connection), None, now)
            .await?;
        let protocol = protocol.to_owned();
        self.update_charge_point(&charger.charge_point_id, |cp| {
            cp.protocol = Some(protocol.clone());
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// The connection can carry calls now: commands queued while the
    /// charger was away (a campaign's, say) go. API Gateway takes calls
    /// only once `$connect` has answered, so there the next heartbeat or
    /// boot sends them instead.
    pub async fn charger_ready(&self, charger: &Charger) -> Result<(), Error> {
        if let Some(device) = self.store.get_device(charger.device_id).await? {
            self.commands.push_to_charger(&device).await?;
        }
        Ok(())
    }

    /// A stateless transport's connection opened: kept with its charger,
    /// and the device connected.
    pub async fn socket_opened(
        &self,
        charger: &Charger,
        protocol: &str,
        connection_id: &str,
    ) -> Result<(), Error> {
        let socket = Socket {
            connection_id: connection_id.to_owned(),
            charge_point_id: charger.charge_point_id.clone(),
            device_id: charger.device_id,
            operator_id: charger.operator_id.clone(),
            protocol: protocol.to_owned(),
            issued_ms: charger.claims.issued_ms,
            since: self.clock.now(),
        };
        self.store.put_socket(&socket).await?;
        self.charger_connected(charger, protocol, connection_id)
            .await
    }

    /// The charger on a stateless transport's connection.
    pub async fn socket(&self, connection_id: &str) -> Result<Option<Socket>, Error> {
        Ok(self.store.get_socket(connection_id).await?)
    }

    /// A stateless transport's connection closed.
    pub async fn socket_closed(&self, socket: &Socket) -> Result<(), Error> {
        self.charger_disconnected(&socket.charger(), &socket.connection_id)
            .await?;
        Ok(self.store.delete_socket(&socket.connection_id).await?)
    }

    /// The connection ended; the device goes offline 90 s later unless the
    /// charger reconnects. A connection another has replaced changes nothing.
    pub async fn charger_disconnected(
        &self,
        charger: &Charger,
        connection_id: &str,
    ) -> Result<(), Error> {
        let now = self.clock.now();
        self.store
            .set_connection(charger.device_id, None, Some(connection_id), now)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charge_point_ids_are_url_safe_and_never_a_path_step() {
        assert!(valid_charge_point_id("ACME-0042:a.b_c"));
        for bad in [".", "..", "", "a/b", "a b", &"x".repeat(49)] {
            assert!(!valid_charge_point_id(bad), "{bad:?}");
        }
        assert!(
            valid_charge_point_id("..."),
            "only the path steps themselves"
        );
    }
}
