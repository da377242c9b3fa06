//! Messages owed to partners, kept in an outbox: the capability whose
//! change owes a message writes it in the same transaction as the change,
//! and the partners' delivery loop sends it later with retries. The
//! capabilities below partners ask what they owe through [`Owed`], which
//! partners implement, so that nothing below calls up.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use kernel::command::Command;
use kernel::error::Error;
use kernel::ids::{ConnectorId, DeliveryId, PartnerId};
use kernel::model::{ChargingRecord, ConnectorState, Device};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Attempts a minute apart before the pace drops to every ten minutes.
const FAST_ATTEMPTS: u32 = 10;
/// How long a message is retried before it is marked failed.
const GIVE_UP_AFTER_HOURS: i64 = 24;
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Retried for a day without a Ret 0, or the partner has no notify_url.
    Failed,
}

/// One message to a partner and how its delivery went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub delivery_id: DeliveryId,
    pub partner_id: PartnerId,
    /// The partner route, appended to its `notify_url`.
    pub route: String,
    /// The Data sent, before encryption; times in UTC (RFC 3339), shown to
    /// the partner in its own offset.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: Value,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl Delivery {
    pub fn new(partner_id: PartnerId, route: &str, payload: Value, now: DateTime<Utc>) -> Self {
        Self {
            delivery_id: DeliveryId::time_ordered(),
            partner_id,
            route: route.to_owned(),
            payload,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            delivered_at: None,
        }
    }

    /// After a failed attempt: the next one, or failed for good.
    pub(crate) fn retry_later(&mut self, error: String, now: DateTime<Utc>) {
        self.attempts += 1;
        self.last_error = Some(error);
        let pause = if self.attempts < FAST_ATTEMPTS {
            Duration::minutes(1)
        } else {
            Duration::minutes(10)
        };
        if now + pause > self.created_at + Duration::hours(GIVE_UP_AFTER_HOURS) {
            self.status = DeliveryStatus::Failed;
        } else {
            self.next_attempt_at = now + pause;
        }
    }
}

/// What a change owes the partners it concerns.
#[async_trait]
pub(crate) trait Owed: Send + Sync {
    /// The pushes a connector's move from `previous` to `state` owes.
    async fn status_moved(
        &self,
        device: &Device,
        connector: ConnectorId,
        previous: Option<ConnectorState>,
        state: ConnectorState,
    ) -> Result<Vec<Delivery>, Error>;

    /// The push a command's move to its current status owes.
    fn command_moved(&self, cmd: &Command, now: DateTime<Utc>) -> Option<Delivery>;

    /// The push a new charging record owes: the partner whose session it
    /// is hears of it (one read).
    async fn record_made(
        &self,
        record: &ChargingRecord,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>, Error>;

    /// The record owed a push was kept: the session's mark can go.
    async fn record_kept(&self, record: &ChargingRecord) -> Result<(), Error>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn retries_are_a_minute_apart_then_ten_and_stop_after_a_day() {
        let t0: DateTime<Utc> = "2026-11-25T00:00:00Z".parse().unwrap();
        let mut d = Delivery::new(PartnerId::random(), "x", json!({}), t0);
        let mut now = t0;
        for attempt in 1..FAST_ATTEMPTS {
            d.retry_later("down".into(), now);
            assert_eq!(d.next_attempt_at - now, Duration::minutes(1), "{attempt}");
            now = d.next_attempt_at;
        }
        d.retry_later("down".into(), now);
        assert_eq!(d.next_attempt_at - now, Duration::minutes(10));
        d.retry_later("down".into(), t0 + Duration::hours(24));
        assert_eq!(d.status, DeliveryStatus::Failed);
    }
}
