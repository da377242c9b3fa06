//! Charge detail records: written once (conditional on the record id),
//! listed per operator by start time.

use crate::core::{DynamoStore, cancelled_items, invalid_request, n, s};
use crate::errors::map_sdk;
use crate::items::{Item, from_attrs, key_attrs};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use domain::partners::outbox::Delivery;
use domain::records::{RecordOutcome, RecordStore, RevenueDay, RevenueScope};
use kernel::ids::{ConnectorId, DeviceId, OperatorId, RecordId, SiteId};
use kernel::model::{Activity, ChargingRecord, RecordPrice};
use kernel::storage::{StoreError, StoreResult};
use pricing::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

/// A record as the table keeps it.
#[derive(Debug, Serialize, Deserialize)]
struct StoredRecord {
    record_id: RecordId,
    device_id: DeviceId,
    operator_id: OperatorId,
    site_id: Option<SiteId>,
    connector_id: ConnectorId,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    energy: f64,
    max_power: Option<f64>,
    cost: Option<f64>,
    currency: Option<String>,
    stop_reason: Option<String>,
    received_at: DateTime<Utc>,
    #[serde(default)]
    id_tag: Option<String>,
    #[serde(default)]
    price: Option<RecordPrice>,
    #[serde(default)]
    parking_time_s: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorization: Option<String>,
}

impl From<&ChargingRecord> for StoredRecord {
    fn from(r: &ChargingRecord) -> Self {
        Self {
            record_id: r.record_id,
            device_id: r.device_id,
            operator_id: r.operator_id.clone(),
            site_id: r.site_id,
            connector_id: r.connector_id,
            start_time: r.start_time,
            end_time: r.end_time,
            energy: r.energy,
            max_power: r.max_power,
            cost: r.cost,
            currency: r.currency.clone(),
            stop_reason: r.stop_reason.clone(),
            received_at: r.received_at,
            id_tag: r.id_tag.clone(),
            price: r.price.clone(),
            parking_time_s: r.parking_time_s,
            authorization: r.authorization.clone(),
        }
    }
}

impl From<StoredRecord> for ChargingRecord {
    fn from(r: StoredRecord) -> Self {
        Self {
            record_id: r.record_id,
            device_id: r.device_id,
            operator_id: r.operator_id,
            site_id: r.site_id,
            connector_id: r.connector_id,
            start_time: r.start_time,
            end_time: r.end_time,
            energy: r.energy,
            max_power: r.max_power,
            cost: r.cost,
            currency: r.currency,
            stop_reason: r.stop_reason,
            received_at: r.received_at,
            id_tag: r.id_tag,
            price: r.price,
            parking_time_s: r.parking_time_s,
            authorization: r.authorization,
        }
    }
}

#[async_trait]
impl RecordStore for DynamoStore {
    async fn put_record(
        &self,
        record: &ChargingRecord,
        activity: &Activity,
        push: Option<&Delivery>,
    ) -> StoreResult<RecordOutcome> {
        let item = Item::new(keys::record(record.record_id), StoredRecord::from(record)).gsi1(
            keys::operator_records(&record.operator_id),
            format!("{}#{}", keys::time(record.start_time), record.record_id),
        );
        let mut put = self.put_new_item(&item)?;
        if let Some(p) = put.put.as_mut() {
            p.return_values_on_condition_check_failure =
                Some(ReturnValuesOnConditionCheckFailure::AllOld);
        }
        let mut items = vec![put, self.activity_put(activity)?];
        if let Some(push) = push {
            items.push(self.delivery_put(push)?);
        }
        if let Some(price) = record.price.as_ref().filter(|_| record.earns()) {
            let scopes = [
                Some(RevenueScope::Operator),
                record.site_id.map(RevenueScope::Site),
                Some(RevenueScope::Device(record.device_id)),
            ];
            for scope in scopes.into_iter().flatten() {
                items.push(self.revenue_add(record, price, scope)?);
            }
        }
        let out = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let err = match out {
            Ok(_) => return Ok(RecordOutcome::Created),
            Err(e) => e,
        };
        if cancelled_items(&err).is_none() {
            return Err(map_sdk(err));
        }
        // The record exists: its stored form comes with the cancellation
        // where the endpoint returns it, else from one read.
        let returned = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(e)) => e
                .cancellation_reasons()
                .first()
                .and_then(|r| r.item().cloned()),
            _ => None,
        };
        let existing = match returned {
            Some(item) if !item.is_empty() => Some(from_attrs::<StoredRecord>(item)?.into()),
            _ => self.get_record(record.record_id).await?,
        };
        let existing = existing.ok_or_else(|| {
            StoreError::internal(format!(
                "record {} vanished after a conflicting put",
                record.record_id
            ))
        })?;
        Ok(RecordOutcome::Exists(Box::new(existing)))
    }

    async fn operator_records(
        &self,
        operator: &OperatorId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ChargingRecord>> {
        // `~` sorts after every id, so the upper bound includes `to` itself.
        let stored: Vec<StoredRecord> = self
            .query_all(
                Some(keys::GSI1),
                "GSI1PK = :p AND GSI1SK BETWEEN :from AND :to",
                vec![
                    (":p", s(keys::operator_records(operator))),
                    (":from", s(keys::time(from))),
                    (":to", s(format!("{}~", keys::time(to)))),
                ],
                true,
            )
            .await?;
        Ok(stored.into_iter().map(ChargingRecord::from).collect())
    }

    async fn get_record(&self, id: RecordId) -> StoreResult<Option<ChargingRecord>> {
        Ok(self
            .get::<StoredRecord>(keys::record(id))
            .await?
            .map(ChargingRecord::from))
    }

    async fn revenue_days(
        &self,
        operator: &OperatorId,
        scope: RevenueScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<RevenueDay>> {
        // `~` sorts after every currency, so the upper bound takes `to`'s day.
        let stored: Vec<StoredRevenue> = self
            .query_all(
                None,
                "PK = :p AND SK BETWEEN :from AND :to",
                vec![
                    (":p", s(keys::revenue(operator, &scope_key(scope)))),
                    (":from", s(keys::day(from))),
                    (":to", s(format!("{}~", keys::day(to)))),
                ],
                false,
            )
            .await?;
        stored.into_iter().map(StoredRevenue::day).collect()
    }
}

/// One day's revenue of one scope in one currency, added to by each
/// priced record (integer cents and Wh: `ADD` on them is exact).
#[derive(Debug, Deserialize)]
struct StoredRevenue {
    /// `YYYY-MM-DD`.
    day: String,
    currency: String,
    sessions: u64,
    energy_wh: i64,
    excl_vat_cents: i64,
    incl_vat_cents: i64,
}

impl StoredRevenue {
    fn day(self) -> StoreResult<RevenueDay> {
        let day = NaiveDate::parse_from_str(&self.day, "%Y-%m-%d")
            .map(|d| d.and_time(NaiveTime::MIN).and_utc())
            .map_err(|_| StoreError::internal(format!("revenue day {}", self.day)))?;
        Ok(RevenueDay {
            day,
            currency: self.currency,
            sessions: self.sessions,
            energy_wh: self.energy_wh,
            excl_vat_cents: self.excl_vat_cents,
            incl_vat_cents: self.incl_vat_cents,
        })
    }
}

fn scope_key(scope: RevenueScope) -> String {
    match scope {
        RevenueScope::Operator => "ALL".into(),
        RevenueScope::Site(id) => format!("SITE#{id}"),
        RevenueScope::Device(id) => format!("DEV#{id}"),
    }
}

fn cents(amount: Decimal) -> i64 {
    (amount * Decimal::ONE_HUNDRED)
        .round()
        .to_i64()
        .unwrap_or_default()
}

impl DynamoStore {
    fn revenue_add(
        &self,
        record: &ChargingRecord,
        price: &RecordPrice,
        scope: RevenueScope,
    ) -> StoreResult<TransactWriteItem> {
        let key = (
            keys::revenue(&record.operator_id, &scope_key(scope)),
            format!("{}#{}", keys::day(record.end_time), price.currency),
        );
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .update_expression(
                "ADD sessions :one, energy_wh :e, excl_vat_cents :x, incl_vat_cents :i \
                 SET currency = :c, #day = :d",
            )
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":e", n((record.energy * 1000.0).round() as i64))
            .expression_attribute_values(":x", n(cents(price.excl_vat)))
            .expression_attribute_values(":i", n(cents(price.incl_vat)))
            .expression_attribute_values(":c", s(&price.currency))
            .expression_attribute_names("#day", "day")
            .expression_attribute_values(":d", s(keys::day(record.end_time)))
            .build()
            .map_err(invalid_request)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}
