//! Storage of observations: outages, fault marks and findings, each under
//! its operator's key.

use super::findings::Anomaly;
use super::{FaultMark, Outage};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::ids::OperatorId;
use kernel::storage::StoreResult;

#[async_trait]
pub trait ObservationStore: Send + Sync {
    /// Keeps an outage; the same outage written twice is one item.
    async fn put_outage(&self, outage: &Outage) -> StoreResult<()>;
    /// An operator's outages that ended at or after `since`.
    async fn outages(
        &self,
        operator: &OperatorId,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<Outage>>;
    /// An operator's fault events in `[from, to]`.
    async fn faults(
        &self,
        operator: &OperatorId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<FaultMark>>;
    /// Keeps a finding under its id: `true` when it is new. A finding found
    /// again keeps its id and first detection time and takes the newer
    /// window end, severity, figures and explanation.
    async fn put_anomaly(&self, anomaly: &Anomaly) -> StoreResult<bool>;
    /// An operator's findings detected in `[since, until]`, newest first.
    async fn anomalies(
        &self,
        operator: &OperatorId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<Anomaly>>;
}
