//! What every storage port shares: the error, pages, write outcomes and
//! how long time series are kept. The ports live with their capabilities;
//! the DynamoDB adapter in the `store` crate is their only implementation.

use chrono::Duration;

/// Days that outages, fault marks, findings and health scores are kept:
/// the widest health-score window.
pub const INTELLIGENCE_DAYS: i64 = 90;

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
            intelligence: Duration::days(INTELLIGENCE_DAYS),
        }
    }
}
