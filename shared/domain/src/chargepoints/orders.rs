//! Commands to OCPP chargers: sent the moment they are queued over the
//! charger's open connection (no heartbeat to wait for), as orders the
//! gateway turns into the charger's version of OCPP.

use super::{ChargePointStore, FirmwareOrder, RemoteStart, update_charge_point};
use crate::commands::schedule::Schedule;
use crate::commands::{ChargerLine, Commands};
use crate::profiles::ChargerSettings;
use async_trait::async_trait;
use kernel::Clock;
use kernel::error::Error;
use kernel::ids::{CommandId, ConnectorId, DeviceId};
use kernel::model::{Command, CommandKind, Device, LiveConnection};
use kernel::version::FirmwareVersion;
use serde_json::Value;
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

/// Where a charger's connection is.
#[derive(Debug, Clone)]
pub struct ChargerAddress {
    pub charge_point_id: String,
    pub device_id: DeviceId,
    pub connection: LiveConnection,
}

/// The transport to chargers' connections: the local server's own
/// sockets, or API Gateway's `@connections` in AWS.
#[async_trait]
pub trait ChargerLink: Send + Sync {
    /// Sends the orders on the charger's connection; `false` when that
    /// connection is gone.
    async fn send(&self, to: &ChargerAddress, orders: Vec<Order>) -> bool;
    /// Closes the charger's connection (its password changed).
    async fn close(&self, to: &ChargerAddress);
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

fn param_f64(cmd: &Command, name: &str) -> Option<f64> {
    cmd.params.get(name).and_then(Value::as_f64)
}

/// Commands' line to charge points: what they can take, and sending it
/// over their connections where this process reaches them.
#[derive(Clone)]
pub(crate) struct ChargePointLine {
    store: Arc<dyn ChargePointStore>,
    clock: Arc<dyn Clock>,
    link: Option<Arc<dyn ChargerLink>>,
}

impl ChargePointLine {
    pub(crate) fn new(
        store: Arc<dyn ChargePointStore>,
        clock: Arc<dyn Clock>,
        link: Option<Arc<dyn ChargerLink>>,
    ) -> Self {
        Self { store, clock, link }
    }
}

#[async_trait]
impl ChargerLine for ChargePointLine {
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

    /// Sends a connected charge point its deliverable commands now.
    async fn push(&self, commands: &Commands, device: &Device) -> Result<(), Error> {
        let (Some(link), Some(id), Some(connection)) =
            (&self.link, &device.charge_point_id, &device.connection)
        else {
            return Ok(());
        };
        if !device.connected(self.clock.now()) {
            return Ok(());
        }
        let delivered = commands.deliver(device.device_id, usize::MAX).await?;
        if delivered.is_empty() {
            return Ok(());
        }
        let mut orders = Vec::new();
        for cmd in &delivered {
            match self.order_for(id, cmd).await {
                Ok(order) => orders.push(Order {
                    command_id: cmd.command_id,
                    connector_id: cmd.connector_id,
                    order,
                }),
                Err(why) => {
                    commands
                        .fail_command(device.device_id, cmd.command_id, why)
                        .await?
                }
            }
        }
        let to = ChargerAddress {
            charge_point_id: id.clone(),
            device_id: device.device_id,
            connection: connection.clone(),
        };
        let sent: Vec<CommandId> = orders.iter().map(|o| o.command_id).collect();
        if !link.send(&to, orders).await {
            for command in sent {
                commands
                    .fail_command(
                        device.device_id,
                        command,
                        "the charger's connection closed".into(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

impl ChargePointLine {
    /// The order for a command, noting on the charge point what its
    /// answers and transactions will need to find it again.
    async fn order_for(&self, id: &str, cmd: &Command) -> Result<ChargerOrder, String> {
        let connector = cmd.connector_id;
        let needs_connector =
            || connector.ok_or_else(|| "the command names no connector".to_owned());
        let internal = |e: Error| e.to_string();
        Ok(match cmd.command {
            CommandKind::StartCharging => {
                let connector = needs_connector()?;
                let fresh = issued_tag().map_err(internal)?;
                let mut start = None;
                // Sent again (a redelivery), a start keeps its tag: the
                // charger's answer and transaction match either call.
                update_charge_point(self.store.as_ref(), id, |cp| {
                    let kept = cp
                        .remote_starts
                        .get(&connector)
                        .filter(|r| r.command_id == cmd.command_id)
                        .cloned();
                    let chosen = kept.unwrap_or_else(|| RemoteStart {
                        command_id: cmd.command_id,
                        id_tag: fresh.clone(),
                        remote_start_id: number_of(&fresh),
                        at: self.clock.now(),
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
                    limit_kw: param_f64(cmd, "charge_power"),
                }
            }
            CommandKind::StopCharging => {
                let connector = needs_connector()?;
                let mut transaction = None;
                update_charge_point(self.store.as_ref(), id, |cp| {
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
            CommandKind::SetSchedule => ChargerOrder::Schedule(
                cmd.params
                    .get("schedule")
                    .cloned()
                    .and_then(|s| serde_json::from_value(s).ok())
                    .ok_or_else(|| "the command carries no schedule".to_owned())?,
            ),
            CommandKind::SetPowerLimit => ChargerOrder::PowerLimit {
                limit_kw: param_f64(cmd, "limit_kw")
                    .ok_or_else(|| "the command carries no limit_kw".to_owned())?,
                duration_s: cmd.params.get("duration_s").and_then(Value::as_i64),
            },
            CommandKind::ApplyConfiguration => ChargerOrder::Configure(
                cmd.params
                    .get("settings")
                    .cloned()
                    .and_then(|s| serde_json::from_value(s).ok())
                    .ok_or_else(|| "the command carries no settings".to_owned())?,
            ),
            CommandKind::UpdateFirmware => {
                let location = cmd
                    .params
                    .get("location")
                    .and_then(Value::as_str)
                    .ok_or_else(|| "the command carries no location".to_owned())?
                    .to_owned();
                let version = cmd
                    .params
                    .get("version")
                    .and_then(Value::as_str)
                    .and_then(FirmwareVersion::parse)
                    .ok_or_else(|| "the command carries no version".to_owned())?;
                let order = FirmwareOrder {
                    command_id: cmd.command_id,
                    version,
                };
                update_charge_point(self.store.as_ref(), id, |cp| {
                    cp.firmware = Some(order.clone());
                    Ok(())
                })
                .await
                .map_err(internal)?;
                ChargerOrder::UpdateFirmware {
                    location,
                    request_id: number_of(&issued_tag().map_err(internal)?),
                }
            }
            CommandKind::Reboot => ChargerOrder::Reset,
            CommandKind::StartDischarging => {
                return Err("OCPP charge points cannot discharge".into());
            }
        })
    }
}
