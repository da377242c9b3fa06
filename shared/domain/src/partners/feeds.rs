//! Which operators have partners to tell about connector status changes.
//! Telemetry asks on every state change, so the answer is cached per
//! container for a minute: an operator without partners pays nothing per
//! heartbeat or sample, and a new partner hears of changes within a minute.

use super::outbox::{Delivery, route};
use super::stations::wire_status;
use crate::Domain;
use chrono::{DateTime, Duration, Utc};
use kernel::error::Error;
use kernel::ids::{ConnectorId, OperatorId, PartnerId};
use kernel::model::{ConnectorState, Device};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;

/// How long a container trusts its list of partners to notify.
const FRESH_FOR_SECONDS: i64 = 60;

type Feeds = HashMap<OperatorId, Vec<PartnerId>>;

/// Partners with a `notify_url`, by their tenant, as last read.
#[derive(Debug, Default)]
pub struct FeedCache(Mutex<Option<(DateTime<Utc>, Feeds)>>);

impl FeedCache {
    fn fresh(&self, now: DateTime<Utc>, operator: &OperatorId) -> Option<Vec<PartnerId>> {
        let guard = self.0.lock().ok()?;
        let (read_at, feeds) = guard.as_ref()?;
        (now - *read_at < Duration::seconds(FRESH_FOR_SECONDS))
            .then(|| feeds.get(operator).cloned().unwrap_or_default())
    }

    fn store(&self, now: DateTime<Utc>, feeds: Feeds) {
        if let Ok(mut guard) = self.0.lock() {
            *guard = Some((now, feeds));
        }
    }
}

impl Domain {
    /// Reads the partners to notify now (also what a warm container has).
    pub async fn refresh_partner_feeds(&self) -> Result<(), Error> {
        let mut feeds = Feeds::new();
        for p in self.store.all_partners().await? {
            if p.notify_url.is_some() {
                feeds.entry(p.operator_id).or_default().push(p.partner_id);
            }
        }
        self.partner_feeds.store(self.clock.now(), feeds);
        Ok(())
    }

    async fn partners_to_notify(&self, operator: &OperatorId) -> Result<Vec<PartnerId>, Error> {
        let now = self.clock.now();
        if let Some(partners) = self.partner_feeds.fresh(now, operator) {
            return Ok(partners);
        }
        self.refresh_partner_feeds().await?;
        Ok(self.partner_feeds.fresh(now, operator).unwrap_or_default())
    }

    /// The `notification_stationStatus` pushes a connector's move from
    /// `previous` to `state` owes the partners of the device's operator.
    pub(crate) async fn status_pushes(
        &self,
        device: &Device,
        connector: ConnectorId,
        previous: Option<ConnectorState>,
        state: ConnectorState,
    ) -> Result<Vec<Delivery>, Error> {
        if previous == Some(state) {
            return Ok(Vec::new());
        }
        let partners = self.partners_to_notify(&device.operator_id).await?;
        let now = self.clock.now();
        let payload = json!({"ConnectorStatusInfo": {
            "ConnectorID": format!("{}-{}", device.device_id, connector.get()),
            "Status": wire_status(true, state),
            "ParkStatus": 0,
            "LockStatus": 0,
        }});
        Ok(partners
            .into_iter()
            .map(|p| Delivery::new(p, route::STATION_STATUS, payload.clone(), now))
            .collect())
    }
}
