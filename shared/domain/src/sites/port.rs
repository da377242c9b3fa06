//! Storage of sites and of which devices are in them.

use crate::ids::{DeviceId, OperatorId, SiteId};
use crate::model::{Activity, Site};
use crate::storage::{StoreResult, WriteOutcome};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A device joining a site, with what was read so the write can check it.
#[derive(Debug, Clone)]
pub struct SiteMember {
    pub device_id: DeviceId,
    pub previous_site: Option<SiteId>,
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
}
