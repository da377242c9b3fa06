//! The one [`Store`] that bundles every capability's port (what they
//! share, the error, pages and write outcomes, is `kernel::storage`). The ports themselves
//! live with their capabilities (`devices::DeviceStore`, ...); the DynamoDB
//! adapter in the `store` crate is their only implementation.

use crate::campaigns::CampaignStore;
use crate::chargepoints::ChargePointStore;
use crate::commands::CommandStore;
use crate::devices::DeviceStore;
use crate::feeds::FeedStore;
use crate::idtags::IdTagStore;
use crate::intelligence::IntelligenceStore;
use crate::observations::ObservationStore;
use crate::partners::PartnerStore;
use crate::profiles::ProfileStore;
use crate::records::RecordStore;
use crate::sites::SiteStore;
use crate::telemetry::TelemetryStore;
use crate::tenants::TenantStore;
use crate::throttle::ThrottleStore;
use async_trait::async_trait;
use kernel::storage::StoreResult;

/// Every port at once: what the domain holds.
#[async_trait]
pub trait Store:
    DeviceStore
    + TelemetryStore
    + CommandStore
    + SiteStore
    + RecordStore
    + TenantStore
    + FeedStore
    + ThrottleStore
    + ProfileStore
    + CampaignStore
    + PartnerStore
    + IntelligenceStore
    + ObservationStore
    + ChargePointStore
    + IdTagStore
{
    /// A cheap request that proves the table is reachable.
    async fn ping(&self) -> StoreResult<()>;
}

/// Every port trait, for code that holds the store itself (tests, tools).
pub mod ports {
    pub use super::Store;
    pub use crate::campaigns::CampaignStore;
    pub use crate::chargepoints::ChargePointStore;
    pub use crate::commands::CommandStore;
    pub use crate::devices::DeviceStore;
    pub use crate::feeds::FeedStore;
    pub use crate::idtags::IdTagStore;
    pub use crate::intelligence::IntelligenceStore;
    pub use crate::observations::ObservationStore;
    pub use crate::partners::PartnerStore;
    pub use crate::profiles::ProfileStore;
    pub use crate::records::RecordStore;
    pub use crate::sites::SiteStore;
    pub use crate::telemetry::TelemetryStore;
    pub use crate::tenants::TenantStore;
    pub use crate::throttle::ThrottleStore;
}
