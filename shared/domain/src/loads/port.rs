//! Storage of a site's allocation: one item per site, written only over
//! the version read, so two recomputations at once cannot both hand out
//! the whole site.

use super::SiteAllocation;
use async_trait::async_trait;
use kernel::ids::SiteId;
use kernel::storage::{StoreResult, WriteOutcome};

#[async_trait]
pub trait LoadStore: Send + Sync {
    async fn get_allocation(&self, site: SiteId) -> StoreResult<Option<SiteAllocation>>;
    /// Writes `allocation` if the stored one is still at `expected` (none:
    /// if there is none); `Conflict` otherwise.
    async fn save_allocation(
        &self,
        allocation: &SiteAllocation,
        expected: Option<u64>,
    ) -> StoreResult<WriteOutcome>;
}
