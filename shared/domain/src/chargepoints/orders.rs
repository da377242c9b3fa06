//! What a command asks of an OCPP charger, in the platform's terms: the
//! order the edge's OCPP line turns into the charger's version of OCPP,
//! with what its answers and transactions will need noted on the charge
//! point; and what a charge point can take at all.

use super::{ChargePointStore, FirmwareOrder, RemoteStart, update_charge_point};
use crate::commands::params::{SetPowerLimit, StartCharging, UpdateFirmware};
use crate::commands::schedule::Schedule;
use crate::commands::{ChargerRules, ChargerSettings, Command, CommandParams};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::error::Error;
use kernel::ids::{CommandId, ConnectorId};
use kernel::model::{CommandKind, Device};
use kernel::version::FirmwareVersion;
use std::sync::Arc;

/// What the charger is asked to do, in the platform's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum ChargerOrder {
    /// A remote start with the id tag the platform issued for it.
    Start {
        id_tag: String,
        remote_start_id: i64,
        limit_kw: Option<f64>,
    },
    Stop {
        transaction_id: String,
    },
    Schedule(Schedule),
    PowerLimit {
        limit_kw: f64,
        duration_s: Option<i64>,
        /// The transaction running on the connector: the limit is its
        /// `TxProfile`, else the connector's default.
        transaction_id: Option<String>,
    },
    Configure(ChargerSettings),
    UpdateFirmware {
        location: String,
        request_id: i64,
    },
    Reset,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub command_id: CommandId,
    pub connector_id: Option<ConnectorId>,
    pub order: ChargerOrder,
}

/// 20 random hex digits: an id tag (1.6 allows 20) nobody can guess.
fn issued_tag() -> Result<String, Error> {
    Ok(kernel::secret::new_secret()?[..20].to_uppercase())
}

/// A positive 28-bit number from a random tag (2.0.1 `remoteStartId`,
/// `requestId`).
fn number_of(tag: &str) -> i64 {
    i64::from_str_radix(&tag[..7], 16).unwrap_or(1).max(1)
}

/// What charge points can take, from their item.
#[derive(Clone)]
pub(crate) struct ChargePointRules {
    store: Arc<dyn ChargePointStore>,
    clock: Arc<dyn kernel::Clock>,
}

impl ChargePointRules {
    pub(crate) fn new(store: Arc<dyn ChargePointStore>, clock: Arc<dyn kernel::Clock>) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl ChargerRules for ChargePointRules {
    /// What a charge point cannot take: any command while it is not
    /// connected (409, as an offline device), a discharge (neither OCPP
    /// version carries V2G: 422), a stop with no session to end (409).
    async fn can_take(
        &self,
        device: &Device,
        kind: CommandKind,
        connector: Option<ConnectorId>,
    ) -> Result<(), Error> {
        let Some(id) = &device.charge_point_id else {
            return Ok(());
        };
        if !device.connected(self.clock.now()) {
            return Err(Error::Conflict(format!(
                "charge point {id} is not connected; commands need a connected charger"
            )));
        }
        match kind {
            CommandKind::StartDischarging => Err(Error::invalid(
                "command",
                "OCPP charge points cannot discharge: neither OCPP 1.6 nor 2.0.1 carries V2G discharge",
            )),
            CommandKind::StopCharging => {
                let cp = self.store.get_charge_point(id).await?;
                let running =
                    connector.is_some_and(|c| cp.is_some_and(|cp| cp.sessions.contains_key(&c)));
                if running {
                    Ok(())
                } else {
                    Err(Error::Conflict(format!(
                        "charge point {id} has no transaction on that connector to stop"
                    )))
                }
            }
            _ => Ok(()),
        }
    }
}

/// The order for a delivered command to charge point `id`, noting on the
/// charge point what its answers and transactions will need to find it
/// again (a remote start's tag, a stop's transaction, a firmware order).
/// The reason it cannot be sent, where it cannot.
pub async fn order_for(
    store: &dyn ChargePointStore,
    now: DateTime<Utc>,
    id: &str,
    cmd: &Command,
) -> Result<Order, String> {
    let connector = cmd.connector_id;
    let needs_connector = || connector.ok_or_else(|| "the command names no connector".to_owned());
    let internal = |e: Error| e.to_string();
    let order = match &cmd.params {
        CommandParams::StartCharging(StartCharging { charge_power, .. }) => {
            let connector = needs_connector()?;
            let fresh = issued_tag().map_err(internal)?;
            let mut start = None;
            // Sent again (a redelivery), a start keeps its tag: the
            // charger's answer and transaction match either call.
            update_charge_point(store, id, |cp| {
                let kept = cp
                    .remote_starts
                    .get(&connector)
                    .filter(|r| r.command_id == cmd.command_id)
                    .cloned();
                let chosen = kept.unwrap_or_else(|| RemoteStart {
                    command_id: cmd.command_id,
                    id_tag: fresh.clone(),
                    remote_start_id: number_of(&fresh),
                    at: now,
                });
                cp.remote_starts.insert(connector, chosen.clone());
                start = Some(chosen);
                Ok(())
            })
            .await
            .map_err(internal)?;
            let start = start.ok_or_else(|| "the remote start was not noted".to_owned())?;
            ChargerOrder::Start {
                id_tag: start.id_tag,
                remote_start_id: start.remote_start_id,
                limit_kw: *charge_power,
            }
        }
        CommandParams::StopCharging(_) => {
            let connector = needs_connector()?;
            let mut transaction = None;
            update_charge_point(store, id, |cp| {
                transaction = cp.sessions.get(&connector).cloned();
                if let Some(tx) = &transaction {
                    cp.stops.insert(tx.clone(), cmd.command_id);
                }
                Ok(())
            })
            .await
            .map_err(internal)?;
            ChargerOrder::Stop {
                transaction_id: transaction
                    .ok_or_else(|| "no transaction runs on that connector".to_owned())?,
            }
        }
        CommandParams::SetSchedule(set) => ChargerOrder::Schedule(set.schedule.clone()),
        CommandParams::SetPowerLimit(SetPowerLimit {
            limit_kw,
            duration_s,
        }) => ChargerOrder::PowerLimit {
            limit_kw: *limit_kw,
            duration_s: *duration_s,
            transaction_id: match cmd.connector_id {
                Some(c) => store
                    .get_charge_point(id)
                    .await
                    .map_err(|e| e.to_string())?
                    .and_then(|cp| cp.sessions.get(&c).cloned()),
                None => None,
            },
        },
        CommandParams::ApplyConfiguration(apply) => ChargerOrder::Configure(
            apply
                .settings
                .clone()
                .ok_or_else(|| "the command carries no settings".to_owned())?,
        ),
        CommandParams::UpdateFirmware(UpdateFirmware {
            location, version, ..
        }) => {
            let version = FirmwareVersion::parse(version)
                .ok_or_else(|| format!("{version} is not a firmware version"))?;
            let order = FirmwareOrder {
                command_id: cmd.command_id,
                version,
            };
            update_charge_point(store, id, |cp| {
                cp.firmware = Some(order.clone());
                Ok(())
            })
            .await
            .map_err(internal)?;
            ChargerOrder::UpdateFirmware {
                location: location.clone(),
                request_id: number_of(&issued_tag().map_err(internal)?),
            }
        }
        CommandParams::Reboot(_) => ChargerOrder::Reset,
        CommandParams::StartDischarging(_) => {
            return Err("OCPP charge points cannot discharge".into());
        }
    };
    Ok(Order {
        command_id: cmd.command_id,
        connector_id: cmd.connector_id,
        order,
    })
}
