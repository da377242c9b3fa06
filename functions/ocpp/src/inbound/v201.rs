//! OCPP 2.0.1 messages from a charging station, an action each.

use super::{alive, connector, firmware_status, meters, read, snake};
use domain::Domain;
use domain::chargepoints::{BootInfo, Charger, StatusReport, TxEnd, TxStart};
use kernel::error::Error;
use kernel::model::ConnectorState;
use ocpp::meter::Reading;
use ocpp::v201;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value};

pub(super) async fn handle(
    domain: &Domain,
    charger: &Charger,
    action: &str,
    payload: Map<String, Value>,
) -> Result<Value, Error> {
    match action {
        "BootNotification" => boot(domain, charger, read(payload)?).await,
        "Heartbeat" => {
            alive(domain, charger).await?;
            Ok(v201::heartbeat(domain.clock.now()))
        }
        "StatusNotification" => status(domain, charger, read(payload)?).await,
        "Authorize" => {
            let a: v201::Authorize = read(payload)?;
            let status = domain
                .charge_points
                .charger_authorize(charger, &a.id_token.id_token)
                .await?;
            Ok(v201::authorize(status.as_str(), None))
        }
        "MeterValues" => meter_values(domain, charger, read(payload)?).await,
        "TransactionEvent" => transaction_event(domain, charger, read(payload)?).await,
        "FirmwareStatusNotification" => {
            firmware_status(domain, charger, &payload).await?;
            Ok(v201::empty())
        }
        "DataTransfer" => {
            alive(domain, charger).await?;
            Ok(v201::data_transfer_unknown_vendor())
        }
        _ => Err(Error::NotImplemented(action.to_owned())),
    }
}

async fn boot(
    domain: &Domain,
    charger: &Charger,
    b: v201::BootNotification,
) -> Result<Value, Error> {
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

async fn status(
    domain: &Domain,
    charger: &Charger,
    s: v201::StatusNotification,
) -> Result<Value, Error> {
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
        None => alive(domain, charger).await?,
    }
    Ok(v201::empty())
}

async fn meter_values(
    domain: &Domain,
    charger: &Charger,
    m: v201::MeterValues,
) -> Result<Value, Error> {
    let readings: Vec<Reading> = m
        .meter_value
        .iter()
        .map(v201::MeterValue::reading)
        .collect();
    let readings = meters(&readings)?;
    match connector(m.evse_id) {
        Some(c) => {
            for reading in readings {
                domain
                    .charge_points
                    .charger_meter(charger, c, None, reading)
                    .await?;
            }
        }
        None => alive(domain, charger).await?,
    }
    Ok(v201::empty())
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
    // Checked before anything is kept.
    let checked = meters(&readings)?;
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
        for reading in checked {
            domain
                .charge_points
                .charger_meter(charger, c, Some(&tx), reading)
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
    let mut total_cost = None;
    if e.event_type == "Ended" {
        total_cost = domain
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
        alive(domain, charger).await?;
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
    Ok(v201::transaction_event(
        status.map(|s| s.as_str()),
        total_cost.and_then(|c| c.to_f64()),
    ))
}
