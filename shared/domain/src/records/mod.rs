//! Charge detail records uploaded by chargers after a session.

mod port;

pub use port::{RecordOutcome, RecordStore};

use crate::devices::Devices;
use crate::devices::credentials::TokenClaims;
use crate::feeds::Feeds;
use crate::outbox::Owed;
use chrono::{DateTime, Utc};
use kernel::Clock;
use kernel::clock::not_ahead;
use kernel::error::Error;
use kernel::ids::{ConnectorId, RecordId};
use kernel::model::ChargingRecord;
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
}

/// Charging records as chargers upload them.
#[derive(Clone)]
pub struct Records {
    store: Arc<dyn RecordStore>,
    clock: Arc<dyn Clock>,
    feeds: Feeds,
    devices: Devices,
    /// What a partner's session record owes it.
    owed: Arc<dyn Owed>,
}

/// What `Records` is built on.
pub(crate) struct RecordsParts {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) feeds: Feeds,
    pub(crate) devices: Devices,
    pub(crate) owed: Arc<dyn Owed>,
}

impl Records {
    pub(crate) fn new(store: Arc<dyn RecordStore>, parts: RecordsParts) -> Self {
        let RecordsParts {
            clock,
            feeds,
            devices,
            owed,
        } = parts;
        Self {
            store,
            clock,
            feeds,
            devices,
            owed,
        }
    }
}

impl Records {
    /// Stores a CDR once: the same record again is a success that adds
    /// nothing; the same id with other content is a conflict.
    pub async fn upload_record(&self, claims: TokenClaims, u: RecordUpload) -> Result<(), Error> {
        let now = self.clock.now();
        not_ahead("end_time", u.end_time, now)?;
        let record_id = u.record_id;
        let device = self.devices.device_seen(claims).await?;
        crate::telemetry::known_connector(&device, u.connector_id)?;
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
                Ok(())
            }
            // Another device's record: its existence is not this device's business.
            RecordOutcome::Exists(stored) if stored.device_id != record.device_id => Err(
                Error::NotFound(format!("record_id {record_id} belongs to another device")),
            ),
            RecordOutcome::Exists(stored) if stored.same_content(&record) => Ok(()),
            RecordOutcome::Exists(_) => Err(Error::Conflict(format!(
                "record_id {record_id} was already uploaded with different content"
            ))),
        }
    }
}
