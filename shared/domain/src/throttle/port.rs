//! Storage of attempt counters, one per scope, key (a source, or a
//! credential and a source) and window.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::storage::StoreResult;

#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Adds one attempt to the window's counter and answers the new count;
    /// the counter expires when the window ends.
    async fn count_attempt(
        &self,
        scope: &str,
        source: &str,
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
    ) -> StoreResult<u32>;

    /// The window's count so far (0 when none).
    async fn attempts(
        &self,
        scope: &str,
        source: &str,
        window_start: DateTime<Utc>,
    ) -> StoreResult<u32>;
}
