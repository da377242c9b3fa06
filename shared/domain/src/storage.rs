//! What the storage ports share: the error, pages, write outcomes and the
//! one [`Store`] that bundles every capability's port. The ports themselves
//! live with their capabilities (`devices::DeviceStore`, ...); the DynamoDB
//! adapter in the `store` crate is their only implementation.

use crate::campaigns::CampaignStore;
use crate::commands::CommandStore;
use crate::devices::DeviceStore;
use crate::feeds::FeedStore;
use crate::intelligence::IntelligenceStore;
use crate::partners::PartnerStore;
use crate::profiles::ProfileStore;
use crate::records::RecordStore;
use crate::sites::SiteStore;
use crate::telemetry::TelemetryStore;
use crate::tenants::TenantStore;
use crate::throttle::ThrottleStore;
use async_trait::async_trait;
use chrono::Duration;

/// A failure below the store, kept whole for the logs.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttled, timed out or unreachable after the SDK's retries.
    #[error("the store is unavailable")]
    Unavailable(#[source] Cause),
    #[error("the store failed")]
    Internal(#[source] Cause),
    /// A page cursor that this store did not hand out.
    #[error("invalid page cursor")]
    InvalidCursor,
}

impl StoreError {
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One page of a listing and the cursor of the next, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// A condition on current state failed; nothing was written.
    Conflict,
}

/// How long time series are kept; the adapter turns these into expiry
/// times (DynamoDB TTL) and reads skip what has expired.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    pub samples: Duration,
    pub activity: Duration,
    pub request_log: Duration,
    /// How long an `Idempotency-Key` answers with its first command.
    pub idempotency: Duration,
    /// Outages, fault marks, findings and health scores.
    pub intelligence: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            samples: Duration::days(35),
            activity: Duration::days(7),
            request_log: Duration::hours(24),
            idempotency: Duration::hours(24),
            intelligence: Duration::days(crate::intelligence::KEPT_DAYS),
        }
    }
}

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
{
    /// A cheap request that proves the table is reachable.
    async fn ping(&self) -> StoreResult<()>;
}

/// Every port trait, for code that holds the store itself (tests, tools).
pub mod ports {
    pub use super::Store;
    pub use crate::campaigns::CampaignStore;
    pub use crate::commands::CommandStore;
    pub use crate::devices::DeviceStore;
    pub use crate::feeds::FeedStore;
    pub use crate::intelligence::IntelligenceStore;
    pub use crate::partners::PartnerStore;
    pub use crate::profiles::ProfileStore;
    pub use crate::records::RecordStore;
    pub use crate::sites::SiteStore;
    pub use crate::telemetry::TelemetryStore;
    pub use crate::tenants::TenantStore;
    pub use crate::throttle::ThrottleStore;
}
