//! Partners (stored under their id and under their code, written together
//! so that codes stay unique), their tokens and replay claims (both
//! expire by TTL), and what partners pushed, one item per connector or
//! session, each push replacing the last.

use crate::core::{DynamoStore, s};
use crate::items::Item;
use crate::keys;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ids::PartnerId;
use domain::partners::{Partner, PartnerConnector, PartnerSession, PartnerStore, PartnerToken};
use domain::storage::{StoreResult, WriteOutcome};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The replay claim's body: when the request came.
#[derive(Debug, Serialize, Deserialize)]
struct NonceClaim {
    until: DateTime<Utc>,
}

impl DynamoStore {
    async fn under_partner<T: DeserializeOwned>(
        &self,
        id: PartnerId,
        prefix: &str,
    ) -> StoreResult<Vec<T>> {
        self.query_all(
            None,
            "PK = :p AND begins_with(SK, :s)",
            vec![(":p", s(keys::partner(id).0)), (":s", s(prefix))],
            false,
        )
        .await
    }
}

#[async_trait]
impl PartnerStore for DynamoStore {
    async fn insert_partner(&self, partner: &Partner) -> StoreResult<WriteOutcome> {
        let by_id = Item::new(keys::partner(partner.partner_id), partner)
            .gsi1(keys::PARTNERS.into(), partner.partner_operator_id.clone());
        let by_code = Item::new(keys::partner_code(&partner.partner_operator_id), partner);
        self.transact(vec![
            self.put_new_item(&by_id)?,
            self.put_new_item(&by_code)?,
        ])
        .await
    }

    async fn get_partner(&self, id: PartnerId) -> StoreResult<Option<Partner>> {
        self.get(keys::partner(id)).await
    }

    async fn partner_by_code(&self, code: &str) -> StoreResult<Option<Partner>> {
        self.get(keys::partner_code(code)).await
    }

    async fn all_partners(&self) -> StoreResult<Vec<Partner>> {
        self.query_all(
            Some(keys::GSI1),
            "GSI1PK = :p",
            vec![(":p", s(keys::PARTNERS))],
            false,
        )
        .await
    }

    async fn put_partner_token(&self, token_hash: &str, token: &PartnerToken) -> StoreResult<()> {
        let item =
            Item::new(keys::partner_token(token_hash), token).expires(token.expires_at.timestamp());
        self.put(&item).await
    }

    async fn get_partner_token(&self, token_hash: &str) -> StoreResult<Option<PartnerToken>> {
        self.get(keys::partner_token(token_hash)).await
    }

    async fn claim_nonce(
        &self,
        code: &str,
        time_stamp: &str,
        seq: &str,
        until: DateTime<Utc>,
    ) -> StoreResult<WriteOutcome> {
        let item = Item::new(
            keys::partner_nonce(code, time_stamp, seq),
            NonceClaim { until },
        )
        .expires(until.timestamp());
        self.put_new(&item).await
    }

    async fn put_partner_connector(&self, status: &PartnerConnector) -> StoreResult<()> {
        let key = keys::partner_connector(status.partner_id, &status.connector_id);
        self.put(&Item::new(key, status)).await
    }

    async fn put_partner_session(&self, session: &PartnerSession) -> StoreResult<()> {
        let key = keys::partner_session(session.partner_id, &session.start_charge_seq);
        self.put(&Item::new(key, session)).await
    }

    async fn partner_connectors(&self, id: PartnerId) -> StoreResult<Vec<PartnerConnector>> {
        self.under_partner(id, keys::PARTNER_CONNECTOR_PREFIX).await
    }

    async fn partner_sessions(&self, id: PartnerId) -> StoreResult<Vec<PartnerSession>> {
        self.under_partner(id, keys::PARTNER_SESSION_PREFIX).await
    }
}
