//! The store's own health check, and every capability's port in one place
//! for code that holds the store itself (tests, tools). The ports live with
//! their capabilities (`devices::DeviceStore`, ...), each service holds only
//! those it uses, and the DynamoDB adapter in the `store` crate is their
//! only implementation; what they share (the error, pages and write
//! outcomes) is `kernel::storage`.

use async_trait::async_trait;
use kernel::storage::StoreResult;

/// A cheap request that proves the store is reachable (the deep health
/// check).
#[async_trait]
pub trait StoreHealth: Send + Sync {
    async fn ping(&self) -> StoreResult<()>;
}

/// Every port trait, for code that holds the store itself (tests, tools).
pub mod ports {
    pub use super::StoreHealth;
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
    pub use crate::tariffs::TariffStore;
    pub use crate::telemetry::TelemetryStore;
    pub use crate::tenants::TenantStore;
    pub use crate::throttle::ThrottleStore;
}
