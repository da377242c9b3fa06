//! Charge detail records uploaded by chargers after a session.

use crate::Domain;
use crate::credentials::TokenClaims;
use crate::error::Error;
use crate::ids::RecordId;
use crate::model::ChargingRecord;
use crate::store::RecordOutcome;
use crate::validate::{Problems, currency_ok};

#[derive(Debug, Clone)]
pub struct RecordUpload {
    pub record_id: String,
    pub connector_id: i64,
    pub start_time: String,
    pub end_time: String,
    pub energy: f64,
    pub max_power: Option<f64>,
    pub cost: Option<f64>,
    pub currency: Option<String>,
    pub stop_reason: Option<String>,
}

impl Domain {
    /// Stores a CDR once: the same record again is a success that adds
    /// nothing; the same id with other content is a conflict.
    pub async fn upload_record(&self, claims: TokenClaims, u: RecordUpload) -> Result<(), Error> {
        let now = self.clock.now();
        let mut p = Problems::default();
        let record_id = RecordId::parse(&u.record_id);
        p.check(record_id.is_some(), "record_id", "must be a UUID");
        p.check(
            (1..=32).contains(&u.connector_id),
            "connector_id",
            "must be 1..32",
        );
        let start = p.timestamp(&u.start_time, "start_time", now);
        let end = p.timestamp(&u.end_time, "end_time", now);
        if let (Some(start), Some(end)) = (start, end) {
            p.check(end >= start, "end_time", "must not be before start_time");
        }
        p.non_negative(u.energy, "energy");
        if let Some(v) = u.max_power {
            p.non_negative(v, "max_power");
        }
        if let Some(v) = u.cost {
            p.non_negative(v, "cost");
        }
        if let Some(c) = &u.currency {
            p.check(
                currency_ok(c),
                "currency",
                "must be an ISO 4217 code such as GBP",
            );
        }
        p.check(
            u.cost.is_none() || u.currency.is_some(),
            "currency",
            "is required with cost",
        );
        if let Some(r) = &u.stop_reason {
            p.check(
                r.len() <= 64,
                "stop_reason",
                "must be at most 64 characters",
            );
        }
        p.finish()?;
        let (Some(record_id), Some(start_time), Some(end_time)) = (record_id, start, end) else {
            return Err(Error::Internal("validated CDR fields missing".into()));
        };
        let device = self.device_seen(claims).await?;
        let record = ChargingRecord {
            record_id,
            device_id: device.device_id,
            operator_id: device.operator_id,
            site_id: device.site_id,
            connector_id: u.connector_id as u32,
            start_time,
            end_time,
            energy: u.energy,
            max_power: u.max_power,
            cost: u.cost,
            currency: u.currency,
            stop_reason: u.stop_reason,
            received_at: now,
        };
        let activity = self
            .event(
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
        match self.store.put_record(&record, &activity).await? {
            RecordOutcome::Created => Ok(()),
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
