//! Storage of the activity feed and the shared request log, both kept for
//! a while (the adapter sets their expiry from
//! [`kernel::storage::Retention`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::model::{Activity, RequestLogEntry};
use kernel::storage::StoreResult;

#[async_trait]
pub trait FeedStore: Send + Sync {
    async fn log_request(&self, entry: &RequestLogEntry) -> StoreResult<()>;
    /// The newest unexpired request log lines, newest first.
    async fn recent_requests(
        &self,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<RequestLogEntry>>;
    /// Activity newer than the cursor `since` (all unexpired when `None`),
    /// newest first, each with its cursor.
    async fn activity_since(
        &self,
        since: Option<&str>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, Activity)>>;
}
