//! Storage of what intelligence keeps: outages, fault marks, anomalies,
//! health scores and agent runs, each under its operator's key.

use super::agents::AgentRun;
use super::anomalies::Anomaly;
use super::health::HealthScore;
use super::{FaultMark, Outage};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::ids::OperatorId;
use kernel::storage::StoreResult;

#[async_trait]
pub trait IntelligenceStore: Send + Sync {
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
    /// Replaces the operator's stored scores with those of one run.
    async fn put_health_scores(
        &self,
        operator: &OperatorId,
        scores: &[HealthScore],
    ) -> StoreResult<()>;
    async fn health_scores(&self, operator: &OperatorId) -> StoreResult<Vec<HealthScore>>;
    async fn put_agent_run(&self, operator: &OperatorId, run: &AgentRun) -> StoreResult<()>;
    /// The last run of each agent for the operator.
    async fn agent_runs(&self, operator: &OperatorId) -> StoreResult<Vec<AgentRun>>;
}
