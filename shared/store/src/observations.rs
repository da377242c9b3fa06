//! Observations: outages and fault marks (time-ordered under their
//! operator) and findings (one item per id, listed per operator by
//! detection time). All expire.

use crate::core::{DynamoStore, expiry, s};
use crate::errors::map_sdk;
use crate::items::{Item, key_attrs, to_attrs};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};
use domain::observations::findings::Anomaly;
use domain::observations::{FaultMark, ObservationStore, Outage};
use kernel::ids::OperatorId;
use kernel::storage::StoreResult;

/// Attributes a finding keeps from its first detection.
const FIRST_SEEN: [&str; 3] = ["anomaly_id", "detected_at", "GSI1SK"];

impl DynamoStore {
    pub(crate) fn fault_item<'a>(&self, mark: &'a FaultMark) -> Item<&'a FaultMark> {
        Item::new(
            keys::fault(
                &mark.operator_id,
                mark.at,
                mark.device_id,
                mark.connector_id,
            ),
            mark,
        )
        .expires(expiry(mark.at, self.retention.intelligence))
    }
}

#[async_trait]
impl ObservationStore for DynamoStore {
    async fn put_outage(&self, outage: &Outage) -> StoreResult<()> {
        let item = Item::new(
            keys::outage(&outage.operator_id, outage.to, outage.device_id),
            outage,
        )
        .expires(expiry(outage.to, self.retention.intelligence));
        self.put(&item).await
    }

    async fn outages(
        &self,
        operator: &OperatorId,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<Outage>> {
        self.query_all(
            None,
            "PK = :pk AND SK >= :since",
            vec![
                (":pk", s(keys::operator_outages(operator))),
                (":since", s(keys::time(since))),
            ],
            false,
        )
        .await
    }

    async fn faults(
        &self,
        operator: &OperatorId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<FaultMark>> {
        self.query_all(
            None,
            "PK = :pk AND SK BETWEEN :from AND :to",
            vec![
                (":pk", s(keys::operator_faults(operator))),
                (":from", s(keys::time(from))),
                (":to", s(format!("{}~", keys::time(to)))),
            ],
            false,
        )
        .await
    }

    async fn put_anomaly(&self, anomaly: &Anomaly) -> StoreResult<bool> {
        let item = Item::new(keys::anomaly(anomaly.anomaly_id), anomaly)
            .gsi1(
                keys::operator_anomalies(&anomaly.operator_id),
                format!("{}#{}", keys::time(anomaly.detected_at), anomaly.anomaly_id),
            )
            .expires(expiry(anomaly.window.to, self.retention.intelligence));
        // One upsert: what the finding is about stays as first found, its
        // figures and window end follow the newest detection.
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::anomaly(anomaly.anomaly_id))))
            .return_values(ReturnValue::AllOld);
        let mut sets = Vec::new();
        for (i, (name, value)) in to_attrs(&item)?.into_iter().enumerate() {
            if name == keys::PK || name == keys::SK || matches!(value, AttributeValue::Null(_)) {
                continue;
            }
            let (n, v) = (format!("#a{i}"), format!(":v{i}"));
            sets.push(if FIRST_SEEN.contains(&name.as_str()) {
                format!("{n} = if_not_exists({n}, {v})")
            } else {
                format!("{n} = {v}")
            });
            update = update
                .expression_attribute_names(n, name)
                .expression_attribute_values(v, value);
        }
        let out = update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(out
            .attributes
            .is_none_or(|old| !old.contains_key("anomaly_id")))
    }

    async fn anomalies(
        &self,
        operator: &OperatorId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<Anomaly>> {
        self.query_all(
            Some(keys::GSI1),
            "GSI1PK = :p AND GSI1SK BETWEEN :from AND :to",
            vec![
                (":p", s(keys::operator_anomalies(operator))),
                (":from", s(keys::time(since))),
                (":to", s(format!("{}~", keys::time(until)))),
            ],
            true,
        )
        .await
    }
}

/// A transaction put of a fault mark.
pub(crate) fn fault_put(
    store: &DynamoStore,
    mark: &FaultMark,
) -> StoreResult<aws_sdk_dynamodb::types::TransactWriteItem> {
    Ok(aws_sdk_dynamodb::types::TransactWriteItem::builder()
        .put(store.put_item(&store.fault_item(mark))?)
        .build())
}
