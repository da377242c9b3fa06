//! Storage of chargers: the device item, its serial-number claim, its
//! listing in the operator's and site's indexes, and the operator's
//! counters that every write adding, moving or changing a device keeps.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::ids::{DeviceId, OperatorId, SiteId};
use kernel::model::Activity;
use kernel::model::Device;
use kernel::storage::{Page, StoreResult, WriteOutcome};
use std::collections::BTreeMap;

/// A device's model, manufacturer and firmware version: what the counters
/// count devices by.
pub type Build = (String, String, String);

/// An operator's counters, or changes to them: sites, and devices per
/// model, manufacturer and firmware version (their sum is the fleet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetCounts {
    pub sites: i64,
    pub builds: BTreeMap<Build, i64>,
}

impl FleetCounts {
    /// Counts one device of `build` in (`+1`) or out (`-1`).
    pub fn add_device(&mut self, build: (&str, &str, &str), by: i64) {
        let (model, manufacturer, version) = build;
        *self
            .builds
            .entry((model.into(), manufacturer.into(), version.into()))
            .or_default() += by;
    }

    /// Adds another operator's counts (an admin's several operators).
    pub fn merge(&mut self, other: FleetCounts) {
        self.sites += other.sites;
        for (build, n) in other.builds {
            *self.builds.entry(build).or_default() += n;
        }
    }

    /// Builds with devices; a count at or below zero (a device counted out
    /// that was never counted in, from before the counters) shows none.
    pub fn builds(&self) -> impl Iterator<Item = (&Build, u32)> {
        self.builds
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(b, n)| (b, u32::try_from(*n).unwrap_or(u32::MAX)))
    }

    pub fn devices(&self) -> usize {
        self.builds().map(|(_, n)| n as usize).sum()
    }

    pub fn site_count(&self) -> usize {
        usize::try_from(self.sites.max(0)).unwrap_or(0)
    }
}

/// A device's entry in its operator's listing, in serial-number order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listed {
    pub sn: String,
    pub device_id: DeviceId,
}

/// The charger profile a re-registration may change.
#[derive(Debug, Clone, Copy)]
pub struct Profile<'a> {
    pub model: &'a str,
    pub manufacturer: &'a str,
    pub firmware_version: &'a str,
}

#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// Marks the device seen (and, from a heartbeat, its reported status)
    /// in one conditional update, answering the device as it was before
    /// (its old `last_seen` shows an outage). `None` when the device is
    /// gone or the token was issued before its credentials were rotated.
    async fn touch_device(
        &self,
        id: DeviceId,
        token_issued_ms: i64,
        now: DateTime<Utc>,
        status: Option<&str>,
    ) -> StoreResult<Option<Device>>;
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
    /// The first `limit` entries of an operator's listing, in serial-number
    /// order, without reading the devices.
    async fn operator_listing(
        &self,
        operator: &OperatorId,
        limit: usize,
    ) -> StoreResult<Vec<Listed>>;
    async fn site_devices(&self, site: SiteId) -> StoreResult<Vec<Device>>;
    /// Replaces the secret of the device as read (`Conflict` if its secret,
    /// operator or profile changed since), killing older tokens, and moves
    /// it in its operator's counters when the profile changes.
    async fn rotate_secret(
        &self,
        before: &Device,
        new_hash: &str,
        revoked_before: i64,
        profile: Profile<'_>,
    ) -> StoreResult<WriteOutcome>;
    /// An operator's counters.
    async fn fleet_counts(&self, operator: &OperatorId) -> StoreResult<FleetCounts>;
    /// Replaces an operator's counters with a recount (maintenance, for
    /// devices and sites from before the counters were kept).
    async fn replace_fleet_counts(
        &self,
        operator: &OperatorId,
        counts: &FleetCounts,
    ) -> StoreResult<()>;
}
