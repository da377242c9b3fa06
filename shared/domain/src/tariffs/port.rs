//! Storage of tariffs: an item each, listed per operator.

use super::Tariff;
use async_trait::async_trait;
use kernel::ids::{OperatorId, TariffId};
use kernel::model::Activity;
use kernel::storage::{StoreResult, WriteOutcome};

#[async_trait]
pub trait TariffStore: Send + Sync {
    async fn insert_tariff(&self, tariff: &Tariff, activity: &Activity) -> StoreResult<()>;
    async fn get_tariff(&self, id: TariffId) -> StoreResult<Option<Tariff>>;
    /// An operator's tariffs, oldest first.
    async fn operator_tariffs(&self, operator: &OperatorId) -> StoreResult<Vec<Tariff>>;
    /// Writes `tariff` if its stored version is still `expected_version`.
    async fn replace_tariff(
        &self,
        tariff: &Tariff,
        expected_version: u32,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome>;
    async fn delete_tariff(&self, tariff: &Tariff, activity: &Activity) -> StoreResult<()>;
}
