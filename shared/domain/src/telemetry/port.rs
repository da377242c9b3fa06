//! Storage of what chargers report: the device's live state, samples and
//! the hourly energy roll-ups.

use crate::observations::FaultMark;
use crate::outbox::Delivery;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::ids::{ConnectorId, DeviceId, OperatorId, SiteId};
use kernel::model::Activity;
use kernel::model::{Connector, FirmwareProgress, Sample};
use kernel::storage::{StoreResult, WriteOutcome};

/// Whose energy roll-up: a device's or a site's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EnergyScope {
    Device(DeviceId),
    Site(SiteId),
}

/// Energy to add to one hour's roll-up of a device. The bucket keeps the
/// time of the last sample each connector counted into it (`mark`), and
/// the addition applies only over the mark this sample follows (`after`):
/// a retried sample, or one that lost a race, is never counted twice.
#[derive(Debug, Clone, PartialEq)]
pub struct EnergyAdd {
    pub device_id: DeviceId,
    pub connector_id: ConnectorId,
    /// The device's site: the site's hours index the device's buckets.
    pub site_id: Option<SiteId>,
    pub operator_id: OperatorId,
    /// The start of the hour.
    pub hour: DateTime<Utc>,
    pub charge_kwh: f64,
    pub discharge_kwh: f64,
    /// Set when this sample may raise the hour's `max_power`.
    pub raise_max_kw: Option<f64>,
    /// This sample's time.
    pub mark: DateTime<Utc>,
    /// The connector's last sample counted into this hour, if any.
    pub after: Option<DateTime<Utc>>,
}

/// Energy of one hour of a device or site.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnergyHour {
    /// The start of the hour.
    pub hour: DateTime<Utc>,
    pub charge_energy: f64,
    pub discharge_energy: f64,
    pub max_power: Option<f64>,
}

/// A change to one connector's live state, written atomically with what
/// goes with it, provided the connector has not moved since it was read.
#[derive(Debug, Clone)]
pub struct ConnectorWrite {
    pub device_id: DeviceId,
    pub connector_id: ConnectorId,
    /// The connector's version as read; `None` when the connector is new.
    pub expected_version: Option<u64>,
    /// The device's operator and site as read: the energy is theirs.
    pub operator_id: OperatorId,
    pub site_id: Option<SiteId>,
    pub connector: Connector,
    pub last_seen: DateTime<Utc>,
    /// The raw sample, kept only when `SAMPLE_TTL_DAYS` asks for it.
    pub sample: Option<Sample>,
    pub energy: Option<EnergyAdd>,
    pub activity: Option<Activity>,
    /// Partner pushes the state change owes, in the same transaction.
    pub pushes: Vec<Delivery>,
    /// A fault event's mark, in the same transaction.
    pub fault: Option<FaultWrite>,
}

/// A fault event: its mark, and the device's fault times of the last hour
/// (this one included) to keep on the device.
#[derive(Debug, Clone)]
pub struct FaultWrite {
    pub mark: FaultMark,
    pub recent: Vec<DateTime<Utc>>,
}

/// A firmware report to record on its device.
#[derive(Debug, Clone)]
pub struct FirmwareWrite<'a> {
    pub device_id: DeviceId,
    pub progress: &'a FirmwareProgress,
    /// The version now running, when the report says it was installed.
    pub installed: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub activity: Option<&'a Activity>,
}

#[async_trait]
pub trait TelemetryStore: Send + Sync {
    async fn apply_connector(&self, write: &ConnectorWrite) -> StoreResult<WriteOutcome>;
    /// Stores a sample that does not move live state (older than it).
    async fn put_sample(&self, sample: &Sample) -> StoreResult<()>;
    async fn set_firmware(&self, write: FirmwareWrite<'_>) -> StoreResult<()>;
    /// Hours of one scope from `from` to `to` (inclusive), in order.
    async fn energy_hours(
        &self,
        operator: &OperatorId,
        scope: EnergyScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<EnergyHour>>;
}
