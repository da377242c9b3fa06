//! The storage port: every access pattern the domain needs, as one method
//! each. The DynamoDB adapter is its only implementation.

use crate::ids::{CommandId, DeviceId, OperatorId, RecordId, SiteId};
use crate::model::{
    Activity, ChargingRecord, Client, Command, CommandStatus, Connector, Device, EnergyBucket,
    FirmwareProgress, Operator, RequestLogEntry, Sample, Session, Site,
};
use crate::schedule::Schedule;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttled, timed out or unreachable after the SDK's retries.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store error: {0}")]
    Internal(String),
    /// A page cursor that this store did not hand out.
    #[error("invalid page cursor")]
    InvalidCursor,
}

/// One page of a listing and the cursor of the next, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq)]
pub enum EnergyScope {
    Device(DeviceId),
    Site(SiteId),
}

/// Energy to add to one pre-aggregated bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct EnergyAdd {
    pub scope: EnergyScope,
    pub operator_id: OperatorId,
    /// The hour, `2026-05-10T14`.
    pub bucket: String,
    pub charge_kwh: f64,
    pub discharge_kwh: f64,
    /// Set when this sample may raise the bucket's `max_power`.
    pub raise_max_kw: Option<f64>,
}

/// A change to one connector's live state, written atomically with what
/// goes with it, provided the connector has not moved since it was read.
#[derive(Debug, Clone)]
pub struct ConnectorWrite {
    pub device_id: DeviceId,
    pub connector_id: u32,
    /// The connector's version as read; `None` when the connector is new.
    pub expected_version: Option<u64>,
    /// The device's operator and site as read: the energy is theirs.
    pub operator_id: OperatorId,
    pub site_id: Option<SiteId>,
    pub connector: Connector,
    pub last_seen: DateTime<Utc>,
    pub sample: Option<Sample>,
    pub energy: Vec<EnergyAdd>,
    pub activity: Option<Activity>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// A condition on current state failed; nothing was written.
    Conflict,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RecordOutcome {
    Created,
    Exists(Box<ChargingRecord>),
}

/// A device joining a site, with what was read so the write can check it.
#[derive(Debug, Clone)]
pub struct SiteMember {
    pub device_id: DeviceId,
    pub previous_site: Option<SiteId>,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// A cheap request that proves the table is reachable.
    async fn ping(&self) -> StoreResult<()>;

    /// Creates the operator unless one with its id exists.
    async fn ensure_operator(&self, operator: &Operator) -> StoreResult<WriteOutcome>;
    async fn get_operator(&self, id: &OperatorId) -> StoreResult<Option<Operator>>;
    /// Every operator (the platform administrator's view).
    async fn all_operators(&self) -> StoreResult<Vec<Operator>>;

    /// Creates a client; `Conflict` if the id is taken.
    async fn insert_client(&self, client: &Client) -> StoreResult<WriteOutcome>;
    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    async fn put_session(&self, token_hash: &str, session: &Session) -> StoreResult<()>;
    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>>;

    /// Creates the device and claims its serial number; `Conflict` when the
    /// serial number is taken.
    async fn insert_device(
        &self,
        device: &Device,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome>;
    async fn device_id_by_serial(&self, sn: &str) -> StoreResult<Option<DeviceId>>;
    async fn get_device(&self, id: DeviceId) -> StoreResult<Option<Device>>;
    async fn get_devices(&self, ids: &[DeviceId]) -> StoreResult<Vec<Device>>;
    /// An operator's devices in serial-number order, a page at a time.
    async fn operator_devices(
        &self,
        operator: &OperatorId,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Device>>;

    async fn site_devices(&self, site: SiteId) -> StoreResult<Vec<Device>>;
    /// Replaces the secret if it is still `old_hash`, killing older tokens.
    async fn rotate_secret(
        &self,
        id: DeviceId,
        old_hash: &str,
        new_hash: &str,
        revoked_before: i64,
        profile: (&str, &str, &str),
    ) -> StoreResult<WriteOutcome>;
    /// Counts a failed authentication; `reset_at` starts a new window.
    async fn note_auth_failure(
        &self,
        id: DeviceId,
        reset_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    /// Marks the device seen (and, from a heartbeat, its reported status)
    /// in one conditional update. `None` when the device is gone or the
    /// token was issued before its credentials were rotated.
    async fn touch_device(
        &self,
        id: DeviceId,
        token_issued_ms: i64,
        now: DateTime<Utc>,
        status: Option<&str>,
    ) -> StoreResult<Option<Device>>;
    async fn apply_connector(&self, write: &ConnectorWrite) -> StoreResult<WriteOutcome>;
    /// Stores a sample that does not move live state (older than it).
    async fn put_sample(&self, sample: &Sample) -> StoreResult<()>;
    async fn set_firmware(
        &self,
        id: DeviceId,
        progress: &FirmwareProgress,
        installed: Option<&str>,
        now: DateTime<Utc>,
        activity: Option<&Activity>,
    ) -> StoreResult<()>;

    /// Idempotent on `record_id`.
    async fn put_record(
        &self,
        record: &ChargingRecord,
        activity: &Activity,
    ) -> StoreResult<RecordOutcome>;
    /// An operator's records whose start lies in `[from, to]`, newest first.
    async fn operator_records(
        &self,
        operator: &OperatorId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ChargingRecord>>;
    async fn get_record(&self, id: RecordId) -> StoreResult<Option<ChargingRecord>>;

    /// Queues a command and counts it open on its device. With an
    /// idempotency key used before, nothing is written and the first
    /// command's id is returned.
    async fn insert_command(
        &self,
        command: &Command,
        activity: &Activity,
        idempotency_key: Option<&str>,
    ) -> StoreResult<Option<CommandId>>;
    /// Remembers the schedule a `set_schedule` command carries.
    async fn put_schedule(
        &self,
        device: DeviceId,
        connector: u32,
        schedule: &Schedule,
        command: CommandId,
    ) -> StoreResult<()>;
    /// The schedules of a device's connectors, by connector.
    async fn device_schedules(&self, device: DeviceId) -> StoreResult<Vec<(u32, Schedule)>>;
    async fn get_command(&self, id: CommandId) -> StoreResult<Option<Command>>;
    /// The device's queued and delivered commands, oldest first.
    async fn open_commands(&self, device: DeviceId) -> StoreResult<Vec<Command>>;
    /// Writes `command` if its stored status is still `expected`.
    async fn update_command(
        &self,
        command: &Command,
        expected: CommandStatus,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome>;

    /// Hour buckets of one scope between two hours (inclusive), in order.
    async fn energy_buckets(
        &self,
        operator: &OperatorId,
        scope: &EnergyScope,
        from: &str,
        to: &str,
    ) -> StoreResult<Vec<EnergyBucket>>;

    async fn log_request(&self, entry: &RequestLogEntry) -> StoreResult<()>;
    /// The newest unexpired request log lines, newest first.
    async fn recent_requests(
        &self,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<RequestLogEntry>>;

    async fn get_site(&self, id: SiteId) -> StoreResult<Option<Site>>;
    /// Records a flexibility cap on a site until `until`.
    async fn set_site_cap(
        &self,
        site: SiteId,
        limit_kw: f64,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn operator_sites(&self, operator: &OperatorId) -> StoreResult<Vec<Site>>;
    /// Creates or replaces the site (only if its operator is unchanged) and
    /// moves the members into it (only if they are where they were read).
    async fn save_site(
        &self,
        site: &Site,
        read_updated_at: Option<DateTime<Utc>>,
        members: &[SiteMember],
        activity: &Activity,
    ) -> StoreResult<WriteOutcome>;

    /// Activity newer than the cursor `since` (all unexpired when `None`),
    /// newest first, each with its cursor.
    async fn activity_since(
        &self,
        since: Option<&str>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, Activity)>>;
}
