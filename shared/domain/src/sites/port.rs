//! Storage of sites and of which devices are in them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::ids::{DeviceId, OperatorId, SiteId};
use kernel::model::{Activity, Device, Site};
use kernel::storage::{StoreResult, WriteOutcome};
use kernel::version::FirmwareVersion;

/// A device joining a site, with what was read so the write can check it
/// (and count it out of its old operator when it changes operator).
#[derive(Debug, Clone)]
pub struct SiteMember {
    pub device_id: DeviceId,
    pub previous_site: Option<SiteId>,
    pub previous_operator: OperatorId,
    pub model: String,
    pub manufacturer: String,
    pub firmware_version: FirmwareVersion,
}

impl From<&Device> for SiteMember {
    fn from(d: &Device) -> Self {
        Self {
            device_id: d.device_id,
            previous_site: d.site_id,
            previous_operator: d.operator_id.clone(),
            model: d.model.clone(),
            manufacturer: d.manufacturer.clone(),
            firmware_version: d.firmware_version.clone(),
        }
    }
}

#[async_trait]
pub trait SiteStore: Send + Sync {
    async fn get_site(&self, id: SiteId) -> StoreResult<Option<Site>>;
    /// Records a flexibility cap on a site until `until`.
    async fn set_site_cap(
        &self,
        site: SiteId,
        limit_kw: f64,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Every site of an operator, in name order.
    async fn operator_sites(&self, operator: &OperatorId) -> StoreResult<Vec<Site>>;
    /// The first `limit` sites of an operator in name order (then id).
    async fn first_sites(&self, operator: &OperatorId, limit: usize) -> StoreResult<Vec<Site>>;
    /// Creates the site, or replaces `previous` as read (only if unchanged
    /// since and of the same operator), and moves the members into it (only
    /// if each is where it was read). All or nothing: members beyond one
    /// transaction are moved in several, and when one fails those already
    /// written are moved back before `Conflict` is answered.
    async fn save_site(
        &self,
        site: &Site,
        previous: Option<&Site>,
        members: &[SiteMember],
        activity: &Activity,
    ) -> StoreResult<WriteOutcome>;
    /// Rewrites a site as it is (maintenance: its index keys in today's
    /// shape), unless it changed since read.
    async fn rewrite_site(&self, site: &Site) -> StoreResult<WriteOutcome>;
}
