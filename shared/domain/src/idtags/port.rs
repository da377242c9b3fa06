use super::IdTag;
use async_trait::async_trait;
use kernel::ids::OperatorId;
use kernel::storage::{StoreResult, WriteOutcome};

/// Where operators' driver tokens are kept: one item per operator and
/// token (its upper-case form), so that an Authorize is one `GetItem`.
#[async_trait]
pub trait IdTagStore: Send + Sync {
    /// `Conflict` when the operator has the token already.
    async fn insert_id_tag(&self, tag: &IdTag) -> StoreResult<WriteOutcome>;
    async fn get_id_tag(&self, operator: &OperatorId, key: &str) -> StoreResult<Option<IdTag>>;
    async fn operator_id_tags(&self, operator: &OperatorId) -> StoreResult<Vec<IdTag>>;
    async fn put_id_tag(&self, tag: &IdTag) -> StoreResult<()>;
    async fn delete_id_tag(&self, operator: &OperatorId, key: &str) -> StoreResult<()>;
}
