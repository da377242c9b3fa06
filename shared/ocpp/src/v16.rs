//! OCPP 1.6J payloads: what a charge point sends the platform (read after
//! its schema passed, so only the fields the platform uses are named) and
//! what the platform answers or asks.

use crate::meter::{DEFAULT_MEASURAND, Reading, Sampled, to_base};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootNotification {
    pub charge_point_vendor: String,
    pub charge_point_model: String,
    pub charge_point_serial_number: Option<String>,
    pub charge_box_serial_number: Option<String>,
    pub firmware_version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusNotification {
    pub connector_id: u32,
    pub error_code: String,
    pub status: String,
    pub timestamp: Option<DateTime<Utc>>,
    pub vendor_error_code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorize {
    pub id_tag: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartTransaction {
    pub connector_id: u32,
    pub id_tag: String,
    pub meter_start: i64,
    pub timestamp: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopTransaction {
    pub meter_stop: i64,
    pub timestamp: DateTime<Utc>,
    pub transaction_id: i64,
    pub reason: Option<String>,
    pub id_tag: Option<String>,
    #[serde(default)]
    pub transaction_data: Vec<MeterValue>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValues {
    pub connector_id: u32,
    pub transaction_id: Option<i64>,
    pub meter_value: Vec<MeterValue>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValue {
    pub timestamp: DateTime<Utc>,
    pub sampled_value: Vec<SampledValue>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SampledValue {
    pub value: String,
    pub measurand: Option<String>,
    pub phase: Option<String>,
    pub unit: Option<String>,
    pub format: Option<String>,
}

impl MeterValue {
    /// The reading; sampled values that are not numbers (1.6 allows
    /// `SignedData`) are left out.
    pub fn reading(&self) -> Reading {
        let samples: Vec<Sampled> = self
            .sampled_value
            .iter()
            .filter(|s| s.format.as_deref() != Some("SignedData"))
            .filter_map(|s| {
                Some(Sampled {
                    measurand: s
                        .measurand
                        .clone()
                        .unwrap_or_else(|| DEFAULT_MEASURAND.into()),
                    phase: s.phase.clone(),
                    value: to_base(s.value.trim().parse().ok()?, s.unit.as_deref()),
                })
            })
            .collect();
        Reading::from_samples(self.timestamp, &samples)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirmwareStatusNotification {
    pub status: String,
}

/// OCPP's date-time: UTC with milliseconds.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn boot_accepted(now: DateTime<Utc>, interval_s: u32) -> Value {
    json!({"status": "Accepted", "currentTime": time(now), "interval": interval_s})
}

pub fn heartbeat(now: DateTime<Utc>) -> Value {
    json!({"currentTime": time(now)})
}

/// `idTagInfo` with an authorization status (`Accepted`, `Blocked`,
/// `Expired`, `Invalid`, `ConcurrentTx`).
pub fn id_tag_info(status: &str, expiry: Option<DateTime<Utc>>) -> Value {
    let mut info = json!({"status": status});
    if let Some(expiry) = expiry {
        info["expiryDate"] = json!(time(expiry));
    }
    info
}

pub fn authorize(status: &str, expiry: Option<DateTime<Utc>>) -> Value {
    json!({"idTagInfo": id_tag_info(status, expiry)})
}

pub fn start_transaction(transaction_id: i64, status: &str) -> Value {
    json!({"idTagInfo": id_tag_info(status, None), "transactionId": transaction_id})
}

pub fn stop_transaction(status: Option<&str>) -> Value {
    match status {
        Some(status) => json!({"idTagInfo": id_tag_info(status, None)}),
        None => json!({}),
    }
}

pub fn empty() -> Value {
    json!({})
}

pub fn data_transfer_unknown_vendor() -> Value {
    json!({"status": "UnknownVendorId"})
}

/// A charging profile of one period: at most `limit_w` watts.
fn tx_limit(profile_id: i64, limit_w: f64) -> Value {
    json!({
        "chargingProfileId": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": round1(limit_w)}]
        }
    })
}

/// OCPP's decimals carry at most one fractional digit.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn remote_start(connector_id: u32, id_tag: &str, limit: Option<(i64, f64)>) -> Value {
    let mut call = json!({"connectorId": connector_id, "idTag": id_tag});
    if let Some((profile_id, limit_w)) = limit {
        call["chargingProfile"] = tx_limit(profile_id, limit_w);
    }
    call
}

pub fn remote_stop(transaction_id: i64) -> Value {
    json!({"transactionId": transaction_id})
}

/// A connector's charging profile (`TxDefaultProfile` for a schedule or a
/// limit that outlives sessions, `TxProfile` for a running session).
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: i64,
    pub purpose: &'static str,
    pub kind: &'static str,
    pub recurrency: Option<&'static str>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
    pub start: Option<DateTime<Utc>>,
    pub duration_s: Option<i64>,
    /// `W` or `A`.
    pub unit: &'static str,
    /// (seconds from the start, limit in `unit`).
    pub periods: Vec<(i64, f64)>,
    /// A `TxProfile`'s transaction.
    pub transaction_id: Option<String>,
}

pub fn set_charging_profile(connector_id: u32, p: &Profile) -> Value {
    let mut schedule = json!({
        "chargingRateUnit": p.unit,
        "chargingSchedulePeriod": p.periods.iter()
            .map(|(start, limit)| json!({"startPeriod": start, "limit": round1(*limit)}))
            .collect::<Vec<_>>(),
    });
    if let Some(d) = p.duration_s {
        schedule["duration"] = json!(d);
    }
    if let Some(s) = p.start {
        schedule["startSchedule"] = json!(time(s));
    }
    let mut profile = json!({
        "chargingProfileId": p.id,
        "stackLevel": 0,
        "chargingProfilePurpose": p.purpose,
        "chargingProfileKind": p.kind,
        "chargingSchedule": schedule,
    });
    if let Some(r) = p.recurrency {
        profile["recurrencyKind"] = json!(r);
    }
    if let Some(t) = p.valid_from {
        profile["validFrom"] = json!(time(t));
    }
    if let Some(t) = p.valid_to {
        profile["validTo"] = json!(time(t));
    }
    // 1.6 transaction ids are integers.
    if let Some(tx) = p
        .transaction_id
        .as_deref()
        .and_then(|t| t.parse::<i64>().ok())
    {
        profile["transactionId"] = json!(tx);
    }
    json!({"connectorId": connector_id, "csChargingProfiles": profile})
}

pub fn change_configuration(key: &str, value: &str) -> Value {
    json!({"key": key, "value": value})
}

pub fn update_firmware(location: &str, retrieve: DateTime<Utc>) -> Value {
    json!({"location": location, "retrieveDate": time(retrieve), "retries": 3})
}

pub fn reset_soft() -> Value {
    json!({"type": "Soft"})
}
