//! Charge detail records uploaded by chargers after a session.

mod port;

pub use port::{RecordOutcome, RecordStore, RevenueDay, RevenueScope};

use crate::devices::Devices;
use crate::devices::credentials::TokenClaims;
use crate::feeds::Feeds;
use crate::outbox::Owed;
use crate::tariffs::{Tariffs, session_of};
use chrono::{DateTime, Utc};
use kernel::Clock;
use kernel::clock::not_ahead;
use kernel::error::Error;
use kernel::ids::{ConnectorId, RecordId};
use kernel::model::{ChargingRecord, Device, RecordPrice};
use std::sync::Arc;

/// A CDR as the charger sent it, parsed; `end_time >= start_time` holds.
#[derive(Debug, Clone)]
pub struct RecordUpload {
    pub record_id: RecordId,
    pub connector_id: ConnectorId,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub energy: f64,
    pub max_power: Option<f64>,
    pub cost: Option<f64>,
    pub currency: Option<String>,
    pub stop_reason: Option<String>,
    /// The driver token the session started with.
    pub id_tag: Option<String>,
    /// How the platform answered that token; none where no token was asked.
    pub authorization: Option<String>,
}

/// Charging records as chargers upload them.
#[derive(Clone)]
pub struct Records {
    store: Arc<dyn RecordStore>,
    clock: Arc<dyn Clock>,
    feeds: Feeds,
    devices: Devices,
    tariffs: Tariffs,
    /// What a partner's session record owes it.
    owed: Arc<dyn Owed>,
}

/// What `Records` is built on.
pub(crate) struct RecordsParts {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) feeds: Feeds,
    pub(crate) devices: Devices,
    pub(crate) tariffs: Tariffs,
    pub(crate) owed: Arc<dyn Owed>,
}

impl Records {
    pub(crate) fn new(store: Arc<dyn RecordStore>, parts: RecordsParts) -> Self {
        let RecordsParts {
            clock,
            feeds,
            devices,
            tariffs,
            owed,
        } = parts;
        Self {
            store,
            clock,
            feeds,
            devices,
            tariffs,
            owed,
        }
    }
}

impl Records {
    /// Stores a CDR once: the same record again is a success that adds
    /// nothing; the same id with other content is a conflict.
    /// Answers the record as kept (with its price).
    pub async fn upload_record(
        &self,
        claims: TokenClaims,
        u: RecordUpload,
    ) -> Result<ChargingRecord, Error> {
        let now = self.clock.now();
        not_ahead("end_time", u.end_time, now)?;
        let record_id = u.record_id;
        let device = self.devices.device_seen(claims).await?;
        crate::telemetry::known_connector(&device, u.connector_id)?;
        let (price, parking_time_s) = self.price(&device, &u).await?;
        let record = ChargingRecord {
            record_id,
            device_id: device.device_id,
            operator_id: device.operator_id,
            site_id: device.site_id,
            connector_id: u.connector_id,
            start_time: u.start_time,
            end_time: u.end_time,
            energy: u.energy,
            max_power: u.max_power,
            cost: u.cost,
            currency: u.currency,
            stop_reason: u.stop_reason,
            received_at: now,
            id_tag: u.id_tag,
            price,
            parking_time_s,
            authorization: u.authorization,
        };
        let activity = self
            .feeds
            .activity(
                "record.uploaded",
                &record.operator_id,
                format!(
                    "{:.2} kWh session on connector {}",
                    record.energy, record.connector_id
                ),
            )
            .with_device(record.device_id)
            .with_site(record.site_id)
            .with_record(record_id)
            .done();
        // One read per record: the session a partner started here, if any.
        let push = self.owed.record_made(&record, now).await?;
        match self
            .store
            .put_record(&record, &activity, push.as_ref())
            .await?
        {
            RecordOutcome::Created => {
                if push.is_some() {
                    self.owed.record_kept(&record).await?;
                }
                Ok(record)
            }
            // Another device's record: its existence is not this device's business.
            RecordOutcome::Exists(stored) if stored.device_id != record.device_id => Err(
                Error::NotFound(format!("record_id {record_id} belongs to another device")),
            ),
            RecordOutcome::Exists(stored) if stored.same_content(&record) => Ok(*stored),
            RecordOutcome::Exists(_) => Err(Error::Conflict(format!(
                "record_id {record_id} was already uploaded with different content"
            ))),
        }
    }
}

impl Records {
    /// The session's price by the tariff in force at its start (none where
    /// none was), and its parking time. Its readings and states come from
    /// the connector's trace, as the device was read anyway.
    async fn price(
        &self,
        device: &Device,
        u: &RecordUpload,
    ) -> Result<(Option<RecordPrice>, i64), Error> {
        let trace = device
            .connectors
            .get(&u.connector_id)
            .and_then(|c| c.session.as_ref());
        let session = session_of(trace, u.start_time, u.end_time, u.energy);
        let Some(pricer) = self.tariffs.pricer(device, u.start_time).await? else {
            return Ok((None, session.parking_seconds()));
        };
        let p = pricing::price(&pricer.content, pricer.tz, &session);
        let price = RecordPrice {
            tariff_id: pricer.tariff_id,
            currency: pricer.content.currency.clone(),
            vat_percent: pricer.content.vat_percent,
            excl_vat: p.excl_vat,
            incl_vat: p.incl_vat,
            energy: p.energy,
            time: p.time,
            parking_time: p.parking_time,
            flat: p.flat,
        };
        Ok((Some(price), p.parking_time_s))
    }
}
