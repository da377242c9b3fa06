//! Storage of chargers: the device item, its serial-number claim and its
//! listing in the operator's and site's indexes.

use crate::ids::{DeviceId, OperatorId, SiteId};
use crate::model::Activity;
use crate::model::Device;
use crate::storage::{Page, StoreResult, WriteOutcome};
use async_trait::async_trait;

/// The charger profile a re-registration may change.
#[derive(Debug, Clone, Copy)]
pub struct Profile<'a> {
    pub model: &'a str,
    pub manufacturer: &'a str,
    pub firmware_version: &'a str,
}

#[async_trait]
pub trait DeviceStore: Send + Sync {
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
        profile: Profile<'_>,
    ) -> StoreResult<WriteOutcome>;
}
