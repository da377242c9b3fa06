//! Storage of tariffs: an item each, listed per operator, with the
//! versions they replaced.

use super::{Tariff, TariffVersion};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::ids::{OperatorId, TariffId};
use kernel::model::Activity;
use kernel::storage::{StoreResult, WriteOutcome};

#[async_trait]
pub trait TariffStore: Send + Sync {
    async fn insert_tariff(&self, tariff: &Tariff, activity: &Activity) -> StoreResult<()>;
    async fn get_tariff(&self, id: TariffId) -> StoreResult<Option<Tariff>>;
    /// An operator's tariffs, oldest first.
    async fn operator_tariffs(&self, operator: &OperatorId) -> StoreResult<Vec<Tariff>>;
    /// An operator's tariffs and the versions they replaced or deleted
    /// (kept while a late record may still need them): one query.
    async fn tariff_versions(&self, operator: &OperatorId) -> StoreResult<Vec<TariffVersion>>;
    /// Writes `next` if `previous` is still the stored version, and keeps
    /// `previous` as superseded at `next.updated_at`.
    async fn replace_tariff(
        &self,
        next: &Tariff,
        previous: &Tariff,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome>;
    /// Deletes the tariff, keeping it as a version superseded `at`.
    async fn delete_tariff(
        &self,
        tariff: &Tariff,
        at: DateTime<Utc>,
        activity: &Activity,
    ) -> StoreResult<()>;
}
