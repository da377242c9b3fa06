//! OCPP 1.6 messages from a charge point, an action each.

use super::{alive, connector, firmware_status, meters, read, register, snake};
use domain::Domain;
use domain::chargepoints::{BootInfo, Charger, StatusReport, TxEnd, TxStart};
use kernel::error::Error;
use kernel::model::ConnectorState;
use ocpp::v16;
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
            Ok(v16::heartbeat(domain.clock.now()))
        }
        "StatusNotification" => status(domain, charger, read(payload)?).await,
        "Authorize" => {
            let a: v16::Authorize = read(payload)?;
            let status = domain
                .charge_points
                .charger_authorize(charger, &a.id_tag)
                .await?;
            Ok(v16::authorize(status.as_str(), None))
        }
        "StartTransaction" => start_transaction(domain, charger, read(payload)?).await,
        "MeterValues" => meter_values(domain, charger, read(payload)?).await,
        "StopTransaction" => stop_transaction(domain, charger, read(payload)?).await,
        "FirmwareStatusNotification" => {
            firmware_status(domain, charger, &payload).await?;
            Ok(v16::empty())
        }
        "DataTransfer" => {
            alive(domain, charger).await?;
            Ok(v16::data_transfer_unknown_vendor())
        }
        _ => Err(Error::NotImplemented(action.to_owned())),
    }
}

async fn boot(
    domain: &Domain,
    charger: &Charger,
    b: v16::BootNotification,
) -> Result<Value, Error> {
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

fn state(status: &str) -> Option<ConnectorState> {
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

async fn status(
    domain: &Domain,
    charger: &Charger,
    s: v16::StatusNotification,
) -> Result<Value, Error> {
    let error = (s.error_code != "NoError").then_some(s.error_code.as_str());
    match connector(s.connector_id) {
        Some(c) => {
            let report = StatusReport {
                state: state(&s.status),
                error_code: error,
                only_if_changed: false,
            };
            let at = s.timestamp.unwrap_or_else(|| domain.clock.now());
            domain
                .charge_points
                .charger_status(charger, c, report, at)
                .await?
        }
        None => alive(domain, charger).await?,
    }
    Ok(v16::empty())
}

async fn start_transaction(
    domain: &Domain,
    charger: &Charger,
    s: v16::StartTransaction,
) -> Result<Value, Error> {
    let connector = connector(s.connector_id)
        .ok_or_else(|| Error::invalid("connectorId", "must be 1 or more"))?;
    let started = domain
        .charge_points
        .transaction_started(
            charger,
            TxStart {
                transaction_id: None,
                connector_id: connector,
                meter_start_wh: Some(register(s.meter_start as f64, "meterStart")?),
                at: s.timestamp,
                id_tag: Some(s.id_tag),
                remote_start_id: None,
            },
        )
        .await?;
    let id = started.transaction_id.parse().unwrap_or_default();
    Ok(v16::start_transaction(id, started.status.as_str()))
}

async fn meter_values(
    domain: &Domain,
    charger: &Charger,
    m: v16::MeterValues,
) -> Result<Value, Error> {
    let tx = m.transaction_id.map(|t| t.to_string());
    let readings: Vec<_> = m.meter_value.iter().map(v16::MeterValue::reading).collect();
    let readings = meters(&readings)?;
    match connector(m.connector_id) {
        Some(c) => {
            for reading in readings {
                domain
                    .charge_points
                    .charger_meter(charger, c, tx.as_deref(), reading)
                    .await?;
            }
        }
        None => alive(domain, charger).await?,
    }
    Ok(v16::empty())
}

async fn stop_transaction(
    domain: &Domain,
    charger: &Charger,
    s: v16::StopTransaction,
) -> Result<Value, Error> {
    let tx = s.transaction_id.to_string();
    let meter_stop = register(s.meter_stop as f64, "meterStop")?;
    let readings: Vec<_> = s
        .transaction_data
        .iter()
        .map(v16::MeterValue::reading)
        .collect();
    let readings = meters(&readings)?;
    if let Some(c) = domain
        .charge_points
        .transaction_connector(charger, &tx)
        .await?
    {
        for reading in readings {
            domain
                .charge_points
                .charger_meter(charger, c, Some(&tx), reading)
                .await?;
        }
    }
    domain
        .charge_points
        .transaction_ended(
            charger,
            TxEnd {
                transaction_id: tx.clone(),
                meter_stop_wh: Some(meter_stop),
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
