//! What each message from a charger does, per version, and its answer.
//! Payloads arrive checked against their schemas.

use domain::Domain;
mod v16;
mod v201;

use domain::chargepoints::{Charger, MeterReading};
use kernel::error::Error;
use kernel::ids::ConnectorId;
use kernel::input::bounds::{MAX_CURRENT_A, MAX_POWER_KW, MAX_VOLTAGE_V};
use kernel::model::FirmwareStatus;
use ocpp::Version;
use ocpp::meter::Reading;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

fn read<T: DeserializeOwned>(payload: Map<String, Value>) -> Result<T, Error> {
    serde_json::from_value(Value::Object(payload))
        .map_err(|e| Error::invalid("payload", e.to_string()))
}

/// The largest energy register taken, Wh.
const MAX_REGISTER_WH: f64 = 1e12;

/// A register the platform keeps: a whole number of Wh within 0..10¹².
fn register(wh: f64, field: &str) -> Result<f64, Error> {
    if wh.is_finite() && (0.0..=MAX_REGISTER_WH).contains(&wh) {
        Ok(wh)
    } else {
        Err(Error::invalid(
            field,
            "must be a register from 0 to 10^12 Wh",
        ))
    }
}

/// A meter value the platform can keep, or the reason it is refused
/// (a CALLERROR `PropertyConstraintViolation`, never a retryable
/// `InternalError`): every number finite, registers within bounds.
fn meter(reading: &Reading) -> Result<MeterReading, Error> {
    for wh in [reading.import_register_wh, reading.export_register_wh]
        .into_iter()
        .flatten()
    {
        register(wh, "meterValue")?;
    }
    // The HTTP routes' bounds: power, current and voltage as a status
    // sample takes them.
    let within = |v: Option<f64>, hi: f64| v.is_none_or(|v| (0.0..=hi).contains(&v));
    if !(within(reading.power_import_kw, MAX_POWER_KW)
        && within(reading.power_export_kw, MAX_POWER_KW)
        && within(reading.current_a, MAX_CURRENT_A)
        && within(reading.voltage_v, MAX_VOLTAGE_V)
        && within(reading.soc, 100.0))
    {
        return Err(Error::invalid(
            "meterValue",
            "a sampled value is not a number the platform takes",
        ));
    }
    Ok(MeterReading {
        at: reading.timestamp,
        power_kw: reading.power_import_kw,
        export_kw: reading.power_export_kw,
        register_wh: reading.import_register_wh,
        current_a: reading.current_a,
        voltage_v: reading.voltage_v,
        soc: reading.soc,
    })
}

/// Every reading of a message, checked before any is kept.
fn meters<'a>(readings: impl IntoIterator<Item = &'a Reading>) -> Result<Vec<MeterReading>, Error> {
    readings.into_iter().map(meter).collect()
}

/// OCPP's reasons (`EVDisconnected`, `Remote`) as the platform's
/// `stop_reason` (`ev_disconnected`, `remote`).
pub fn snake(reason: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = reason.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let boundary = i > 0
            && c.is_uppercase()
            && (chars[i - 1].is_lowercase() || chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
        if boundary {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn firmware(status: &str) -> Option<FirmwareStatus> {
    Some(match status {
        "Downloading" => FirmwareStatus::Downloading,
        "Downloaded" | "SignatureVerified" => FirmwareStatus::Downloaded,
        "Installing" | "InstallRebooting" | "InstallScheduled" => FirmwareStatus::Installing,
        "Installed" => FirmwareStatus::Installed,
        "DownloadFailed" => FirmwareStatus::DownloadFailed,
        "InstallationFailed" | "InstallVerificationFailed" | "InvalidSignature" => {
            FirmwareStatus::InstallationFailed
        }
        _ => return None,
    })
}

/// Connector 0 is the charge point itself (OCPP), which the fleet has no
/// connector for: its messages are answered and kept as a sign of life.
fn connector(n: u32) -> Option<ConnectorId> {
    ConnectorId::new(n)
}

/// Answers one CALL of `version`; each version's actions are in a
/// module of their own.
pub async fn handle(
    domain: &Domain,
    charger: &Charger,
    version: Version,
    action: &str,
    payload: Map<String, Value>,
) -> Result<Value, Error> {
    match version {
        Version::V16 => v16::handle(domain, charger, action, payload).await,
        Version::V201 => v201::handle(domain, charger, action, payload).await,
    }
}

/// A heartbeat, or a message about connector 0 (the charge point itself):
/// a sign of life.
async fn alive(domain: &Domain, charger: &Charger) -> Result<(), Error> {
    domain.charge_points.charger_heartbeat(charger).await
}

/// `FirmwareStatusNotification`, alike in both versions.
async fn firmware_status(
    domain: &Domain,
    charger: &Charger,
    payload: &Map<String, Value>,
) -> Result<(), Error> {
    let status = payload
        .get("status")
        .and_then(Value::as_str)
        .and_then(firmware);
    domain.charge_points.charger_firmware(charger, status).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_snake_case() {
        assert_eq!(snake("EVDisconnected"), "ev_disconnected");
        assert_eq!(snake("Remote"), "remote");
        assert_eq!(snake("SoftReset"), "soft_reset");
        assert_eq!(snake("DeAuthorized"), "de_authorized");
    }
}
