//! OCPP 2.0.1 payloads: what a charging station sends the platform (read
//! after its schema passed, so only the fields the platform uses are
//! named) and what the platform answers or asks.

use crate::meter::{DEFAULT_MEASURAND, Reading, Sampled, to_base};
use crate::v16::{Profile, time};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootNotification {
    pub charging_station: ChargingStation,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingStation {
    pub model: String,
    pub vendor_name: String,
    pub serial_number: Option<String>,
    pub firmware_version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusNotification {
    pub timestamp: DateTime<Utc>,
    pub connector_status: String,
    pub evse_id: u32,
    pub connector_id: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdToken {
    pub id_token: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorize {
    pub id_token: IdToken,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionEvent {
    pub event_type: String,
    pub timestamp: DateTime<Utc>,
    pub transaction_info: TransactionInfo,
    pub evse: Option<Evse>,
    pub id_token: Option<IdToken>,
    #[serde(default)]
    pub meter_value: Vec<MeterValue>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionInfo {
    pub transaction_id: String,
    pub charging_state: Option<String>,
    pub stopped_reason: Option<String>,
    pub remote_start_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evse {
    pub id: u32,
    pub connector_id: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValues {
    pub evse_id: u32,
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
    pub value: f64,
    pub measurand: Option<String>,
    pub phase: Option<String>,
    pub unit_of_measure: Option<UnitOfMeasure>,
}

#[derive(Debug, Deserialize)]
pub struct UnitOfMeasure {
    pub unit: Option<String>,
    pub multiplier: Option<i32>,
}

impl MeterValue {
    pub fn reading(&self) -> Reading {
        let samples: Vec<Sampled> = self
            .sampled_value
            .iter()
            .map(|s| {
                let unit = s.unit_of_measure.as_ref();
                let scale = 10f64.powi(unit.and_then(|u| u.multiplier).unwrap_or(0));
                Sampled {
                    measurand: s
                        .measurand
                        .clone()
                        .unwrap_or_else(|| DEFAULT_MEASURAND.into()),
                    phase: s.phase.clone(),
                    value: to_base(s.value * scale, unit.and_then(|u| u.unit.as_deref())),
                }
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

pub fn boot_accepted(now: DateTime<Utc>, interval_s: u32) -> Value {
    json!({"status": "Accepted", "currentTime": time(now), "interval": interval_s})
}

pub fn heartbeat(now: DateTime<Utc>) -> Value {
    json!({"currentTime": time(now)})
}

/// `idTokenInfo` with an authorization status (`Accepted`, `Blocked`,
/// `Expired`, `Invalid`, ...).
pub fn id_token_info(status: &str, expiry: Option<DateTime<Utc>>) -> Value {
    let mut info = json!({"status": status});
    if let Some(expiry) = expiry {
        info["cacheExpiryDateTime"] = json!(time(expiry));
    }
    info
}

pub fn authorize(status: &str, expiry: Option<DateTime<Utc>>) -> Value {
    json!({"idTokenInfo": id_token_info(status, expiry)})
}

/// The answer to a TransactionEvent: the token's standing where it named
/// one, and the transaction's final cost once it ended and was priced.
pub fn transaction_event(status: Option<&str>, total_cost: Option<f64>) -> Value {
    let mut answer = json!({});
    if let Some(status) = status {
        answer["idTokenInfo"] = id_token_info(status, None);
    }
    if let Some(cost) = total_cost {
        answer["totalCost"] = json!(cost);
    }
    answer
}

/// `CostUpdated`: a running transaction's cost so far, incl. VAT.
pub fn cost_updated(transaction_id: &str, total_cost: f64) -> Value {
    json!({"totalCost": total_cost, "transactionId": transaction_id})
}

pub fn empty() -> Value {
    json!({})
}

pub fn data_transfer_unknown_vendor() -> Value {
    json!({"status": "UnknownVendorId"})
}

fn schedule(p: &Profile) -> Value {
    let mut schedule = json!({
        "id": p.id,
        "chargingRateUnit": p.unit,
        "chargingSchedulePeriod": p.periods.iter()
            .map(|(start, limit)| json!({"startPeriod": start, "limit": (limit * 10.0).round() / 10.0}))
            .collect::<Vec<_>>(),
    });
    if let Some(d) = p.duration_s {
        schedule["duration"] = json!(d);
    }
    if let Some(s) = p.start {
        schedule["startSchedule"] = json!(time(s));
    }
    schedule
}

fn charging_profile(p: &Profile) -> Value {
    let purpose = match p.purpose {
        "TxDefaultProfile" => "TxDefaultProfile",
        "ChargePointMaxProfile" => "ChargingStationMaxProfile",
        _ => "TxProfile",
    };
    let mut profile = json!({
        "id": p.id,
        "stackLevel": 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": p.kind,
        "chargingSchedule": [schedule(p)],
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
    if let Some(tx) = &p.transaction_id {
        profile["transactionId"] = json!(tx);
    }
    profile
}

pub fn request_start(
    evse_id: u32,
    remote_start_id: i64,
    id_token: &str,
    limit: Option<&Profile>,
) -> Value {
    let mut call = json!({
        "evseId": evse_id,
        "remoteStartId": remote_start_id,
        "idToken": {"idToken": id_token, "type": "Central"},
    });
    if let Some(p) = limit {
        call["chargingProfile"] = charging_profile(p);
    }
    call
}

pub fn request_stop(transaction_id: &str) -> Value {
    json!({"transactionId": transaction_id})
}

pub fn set_charging_profile(evse_id: u32, p: &Profile) -> Value {
    json!({"evseId": evse_id, "chargingProfile": charging_profile(p)})
}

/// (component, variable, value) triples.
pub fn set_variables(settings: &[(&str, &str, String)]) -> Value {
    json!({"setVariableData": settings.iter().map(|(component, variable, value)| json!({
        "attributeValue": value,
        "component": {"name": component},
        "variable": {"name": variable},
    })).collect::<Vec<_>>()})
}

pub fn update_firmware(request_id: i64, location: &str, retrieve: DateTime<Utc>) -> Value {
    json!({
        "requestId": request_id,
        "retries": 3,
        "firmware": {"location": location, "retrieveDateTime": time(retrieve)},
    })
}

pub fn reset_on_idle() -> Value {
    json!({"type": "OnIdle"})
}
