//! OCPP charge points: the charge point item (keyed by its id, listed on
//! its operator's index), its transactions under their device, and the
//! connection kept on the device item itself, so that every status read
//! sees it with no extra request.

use crate::core::{DynamoStore, invalid_request, s, unless_condition_failed};
use crate::errors::map_sdk;
use crate::items::{Item, from_attrs, key_attrs, to_attrs, to_value};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem};
use chrono::{DateTime, Utc};
use domain::chargepoints::{ChargePoint, ChargePointStore, PendingCall, Socket, Transaction};
use kernel::ids::{DeviceId, OperatorId};
use kernel::model::{Activity, Device, LiveConnection};
use kernel::storage::{StoreResult, WriteOutcome};

/// A call nobody answered is dropped after a day (its command expired
/// long before).
const PENDING_KEPT: chrono::Duration = chrono::Duration::days(1);

/// A transaction's item outlives any session by far; its record stays.
const TRANSACTION_KEPT: chrono::Duration = chrono::Duration::days(60);

fn charge_point_item(cp: &ChargePoint) -> Item<&ChargePoint> {
    Item::new(keys::charge_point(&cp.charge_point_id), cp).gsi1(
        keys::operator_charge_points(&cp.operator_id),
        cp.charge_point_id.clone(),
    )
}

#[async_trait]
impl ChargePointStore for DynamoStore {
    async fn insert_charge_point(
        &self,
        cp: &ChargePoint,
        device: &Device,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome> {
        let mut items = vec![self.put_new_item(&charge_point_item(cp))?];
        items.extend(self.device_insert(device, activity)?);
        self.transact_contended(items).await
    }

    async fn get_charge_point(&self, id: &str) -> StoreResult<Option<ChargePoint>> {
        self.get(keys::charge_point(id)).await
    }

    async fn operator_charge_points(&self, op: &OperatorId) -> StoreResult<Vec<ChargePoint>> {
        self.query_all(
            Some(keys::GSI1),
            "GSI1PK = :p",
            vec![(":p", s(keys::operator_charge_points(op)))],
            false,
        )
        .await
    }

    async fn save_charge_point(&self, cp: &ChargePoint) -> StoreResult<WriteOutcome> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&charge_point_item(cp))?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", crate::core::n(cp.version.saturating_sub(1)))
            .build()
            .map_err(invalid_request)?;
        self.transact(vec![TransactWriteItem::builder().put(put).build()])
            .await
    }

    async fn get_transaction(
        &self,
        device: DeviceId,
        id: &str,
    ) -> StoreResult<Option<Transaction>> {
        self.get(keys::transaction(device, id)).await
    }

    async fn put_transaction(&self, tx: &Transaction) -> StoreResult<()> {
        let ttl = crate::core::expiry(tx.started_at, TRANSACTION_KEPT);
        self.put(&Item::new(keys::transaction(tx.device_id, &tx.transaction_id), tx).expires(ttl))
            .await
    }

    async fn put_pending_calls(&self, calls: &[PendingCall]) -> StoreResult<()> {
        let items: Vec<Item<&PendingCall>> = calls
            .iter()
            .map(|c| {
                Item::new(keys::pending_call(c.device_id, &c.message_id), c)
                    .expires(crate::core::expiry(c.sent_at, PENDING_KEPT))
            })
            .collect();
        self.put_all(&items).await
    }

    async fn take_pending_call(
        &self,
        device: DeviceId,
        message_id: &str,
    ) -> StoreResult<Option<PendingCall>> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::pending_call(device, message_id))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(map_sdk)?;
        out.attributes.map(from_attrs).transpose()
    }

    async fn count_answered_part(&self, call: &PendingCall) -> StoreResult<u32> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::answered_parts(call.command_id))))
            .update_expression("ADD answered :one SET #ttl = :ttl")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", crate::core::n(1))
            .expression_attribute_values(
                ":ttl",
                crate::core::n(crate::core::expiry(call.sent_at, PENDING_KEPT)),
            )
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(out
            .attributes
            .and_then(|a| {
                a.get("answered")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok())
            })
            .unwrap_or(0))
    }

    async fn put_socket(&self, socket: &Socket) -> StoreResult<()> {
        // API Gateway ends a connection after 2 hours at most.
        let ttl = crate::core::expiry(socket.since, chrono::Duration::hours(3));
        self.put(&Item::new(keys::socket(&socket.connection_id), socket).expires(ttl))
            .await
    }

    async fn get_socket(&self, connection_id: &str) -> StoreResult<Option<Socket>> {
        self.get(keys::socket(connection_id)).await
    }

    async fn delete_socket(&self, connection_id: &str) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::socket(connection_id))))
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(())
    }

    async fn set_connection(
        &self,
        device: DeviceId,
        connection: Option<&LiveConnection>,
        ending: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<WriteOutcome> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(device))))
            .expression_attribute_values(":now", to_value(&now)?);
        let update = match (connection, ending) {
            (Some(c), _) => update
                .update_expression("SET #c = :c, last_seen = :now")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_names("#c", "connection")
                .expression_attribute_values(":c", to_value(c)?),
            (None, Some(id)) => update
                .update_expression("REMOVE #c SET last_seen = :now")
                .condition_expression("#c.connection_id = :id")
                .expression_attribute_names("#c", "connection")
                .expression_attribute_values(":id", s(id)),
            (None, None) => return Ok(WriteOutcome::Written),
        };
        Ok(match unless_condition_failed(update.send().await)? {
            Some(_) => WriteOutcome::Written,
            None => WriteOutcome::Conflict,
        })
    }
}
