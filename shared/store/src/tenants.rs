//! Operators, their API clients and operator sessions (which expire).

use crate::core::{DynamoStore, s};
use crate::items::Item;
use crate::keys;
use async_trait::async_trait;
use domain::tenants::TenantStore;
use kernel::ids::OperatorId;
use kernel::model::{Client, Operator, Session};
use kernel::storage::{StoreResult, WriteOutcome};

#[async_trait]
impl TenantStore for DynamoStore {
    async fn ensure_operator(&self, operator: &Operator) -> StoreResult<WriteOutcome> {
        let item = Item::new(keys::operator(&operator.id), operator)
            .gsi1(keys::OPERATORS.into(), operator.id.to_string());
        self.put_new(&item).await
    }

    async fn get_operator(&self, id: &OperatorId) -> StoreResult<Option<Operator>> {
        self.get(keys::operator(id)).await
    }

    async fn all_operators(&self) -> StoreResult<Vec<Operator>> {
        self.query_all(
            Some(keys::GSI1),
            "GSI1PK = :p",
            vec![(":p", s(keys::OPERATORS))],
            false,
        )
        .await
    }

    async fn insert_client(&self, client: &Client) -> StoreResult<WriteOutcome> {
        self.put_new(&Item::new(keys::client(&client.client_id), client))
            .await
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        self.get(keys::client(client_id)).await
    }

    async fn put_session(&self, token_hash: &str, session: &Session) -> StoreResult<()> {
        let item =
            Item::new(keys::session(token_hash), session).expires(session.expires_at.timestamp());
        self.put(&item).await
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        // Strongly consistent (as every `get`): a token is used the moment it is issued.
        self.get(keys::session(token_hash)).await
    }
}
