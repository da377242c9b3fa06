//! Storage of what intelligence keeps: health scores and agent runs, each
//! under its operator's key.

use super::agents::AgentRun;
use super::health::HealthScore;
use async_trait::async_trait;
use kernel::ids::OperatorId;
use kernel::storage::StoreResult;

#[async_trait]
pub trait IntelligenceStore: Send + Sync {
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
