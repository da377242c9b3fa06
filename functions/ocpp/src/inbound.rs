//! What each message from a charger does, per version, and its answer.
//! Payloads arrive checked against their schemas.

use domain::Domain;
use domain::chargepoints::{BootInfo, Charger, MeterReading, StatusReport, TxEnd, TxStart};
use kernel::error::Error;
use kernel::ids::ConnectorId;
use kernel::model::{ConnectorState, FirmwareStatus};
use ocpp::meter::Reading;
use ocpp::{Version, v16, v201};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

fn read<T: DeserializeOwned>(payload: Map<String, Value>) -> Result<T, Error> {
    serde_json::from_value(Value::Object(payload))
        .map_err(|e| Error::invalid("payload", e.to_string()))
}

fn meter(reading: &Reading) -> MeterReading {
    MeterReading {
        at: reading.timestamp,
        power_kw: reading.power_import_kw,
        export_kw: reading.power_export_kw,
        register_wh: reading.import_register_wh,
        current_a: reading.current_a,
        voltage_v: reading.voltage_v,
        soc: reading.soc,
    }
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

fn v16_state(status: &str) -> Option<ConnectorState> {
    Some(match status {
        "Available" => ConnectorState::Idle,
        "Preparing" => ConnectorState::Preparing,
        "Charging" => ConnectorState::Charging,
        "SuspendedEV" | "SuspendedEVSE" => ConnectorState::Suspended,
        "Finishing" => ConnectorState::Finishing,
        "Faulted" => ConnectorState::Fault,
        _ => ConnectorState::Unavailable,
    })
}

fn charging_state(state: &str) -> Option<ConnectorState> {
    match state {
        "Charging" => Some(ConnectorState::Charging),
        "SuspendedEV" | "SuspendedEVSE" => Some(ConnectorState::Suspended),
        "EVConnected" => Some(ConnectorState::Preparing),
        "Idle" => Some(ConnectorState::Idle),
        _ => None,
    }
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

pub async fn handle(
    domain: &Domain,
    charger: &Charger,
    version: Version,
    action: &str,
    payload: Map<String, Value>,
) -> Result<Value, Error> {
    let now = domain.clock.now();
    match (version, action) {
        (Version::V16, "BootNotification") => {
            let b: v16::BootNotification = read(payload)?;
            let interval = domain
                .charge_points
                .charger_boot(
                    charger,
                    BootInfo {
                        vendor: b.charge_point_vendor,
                        model: b.charge_point_model,
                        serial_number: b.charge_point_serial_number.or(b.charge_box_serial_number),
                        firmware_version: b.firmware_version,
                    },
                )
                .await?;
            Ok(v16::boot_accepted(domain.clock.now(), interval))
        }
        (Version::V201, "BootNotification") => {
            let b: v201::BootNotification = read(payload)?;
            let station = b.charging_station;
            let interval = domain
                .charge_points
                .charger_boot(
                    charger,
                    BootInfo {
                        vendor: station.vendor_name,
                        model: station.model,
                        serial_number: station.serial_number,
                        firmware_version: station.firmware_version,
                    },
                )
                .await?;
            Ok(v201::boot_accepted(domain.clock.now(), interval))
        }
        (_, "Heartbeat") => {
            domain.charge_points.charger_heartbeat(charger).await?;
            Ok(match version {
                Version::V16 => v16::heartbeat(domain.clock.now()),
                Version::V201 => v201::heartbeat(domain.clock.now()),
            })
        }
        (Version::V16, "StatusNotification") => {
            let s: v16::StatusNotification = read(payload)?;
            let error = (s.error_code != "NoError").then_some(s.error_code.as_str());
            match connector(s.connector_id) {
                Some(c) => {
                    let report = StatusReport {
                        state: v16_state(&s.status),
                        error_code: error,
                        only_if_changed: false,
                    };
                    domain
                        .charge_points
                        .charger_status(charger, c, report, s.timestamp.unwrap_or(now))
                        .await?
                }
                None => domain.charge_points.charger_heartbeat(charger).await?,
            }
            Ok(v16::empty())
        }
        (Version::V201, "StatusNotification") => {
            let s: v201::StatusNotification = read(payload)?;
            let state = match s.connector_status.as_str() {
                "Available" => Some(ConnectorState::Idle),
                "Occupied" => None,
                "Faulted" => Some(ConnectorState::Fault),
                _ => Some(ConnectorState::Unavailable),
            };
            match connector(s.evse_id) {
                Some(c) => {
                    let report = StatusReport {
                        state,
                        ..StatusReport::default()
                    };
                    domain
                        .charge_points
                        .charger_status(charger, c, report, s.timestamp)
                        .await?
                }
                None => domain.charge_points.charger_heartbeat(charger).await?,
            }
            Ok(v201::empty())
        }
        (Version::V16, "Authorize") => {
            let a: v16::Authorize = read(payload)?;
            let status = domain
                .charge_points
                .charger_authorize(charger, &a.id_tag)
                .await?;
            Ok(v16::authorize(status.as_str(), None))
        }
        (Version::V201, "Authorize") => {
            let a: v201::Authorize = read(payload)?;
            let status = domain
                .charge_points
                .charger_authorize(charger, &a.id_token.id_token)
                .await?;
            Ok(v201::authorize(status.as_str(), None))
        }
        (Version::V16, "StartTransaction") => {
            let s: v16::StartTransaction = read(payload)?;
            let connector = connector(s.connector_id)
                .ok_or_else(|| Error::invalid("connectorId", "must be 1 or more"))?;
            let started = domain
                .charge_points
                .transaction_started(
                    charger,
                    TxStart {
                        transaction_id: None,
                        connector_id: connector,
                        meter_start_wh: Some(s.meter_start as f64),
                        at: s.timestamp,
                        id_tag: Some(s.id_tag),
                        remote_start_id: None,
                    },
                )
                .await?;
            let id = started.transaction_id.parse().unwrap_or_default();
            Ok(v16::start_transaction(id, started.status.as_str()))
        }
        (Version::V16, "MeterValues") => {
            let m: v16::MeterValues = read(payload)?;
            let tx = m.transaction_id.map(|t| t.to_string());
            match connector(m.connector_id) {
                Some(c) => {
                    for value in &m.meter_value {
                        domain
                            .charge_points
                            .charger_meter(charger, c, tx.as_deref(), meter(&value.reading()))
                            .await?;
                    }
                }
                None => domain.charge_points.charger_heartbeat(charger).await?,
            }
            Ok(v16::empty())
        }
        (Version::V201, "MeterValues") => {
            let m: v201::MeterValues = read(payload)?;
            match connector(m.evse_id) {
                Some(c) => {
                    for value in &m.meter_value {
                        domain
                            .charge_points
                            .charger_meter(charger, c, None, meter(&value.reading()))
                            .await?;
                    }
                }
                None => domain.charge_points.charger_heartbeat(charger).await?,
            }
            Ok(v201::empty())
        }
        (Version::V16, "StopTransaction") => {
            let s: v16::StopTransaction = read(payload)?;
            let tx = s.transaction_id.to_string();
            if let Some(c) = domain
                .charge_points
                .transaction_connector(charger, &tx)
                .await?
            {
                for value in &s.transaction_data {
                    domain
                        .charge_points
                        .charger_meter(charger, c, Some(&tx), meter(&value.reading()))
                        .await?;
                }
            }
            domain
                .charge_points
                .transaction_ended(
                    charger,
                    TxEnd {
                        transaction_id: tx.clone(),
                        meter_stop_wh: Some(s.meter_stop as f64),
                        at: s.timestamp,
                        reason: Some(snake(s.reason.as_deref().unwrap_or("Local"))),
                    },
                )
                .await?;
            let status = match &s.id_tag {
                Some(tag) => Some(
                    domain
                        .charge_points
                        .transaction_tag(charger, &tx, tag)
                        .await?,
                ),
                None => None,
            };
            Ok(v16::stop_transaction(status.map(|s| s.as_str())))
        }
        (Version::V201, "TransactionEvent") => {
            let e: v201::TransactionEvent = read(payload)?;
            transaction_event(domain, charger, e).await
        }
        (_, "FirmwareStatusNotification") => {
            let status = payload
                .get("status")
                .and_then(Value::as_str)
                .and_then(firmware);
            domain
                .charge_points
                .charger_firmware(charger, status)
                .await?;
            Ok(v16::empty())
        }
        (_, "DataTransfer") => {
            domain.charge_points.charger_heartbeat(charger).await?;
            Ok(v16::data_transfer_unknown_vendor())
        }
        _ => Err(Error::NotImplemented(action.to_owned())),
    }
}

async fn transaction_event(
    domain: &Domain,
    charger: &Charger,
    e: v201::TransactionEvent,
) -> Result<Value, Error> {
    let info = &e.transaction_info;
    let tx = info.transaction_id.clone();
    let readings: Vec<Reading> = e
        .meter_value
        .iter()
        .map(v201::MeterValue::reading)
        .collect();
    let named = e.evse.as_ref().and_then(|evse| connector(evse.id));
    let id_tag = e.id_token.as_ref().map(|t| t.id_token.clone());
    let mut status = None;
    let connector = match e.event_type.as_str() {
        "Started" => {
            let c = match named {
                Some(c) => c,
                None => domain
                    .charge_points
                    .transaction_connector(charger, &tx)
                    .await?
                    .ok_or_else(|| {
                        Error::invalid("evse", "a transaction's start names its EVSE")
                    })?,
            };
            let started = domain
                .charge_points
                .transaction_started(
                    charger,
                    TxStart {
                        transaction_id: Some(tx.clone()),
                        connector_id: c,
                        meter_start_wh: readings.iter().find_map(|r| r.import_register_wh),
                        at: e.timestamp,
                        id_tag: id_tag.clone(),
                        remote_start_id: info.remote_start_id,
                    },
                )
                .await?;
            status = Some(started.status);
            Some(c)
        }
        _ => {
            if id_tag.is_some() || info.remote_start_id.is_some() {
                domain
                    .charge_points
                    .transaction_joined(charger, &tx, id_tag.as_deref(), info.remote_start_id)
                    .await?;
            }
            match named {
                Some(c) => Some(c),
                None => {
                    domain
                        .charge_points
                        .transaction_connector(charger, &tx)
                        .await?
                }
            }
        }
    };
    if let Some(c) = connector {
        for r in &readings {
            domain
                .charge_points
                .charger_meter(charger, c, Some(&tx), meter(r))
                .await?;
        }
        // Many stations repeat `chargingState` in every event: it moves the
        // connector when it differs from its state (no write otherwise).
        if let Some(state) = info.charging_state.as_deref().and_then(charging_state) {
            let report = StatusReport {
                state: Some(state),
                error_code: None,
                only_if_changed: true,
            };
            domain
                .charge_points
                .charger_status(charger, c, report, e.timestamp)
                .await?;
        }
    }
    if e.event_type == "Ended" {
        domain
            .charge_points
            .transaction_ended(
                charger,
                TxEnd {
                    transaction_id: tx,
                    meter_stop_wh: readings.iter().rev().find_map(|r| r.import_register_wh),
                    at: e.timestamp,
                    reason: info.stopped_reason.as_deref().map(snake),
                },
            )
            .await?;
    } else if connector.is_none() {
        domain.charge_points.charger_heartbeat(charger).await?;
    }
    if status.is_none()
        && let Some(tag) = &id_tag
    {
        status = Some(
            domain
                .charge_points
                .transaction_tag(charger, &info.transaction_id, tag)
                .await?,
        );
    }
    Ok(v201::transaction_event(status.map(|s| s.as_str())))
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
