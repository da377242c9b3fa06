//! The entities the service keeps, in the domain's own types. How they are
//! stored (keys, expiry, attribute shapes) is the storage adapter's business.

pub use crate::connector::{Connector, ConnectorState, Peaks};
use crate::ids::{
    CampaignId, CommandId, ConnectorId, DeviceId, OperatorId, ProfileId, RecordId, SerialNumber,
    SiteId, TariffId,
};
use crate::version::FirmwareVersion;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A charging network operator (a tenant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Operator {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "acme-charging-uk"))]
    pub id: OperatorId,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub status: String,
}

wire_enum! {
    /// A charger's firmware report (`status` of `POST /v1/device/firmware/status`).
    pub enum FirmwareStatus {
        Downloading,
        Downloaded,
        Installing,
        Installed,
        Failed,
        DownloadFailed,
        InstallationFailed,
        Idle,
}
}

impl FirmwareStatus {
    /// An outcome rather than a progress tick.
    pub fn is_outcome(self) -> bool {
        matches!(
            self,
            Self::Installed | Self::Failed | Self::DownloadFailed | Self::InstallationFailed
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirmwareProgress {
    pub firmware_version: FirmwareVersion,
    pub status: FirmwareStatus,
    pub progress: Option<u8>,
    pub message: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub device_id: DeviceId,
    pub sn: SerialNumber,
    pub model: String,
    pub manufacturer: String,
    pub firmware_version: FirmwareVersion,
    /// SHA-256 of the device secret; never leaves the domain.
    pub secret_hash: String,
    /// Tokens issued before this instant (ms since epoch) are dead.
    pub revoked_before: i64,
    pub operator_id: OperatorId,
    pub site_id: Option<SiteId>,
    pub created_at: DateTime<Utc>,
    pub last_seen: Option<DateTime<Utc>>,
    /// What the charger last said of itself in a heartbeat.
    pub reported_status: Option<String>,
    pub connectors: BTreeMap<ConnectorId, Connector>,
    /// Commands queued or delivered and not yet answered.
    #[serde(default)]
    pub open_commands: i64,
    pub firmware_update: Option<FirmwareProgress>,
    /// The configuration profile the device last reported applied.
    #[serde(default)]
    pub configuration: Option<AppliedConfiguration>,
    /// The profile version last queued for it, until it answers.
    #[serde(default)]
    pub configuration_pending: Option<PendingConfiguration>,
    /// The firmware campaign that sent it its last update, so that its
    /// firmware reports need no lookup to find their campaign.
    #[serde(default)]
    pub campaign: Option<CampaignLink>,
    /// Fault event times of the last hour: a burst is found from the
    /// message in hand and this, with no extra read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_faults: Vec<DateTime<Utc>>,
    /// The OCPP charge point id, for a device that speaks OCPP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_point_id: Option<String>,
    /// Its open WebSocket connection, while it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<LiveConnection>,
}

/// An OCPP charge point's open connection: while it lasts the device is
/// online, whatever its heartbeat interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveConnection {
    /// The negotiated subprotocol (`ocpp1.6`, `ocpp2.0.1`).
    pub protocol: String,
    /// The transport's id for it (API Gateway's `connectionId`, or the
    /// local server's own).
    pub connection_id: String,
    pub since: DateTime<Utc>,
}

/// What a device applied, as `GET /v1/devices/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppliedConfiguration {
    pub profile_id: ProfileId,
    pub version: u32,
    pub applied_at: DateTime<Utc>,
}

/// A profile version queued for a device and not yet answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingConfiguration {
    pub profile_id: ProfileId,
    pub version: u32,
    pub command_id: CommandId,
    pub queued_at: DateTime<Utc>,
}

/// Kept on the device while a campaign updates it, so that its firmware
/// reports find their campaign without a lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignLink {
    pub campaign_id: CampaignId,
    pub target_version: FirmwareVersion,
}

wire_enum! {
    /// What a device is now, derived from when it was last heard and its
    /// connectors: nothing has to run for a device to become offline.
    pub enum DeviceStatus {
        Online,
        Offline,
        Fault,
}
}

/// A connection counts as presence while its device was heard within this
/// (twice the longest heartbeat interval a profile may set): a connection
/// whose end was never recorded (a server that crashed, a `$disconnect`
/// that failed) does not keep a device online for ever.
pub const CONNECTION_SILENCE: chrono::Duration = chrono::Duration::hours(2);

impl Device {
    /// Whether it is on an open connection now (OCPP), heartbeats however
    /// far apart.
    pub fn connected(&self, now: DateTime<Utc>) -> bool {
        self.connection.is_some()
            && self
                .last_seen
                .is_some_and(|seen| now - seen <= CONNECTION_SILENCE)
    }

    /// Offline after `offline_after` without a message (three missed
    /// heartbeats); fault when a connector is.
    pub fn status(&self, now: DateTime<Utc>, offline_after: chrono::Duration) -> DeviceStatus {
        let seen = match self.connected(now) {
            true => Some(now),
            false => self.last_seen,
        };
        match seen {
            Some(seen) if now - seen <= offline_after => {
                if self
                    .connectors
                    .values()
                    .any(|c| c.state == ConnectorState::Fault)
                {
                    DeviceStatus::Fault
                } else {
                    DeviceStatus::Online
                }
            }
            _ => DeviceStatus::Offline,
        }
    }

    /// Whether the device is heard from (online or with a faulted connector).
    pub fn is_online(&self, now: DateTime<Utc>, offline_after: chrono::Duration) -> bool {
        self.status(now, offline_after) != DeviceStatus::Offline
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub site_id: SiteId,
    pub operator_id: OperatorId,
    pub name: String,
    pub address: String,
    pub postcode: String,
    pub lat: f64,
    pub lng: f64,
    pub power_capacity: f64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// An active flexibility cap (kW) and when it lapses.
    #[serde(default)]
    pub flex_limit_kw: Option<f64>,
    #[serde(default)]
    pub flex_until: Option<DateTime<Utc>>,
    #[serde(default)]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-3.
    #[serde(default)]
    pub country: Option<String>,
    /// IANA; tariffs' restrictions are read in it (UTC where none).
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_management: Option<LoadManagement>,
}

/// How a site shares its grid connection among its sessions (§16).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoadManagement {
    pub enabled: bool,
    /// kW; the site's `power_capacity` where none.
    pub capacity_kw: Option<f64>,
    /// kW each session needs at least; default 1.4.
    pub min_session_kw: Option<f64>,
    /// kW kept free; default 0.
    pub reserve_kw: Option<f64>,
}

/// A charging session's record (a CDR) as the platform holds it; the
/// store keeps it as its own item and the routes answer with its view.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargingRecord {
    pub record_id: RecordId,
    pub device_id: DeviceId,
    pub operator_id: OperatorId,
    pub site_id: Option<SiteId>,
    pub connector_id: ConnectorId,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub energy: f64,
    pub max_power: Option<f64>,
    pub cost: Option<f64>,
    pub currency: Option<String>,
    pub stop_reason: Option<String>,
    pub received_at: DateTime<Utc>,
    /// The driver's card or app token the session started with (OCPP);
    /// none for sessions started otherwise.
    pub id_tag: Option<String>,
    /// What the session cost by the tariff in force at its start.
    pub price: Option<RecordPrice>,
    /// Seconds connected but not charging.
    pub parking_time_s: i64,
    /// How the platform answered the session's token (`accepted`,
    /// `blocked`, `expired`, `invalid`); only an accepted or unasked
    /// session counts in revenue.
    pub authorization: Option<String>,
}

impl ChargingRecord {
    /// Whether its price counts in revenue: a session whose token was
    /// refused is kept, and shown, but not counted.
    pub fn earns(&self) -> bool {
        self.authorization
            .as_deref()
            .is_none_or(|a| a == "accepted")
    }
}

/// A session's price (contract §14): exact amounts, excluding VAT but for
/// `incl_vat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordPrice {
    pub tariff_id: TariffId,
    pub currency: String,
    pub vat_percent: Decimal,
    /// Rounded half-up to cents.
    pub excl_vat: Decimal,
    pub incl_vat: Decimal,
    /// The dimensions' amounts, unrounded.
    pub energy: Decimal,
    pub time: Decimal,
    pub parking_time: Decimal,
    pub flat: Decimal,
}

impl ChargingRecord {
    /// Same upload as far as the charger is concerned: the fields it sent,
    /// not those the server added (arrival time, operator, site).
    pub fn same_content(&self, other: &Self) -> bool {
        Self {
            operator_id: other.operator_id.clone(),
            site_id: other.site_id,
            received_at: other.received_at,
            price: other.price.clone(),
            parking_time_s: other.parking_time_s,
            authorization: other.authorization.clone(),
            ..self.clone()
        } == *other
    }
}

/// One telemetry sample (kept for the configured retention).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub device_id: DeviceId,
    pub connector_id: ConnectorId,
    pub ts: DateTime<Utc>,
    pub state: ConnectorState,
    pub voltage: f64,
    pub current: f64,
    pub power: f64,
    pub energy_delivered: f64,
    pub soc: Option<f64>,
}

wire_enum! {
    pub enum CommandKind {
        StartCharging,
        StopCharging,
        StartDischarging,
        SetSchedule,
        SetPowerLimit,
        UpdateFirmware,
        ApplyConfiguration,
        Reboot,
}
}

wire_enum! {
    #[derive(Hash)]
    pub enum CommandStatus {
        Queued,
        Delivered,
        Accepted,
        Completed,
        Failed,
        Rejected,
        Expired,
    }
}

impl CommandStatus {
    /// Still waiting for the device to answer.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Queued | Self::Delivered)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub status: CommandStatus,
    pub at: DateTime<Utc>,
    pub message: Option<String>,
}

/// A partner's command: who asked, and its session's `StartChargeSeq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandOrigin {
    pub partner_id: crate::ids::PartnerId,
    pub start_charge_seq: String,
    /// The connector as the partner named it.
    pub connector: String,
}

/// One line of the shared request log (`GET /v1/debug/requests`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestLogEntry {
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub duration_ms: u64,
    pub request_id: String,
    /// Who called, as an id (never a credential).
    pub caller: Option<String>,
    pub function: String,
}

/// Something that happened, for the live activity feed (kept 7 days).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Activity {
    pub at: DateTime<Utc>,
    /// `device.registered`, `connector.plug_in`, `command.completed`, ...
    pub kind: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub operator_id: OperatorId,
    pub device_id: Option<DeviceId>,
    pub site_id: Option<SiteId>,
    pub command_id: Option<CommandId>,
    pub record_id: Option<RecordId>,
    pub summary: String,
}

wire_enum! {
    /// What an operator client may do.
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        /// Reads.
        Viewer,
        /// Reads and commands.
        Operator,
        /// Everything, for every operator.
        Admin,
}
}

/// An API client of the console side (console, partner system).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub role: Role,
    pub operator_ids: Vec<OperatorId>,
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
}

/// An issued operator access token, stored under the hash of the token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub client_id: String,
    pub role: Role,
    pub operator_ids: Vec<OperatorId>,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    fn serde_name<T: Serialize>(v: T) -> String {
        serde_json::to_value(v)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn wire_names_are_the_same_for_serde_and_for_parsing() {
        for v in ConnectorState::iter() {
            assert_eq!(serde_name(v), <&str>::from(v));
        }
        for v in CommandKind::iter() {
            assert_eq!(serde_name(v), <&str>::from(v));
        }
        for v in FirmwareStatus::iter() {
            assert_eq!(serde_name(v), v.as_str());
        }
        for v in Role::iter() {
            assert_eq!(serde_name(v), v.as_str());
        }
        assert_eq!(
            serde_name(CommandStatus::Delivered),
            CommandStatus::Delivered.as_str()
        );
    }

    #[test]
    fn a_device_is_offline_after_three_missed_heartbeats_and_faulted_by_a_connector() {
        let now: DateTime<Utc> = "2026-05-10T14:00:00Z".parse().unwrap();
        let limit = chrono::Duration::seconds(90);
        let mut d: Device = serde_json::from_value(serde_json::json!({
            "device_id": DeviceId::random(), "sn": "S", "model": "M", "manufacturer": "T",
            "firmware_version": "1", "secret_hash": "h", "revoked_before": 0,
            "operator_id": "acme", "site_id": null, "created_at": now, "last_seen": null,
            "reported_status": null, "connectors": {}, "firmware_update": null
        }))
        .unwrap();
        assert_eq!(d.status(now, limit), DeviceStatus::Offline, "never seen");
        d.last_seen = Some(now - chrono::Duration::seconds(90));
        assert_eq!(d.status(now, limit), DeviceStatus::Online);
        assert!(d.is_online(now, limit));
        d.last_seen = Some(now - chrono::Duration::seconds(91));
        assert_eq!(d.status(now, limit), DeviceStatus::Offline);
        d.last_seen = Some(now);
        let one = ConnectorId::new(1).unwrap();
        d.connectors
            .insert(one, Connector::first_seen(ConnectorState::Fault, now));
        assert_eq!(d.status(now, limit), DeviceStatus::Fault);
        assert!(d.is_online(now, limit), "a faulted device is still heard");
    }
}
