//! What intelligence keeps: health scores (one item per device, they
//! expire) and agent runs (one item per agent).

use crate::core::{DynamoStore, expiry, s};
use crate::items::Item;
use crate::keys;
use async_trait::async_trait;
use domain::intelligence::IntelligenceStore;
use domain::intelligence::agents::AgentRun;
use domain::intelligence::health::HealthScore;
use kernel::ids::OperatorId;
use kernel::storage::StoreResult;

#[async_trait]
impl IntelligenceStore for DynamoStore {
    async fn put_health_scores(
        &self,
        operator: &OperatorId,
        scores: &[HealthScore],
    ) -> StoreResult<()> {
        let items: Vec<Item<&HealthScore>> = scores
            .iter()
            .map(|score| {
                Item::new(keys::health(operator, score.device_id), score)
                    .expires(expiry(score.computed_at, self.retention.intelligence))
            })
            .collect();
        self.put_all(&items).await
    }

    async fn health_scores(&self, operator: &OperatorId) -> StoreResult<Vec<HealthScore>> {
        let scores: Vec<HealthScore> = self
            .query_all(
                None,
                "PK = :pk",
                vec![(":pk", s(keys::operator_health(operator)))],
                false,
            )
            .await?;
        // Devices that left the operator keep an older run's score: only
        // the newest run's scores are the fleet's.
        let newest = scores.iter().filter_map(|s| s.run_id).max();
        Ok(scores.into_iter().filter(|s| s.run_id == newest).collect())
    }

    async fn put_agent_run(&self, operator: &OperatorId, run: &AgentRun) -> StoreResult<()> {
        self.put(&Item::new(
            keys::agent_run(operator, run.agent_id.as_str()),
            run,
        ))
        .await
    }

    async fn agent_runs(&self, operator: &OperatorId) -> StoreResult<Vec<AgentRun>> {
        self.query_all(
            None,
            "PK = :pk",
            vec![(":pk", s(keys::operator_agent_runs(operator)))],
            false,
        )
        .await
    }
}
