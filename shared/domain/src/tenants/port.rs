//! Storage of operators, their API clients and operator sessions.

use async_trait::async_trait;
use kernel::ids::OperatorId;
use kernel::model::{Client, Operator, Session};
use kernel::storage::{StoreResult, WriteOutcome};

#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates the operator unless one with its id exists.
    async fn ensure_operator(&self, operator: &Operator) -> StoreResult<WriteOutcome>;
    async fn get_operator(&self, id: &OperatorId) -> StoreResult<Option<Operator>>;
    /// Every operator (the platform administrator's view).
    async fn all_operators(&self) -> StoreResult<Vec<Operator>>;
    /// Creates a client; `Conflict` if the id is taken.
    async fn insert_client(&self, client: &Client) -> StoreResult<WriteOutcome>;
    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    async fn put_session(&self, token_hash: &str, session: &Session) -> StoreResult<()>;
    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>>;
}
