//! What the fleet's changes owe partners ([`Owed`], asked by telemetry,
//! commands and records), and which operators have partners to tell about
//! connector status changes. Telemetry asks on every state change, so that
//! answer is cached per container for a minute: an operator without
//! partners pays nothing per heartbeat or sample, and a new partner hears
//! of changes within a minute.

use super::PartnerStore;
use super::outbox::{Delivery, charge_order_info, record_matches, route, start_charge_result};
use super::stations::wire_status;
use crate::outbox::Owed;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use kernel::command::Command;
use kernel::error::Error;
use kernel::ids::{ConnectorId, OperatorId, PartnerId};
use kernel::model::ChargingRecord;
use kernel::model::{ConnectorState, Device};
use kernel::{Clock, Settings};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
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

/// What changes owe partners, for the capabilities below them.
#[derive(Clone)]
pub struct PartnerNotices {
    store: Arc<dyn PartnerStore>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    /// Which operators have partners to notify, cached per container.
    cache: Arc<FeedCache>,
}

/// What `PartnerNotices` is built on.
pub(crate) struct PartnerNoticesParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl PartnerNotices {
    pub(crate) fn new(store: Arc<dyn PartnerStore>, parts: PartnerNoticesParts) -> Self {
        let PartnerNoticesParts { settings, clock } = parts;
        Self {
            store,
            settings,
            clock,
            cache: Arc::default(),
        }
    }

    /// Reads the partners to notify now (also what a warm container has).
    pub async fn refresh_partner_feeds(&self) -> Result<(), Error> {
        let mut feeds = Feeds::new();
        for p in self.store.all_partners().await? {
            if p.notify_url.is_some() {
                feeds.entry(p.operator_id).or_default().push(p.partner_id);
            }
        }
        self.cache.store(self.clock.now(), feeds);
        Ok(())
    }

    async fn partners_to_notify(&self, operator: &OperatorId) -> Result<Vec<PartnerId>, Error> {
        let now = self.clock.now();
        if let Some(partners) = self.cache.fresh(now, operator) {
            return Ok(partners);
        }
        self.refresh_partner_feeds().await?;
        Ok(self.cache.fresh(now, operator).unwrap_or_default())
    }
}

#[async_trait]
impl Owed for PartnerNotices {
    /// The `notification_stationStatus` pushes a connector's move from
    /// `previous` to `state` owes the partners of the device's operator.
    async fn status_moved(
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

    fn command_moved(&self, cmd: &Command, now: DateTime<Utc>) -> Option<Delivery> {
        start_charge_result(cmd, now)
    }

    async fn record_made(
        &self,
        record: &ChargingRecord,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>, Error> {
        let mark = self
            .store
            .get_session_mark(record.device_id, record.connector_id)
            .await?
            .filter(|m| record_matches(m, record, self.settings.command_expiry));
        Ok(mark.map(|m| charge_order_info(&m, record, now)))
    }

    async fn record_kept(&self, record: &ChargingRecord) -> Result<(), Error> {
        Ok(self
            .store
            .delete_session_mark(record.device_id, record.connector_id)
            .await?)
    }
}
