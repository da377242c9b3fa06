//! Storage of charge detail records.

use crate::outbox::Delivery;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::ids::{OperatorId, RecordId};
use kernel::model::{Activity, ChargingRecord};
use kernel::storage::StoreResult;

#[derive(Debug, Clone, PartialEq)]
pub enum RecordOutcome {
    Created,
    Exists(Box<ChargingRecord>),
}

#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Idempotent on `record_id`; a partner push it owes is written in the
    /// same transaction.
    async fn put_record(
        &self,
        record: &ChargingRecord,
        activity: &Activity,
        push: Option<&Delivery>,
    ) -> StoreResult<RecordOutcome>;
    /// An operator's records whose start lies in `[from, to]`, newest first.
    async fn operator_records(
        &self,
        operator: &OperatorId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ChargingRecord>>;
    async fn get_record(&self, id: RecordId) -> StoreResult<Option<ChargingRecord>>;
}
