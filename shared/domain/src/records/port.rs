//! Storage of charge detail records.

use crate::outbox::Delivery;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::ids::{DeviceId, OperatorId, RecordId, SiteId};
use kernel::model::{Activity, ChargingRecord};
use kernel::storage::StoreResult;

#[derive(Debug, Clone, PartialEq)]
pub enum RecordOutcome {
    Created,
    Exists(Box<ChargingRecord>),
}

/// Whose revenue: an operator's, a site's or a device's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RevenueScope {
    Operator,
    Site(SiteId),
    Device(DeviceId),
}

/// One UTC day's priced sessions of a scope in one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct RevenueDay {
    /// Midnight UTC.
    pub day: DateTime<Utc>,
    pub currency: String,
    pub sessions: u64,
    /// Wh.
    pub energy_wh: i64,
    pub excl_vat_cents: i64,
    pub incl_vat_cents: i64,
}

#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Idempotent on `record_id`; a partner push it owes, and a priced
    /// record's revenue (its operator's, site's and device's day of its
    /// end), are written in the same transaction.
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
    /// An operator's revenue days of one scope in `[from, to]` (midnights
    /// UTC), in order: one query.
    async fn revenue_days(
        &self,
        operator: &OperatorId,
        scope: RevenueScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<RevenueDay>>;
}
