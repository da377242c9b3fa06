//! Partners (stored under their id and under their code, written together
//! so that codes stay unique), their tokens and replay claims (both
//! expire by TTL), and what partners pushed, one item per connector or
//! session, each push replacing the last.

use crate::core::{DynamoStore, s};
use crate::errors::map_sdk;
use crate::items::Item;
use crate::items::from_attrs;
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Utc};
use domain::partners::outbox::{Delivery, DeliveryStatus, SessionMark};
use domain::partners::{Partner, PartnerConnector, PartnerSession, PartnerStore, PartnerToken};
use kernel::ids::PartnerId;
use kernel::ids::{ConnectorId, DeviceId};
use kernel::storage::{StoreResult, WriteOutcome};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The replay claim's body: when the request came.
#[derive(Debug, Serialize, Deserialize)]
struct NonceClaim {
    until: DateTime<Utc>,
}

fn delivery_item(d: &Delivery) -> Item<&Delivery> {
    let item = Item::new(keys::delivery(d.partner_id, d.delivery_id), d);
    // Only pending messages are in the index the delivery loop reads.
    if d.status == DeliveryStatus::Pending {
        item.gsi1(
            keys::OUTBOX.into(),
            format!("{}#{}", keys::time(d.next_attempt_at), d.delivery_id),
        )
    } else {
        item
    }
}

impl DynamoStore {
    /// A new message as a transaction item, beside the change it reports.
    pub(crate) fn delivery_put(&self, d: &Delivery) -> StoreResult<TransactWriteItem> {
        Ok(TransactWriteItem::builder()
            .put(self.put_item(&delivery_item(d))?)
            .build())
    }

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

    async fn due_deliveries(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Delivery>> {
        // `~` sorts after every id: messages due at `now` itself are in.
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :p AND GSI1SK <= :due")
            .expression_attribute_values(":p", s(keys::OUTBOX))
            .expression_attribute_values(":due", s(format!("{}~", keys::time(now))))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(map_sdk)?;
        page.items
            .unwrap_or_default()
            .into_iter()
            .map(from_attrs)
            .collect()
    }

    async fn save_delivery(&self, delivery: &Delivery) -> StoreResult<()> {
        self.put(&delivery_item(delivery)).await
    }

    async fn partner_deliveries(&self, id: PartnerId) -> StoreResult<Vec<Delivery>> {
        self.under_partner(id, keys::DELIVERY_PREFIX).await
    }

    async fn put_session_mark(&self, mark: &SessionMark) -> StoreResult<()> {
        let key = keys::session_mark(mark.device_id, mark.connector_id);
        self.put(&Item::new(key, mark)).await
    }

    async fn get_session_mark(
        &self,
        device: DeviceId,
        connector: ConnectorId,
    ) -> StoreResult<Option<SessionMark>> {
        self.get(keys::session_mark(device, connector)).await
    }

    async fn delete_session_mark(
        &self,
        device: DeviceId,
        connector: ConnectorId,
    ) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(crate::items::key_attrs(keys::session_mark(
                device, connector,
            ))))
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(())
    }
}
