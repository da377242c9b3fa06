//! Console commands: remote start, stop, V2G discharge and schedules, with
//! every check of the contract before anything is queued, and the admin's
//! manual command injection.

use crate::Domain;
use crate::catalogue::{Rating, rating};
use crate::error::Error;
use crate::ids::{CommandId, DeviceId};
use crate::model::{CommandKind, CommandStatus, ConnectorState, Device, Role};
use crate::operators::Caller;
use crate::schedule::Schedule;
use crate::validate::{Problems, text_ok};
use crate::views::{DeviceStatus, device_status};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

/// What an operator asks a connector to do.
#[derive(Debug, Clone)]
pub enum ConnectorCommand {
    Start {
        charge_power: Option<f64>,
        target_soc: Option<f64>,
    },
    Stop {
        reason: Option<String>,
    },
    Discharge {
        discharge_power: f64,
        duration: i64,
        min_soc: f64,
    },
    Schedule(Schedule),
}

/// The answer to a queued command.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueuedCommand {
    pub command_id: CommandId,
    pub status: CommandStatus,
    /// The power granted, where the site's capacity lowered the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_power: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_charge_power: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl QueuedCommand {
    fn plain(command_id: CommandId, status: CommandStatus) -> Self {
        Self {
            command_id,
            status,
            charge_power: None,
            requested_charge_power: None,
            note: None,
        }
    }
}

/// Fields of the command object that parameters may not use.
const RESERVED_FIELDS: &[&str] = &[
    "command_id",
    "command",
    "device_id",
    "connector_id",
    "status",
    "created_at",
    "expires_at",
];

/// Smallest power worth starting a session with.
const MIN_START_KW: f64 = 1.0;

/// Power a connector draws now: discharging counts against the load.
pub fn signed_power(state: ConnectorState, power: f64) -> f64 {
    match state {
        ConnectorState::Discharging => -power,
        ConnectorState::Charging | ConnectorState::Suspended | ConnectorState::Preparing => power,
        _ => 0.0,
    }
}

impl Domain {
    /// Checks and queues a connector command (contract §5).
    pub async fn dispatch(
        &self,
        caller: &Caller,
        device_id: &str,
        connector: &str,
        command: ConnectorCommand,
        idempotency_key: Option<&str>,
    ) -> Result<QueuedCommand, Error> {
        let not_found = || Error::NotFound(format!("device {device_id} not found"));
        let id = DeviceId::parse(device_id).ok_or_else(not_found)?;
        let device = self
            .store
            .get_device(id)
            .await?
            .filter(|d| caller.sees(&d.operator_id))
            .ok_or_else(not_found)?;
        let rating = rating(&device.model);
        let connector_id = connector
            .parse::<u32>()
            .ok()
            .filter(|c| {
                *c >= 1
                    && (device.connectors.contains_key(&c.to_string()) || *c <= rating.connectors)
            })
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "connector {connector} of device {device_id} not found"
                ))
            })?;
        caller.require(Role::Operator)?;
        let now = self.clock.now();
        if device_status(&device, now, self.settings.offline_after()) == DeviceStatus::Offline {
            return Err(Error::Conflict(format!(
                "device {device_id} is offline (last seen {}); commands need an online device",
                device
                    .last_seen
                    .map_or("never".to_owned(), crate::validate::rfc3339)
            )));
        }
        let (kind, params, schedule, requested) = check_command(&command, &rating)?;
        let mut params = params;
        let mut answer_power = None;
        if let Some(requested) = requested {
            let granted = self.site_headroom(&device, connector_id, requested).await?;
            params.insert("charge_power".into(), json!(granted));
            if granted < requested {
                answer_power = Some((granted, requested));
            }
        }
        let scoped_key = idempotency_key.map(|k| format!("{}#{k}", caller.client_id));
        let (cmd, duplicate) = self
            .queue(
                &device,
                Some(connector_id),
                kind,
                params,
                scoped_key.as_deref(),
            )
            .await?;
        if duplicate {
            let same = cmd.device_id == device.device_id
                && cmd.connector_id == Some(connector_id)
                && cmd.command == kind;
            if !same {
                return Err(Error::Conflict(
                    "this Idempotency-Key was used for another request".into(),
                ));
            }
            return Ok(QueuedCommand::plain(cmd.command_id, cmd.status));
        }
        if let Some(schedule) = schedule {
            self.store
                .put_schedule(device.device_id, connector_id, &schedule, cmd.command_id)
                .await?;
        }
        let mut answer = QueuedCommand::plain(cmd.command_id, cmd.status);
        if let Some((granted, requested)) = answer_power {
            answer.charge_power = Some(granted);
            answer.requested_charge_power = Some(requested);
            answer.note = Some(format!(
                "charge_power lowered from {requested} to {granted} kW to fit the site's capacity"
            ));
        }
        Ok(answer)
    }

    /// The power a new session on this connector may draw without pushing
    /// its site over capacity (or over an active flexibility cap).
    async fn site_headroom(
        &self,
        device: &Device,
        connector_id: u32,
        requested: f64,
    ) -> Result<f64, Error> {
        let Some(site_id) = device.site_id else {
            return Ok(requested);
        };
        let Some(site) = self.store.get_site(site_id).await? else {
            return Ok(requested);
        };
        let now = self.clock.now();
        let cap = match (site.flex_limit_kw, site.flex_until) {
            (Some(limit), Some(until)) if until > now => site.power_capacity.min(limit),
            _ => site.power_capacity,
        };
        let load: f64 = self
            .store
            .site_devices(site_id)
            .await?
            .iter()
            .filter(|d| {
                device_status(d, now, self.settings.offline_after()) != DeviceStatus::Offline
            })
            .flat_map(|d| {
                d.connectors
                    .iter()
                    .filter(move |(c, _)| {
                        !(d.device_id == device.device_id && **c == connector_id.to_string())
                    })
                    .map(|(_, c)| signed_power(c.state, c.power))
            })
            .sum();
        let headroom = cap - load;
        if headroom < MIN_START_KW {
            return Err(Error::Conflict(format!(
                "site {} is at its capacity of {cap} kW ({load:.1} kW in use); nothing fits",
                site.site_id
            )));
        }
        Ok(requested.min((headroom * 10.0).floor() / 10.0))
    }

    /// Queues with an optional idempotency key; a key seen before returns
    /// the first command instead of queuing another (`true`).
    async fn queue(
        &self,
        device: &Device,
        connector_id: Option<u32>,
        kind: CommandKind,
        params: Map<String, Value>,
        idempotency_key: Option<&str>,
    ) -> Result<(crate::model::Command, bool), Error> {
        match self
            .enqueue_with_key(device, connector_id, kind, params, idempotency_key)
            .await?
        {
            Ok(cmd) => Ok((cmd, false)),
            Err(existing) => {
                let cmd = self.store.get_command(existing).await?.ok_or_else(|| {
                    Error::Internal("idempotency key names a missing command".into())
                })?;
                Ok((cmd, true))
            }
        }
    }

    /// `POST /admin/queue-command`: any command for any device (admin).
    pub async fn admin_queue(
        &self,
        caller: &Caller,
        device_id: &str,
        command: &str,
        connector_id: Option<i64>,
        params: Map<String, Value>,
    ) -> Result<QueuedCommand, Error> {
        caller.require(Role::Admin)?;
        let not_found = || Error::NotFound(format!("device {device_id} not found"));
        let id = DeviceId::parse(device_id).ok_or_else(not_found)?;
        let device = self.store.get_device(id).await?.ok_or_else(not_found)?;
        let mut p = Problems::default();
        let kind: Option<CommandKind> =
            serde_json::from_value(Value::String(command.to_owned())).ok();
        if kind.is_none() {
            p.add(
                "command",
                "must be one of start_charging, stop_charging, start_discharging, set_schedule, \
                 set_power_limit, update_firmware, apply_configuration, reboot",
            );
        }
        let rating = rating(&device.model);
        if let Some(c) = connector_id {
            p.check(
                c >= 1 && c <= i64::from(rating.connectors),
                "connector_id",
                "is not a connector of this model",
            );
        }
        // Parameters sit beside the fixed fields on the wire; they may not
        // shadow them.
        let reserved: Vec<&str> = params
            .keys()
            .map(String::as_str)
            .filter(|k| RESERVED_FIELDS.contains(k))
            .collect();
        if !reserved.is_empty() {
            p.add(
                "params",
                format!("reserved field names: {}", reserved.join(", ")),
            );
        }
        match kind {
            Some(CommandKind::UpdateFirmware) => {
                let location = params
                    .get("location")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                p.check(
                    location.starts_with("https://") || location.starts_with("http://"),
                    "location",
                    "must be the http(s) URL of the firmware image",
                );
                let version = params
                    .get("version")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                p.check(text_ok(version, 64), "version", "must be 1..64 characters");
            }
            Some(CommandKind::SetPowerLimit) => {
                let limit = params
                    .get("limit_kw")
                    .and_then(Value::as_f64)
                    .unwrap_or(-1.0);
                p.range(limit, 0.0, rating.max_power_kw, "limit_kw");
            }
            _ => {}
        }
        p.finish()?;
        let Some(kind) = kind else {
            return Err(Error::Internal("validated command kind missing".into()));
        };
        let (cmd, _) = self
            .queue(&device, connector_id.map(|c| c as u32), kind, params, None)
            .await?;
        Ok(QueuedCommand::plain(cmd.command_id, cmd.status))
    }
}

type Checked = (
    CommandKind,
    Map<String, Value>,
    Option<Schedule>,
    Option<f64>,
);

/// Validates a connector command against the model's rating; returns the
/// command's kind, parameters, schedule, and the start power requested.
fn check_command(command: &ConnectorCommand, rating: &Rating) -> Result<Checked, Error> {
    let mut p = Problems::default();
    let mut params = Map::new();
    let checked = match command {
        ConnectorCommand::Start {
            charge_power,
            target_soc,
        } => {
            let power = charge_power.unwrap_or(rating.max_power_kw);
            if !(power.is_finite() && power > 0.0 && power <= rating.max_power_kw) {
                p.add(
                    "charge_power",
                    format!(
                        "must be > 0 and at most {} kW for this model",
                        rating.max_power_kw
                    ),
                );
            }
            let soc = target_soc.unwrap_or(100.0);
            p.range(soc, 1.0, 100.0, "target_soc");
            params.insert("target_soc".into(), json!(soc));
            (CommandKind::StartCharging, None, Some(power))
        }
        ConnectorCommand::Stop { reason } => {
            let reason = reason.clone().unwrap_or_else(|| "remote".into());
            p.check(text_ok(&reason, 64), "reason", "must be 1..64 characters");
            params.insert("reason".into(), json!(reason));
            (CommandKind::StopCharging, None, None)
        }
        ConnectorCommand::Discharge {
            discharge_power,
            duration,
            min_soc,
        } => {
            if !rating.v2g {
                p.add("discharge_power", "this model cannot discharge (no V2G)");
            }
            if !(discharge_power.is_finite()
                && *discharge_power > 0.0
                && *discharge_power <= rating.max_power_kw)
            {
                p.add(
                    "discharge_power",
                    format!(
                        "must be > 0 and at most {} kW for this model",
                        rating.max_power_kw
                    ),
                );
            }
            p.check(
                (1..=86_400).contains(duration),
                "duration",
                "must be 1..86400 s",
            );
            p.check(
                min_soc.is_finite() && (0.0..100.0).contains(min_soc),
                "min_soc",
                "must be 0 or more and below 100",
            );
            params.insert("discharge_power".into(), json!(discharge_power));
            params.insert("duration".into(), json!(duration));
            params.insert("min_soc".into(), json!(min_soc));
            (CommandKind::StartDischarging, None, None)
        }
        ConnectorCommand::Schedule(schedule) => {
            schedule.check(rating, &mut p);
            params.insert(
                "schedule".into(),
                serde_json::to_value(schedule).unwrap_or_default(),
            );
            (CommandKind::SetSchedule, Some(schedule.clone()), None)
        }
    };
    p.finish()?;
    Ok((checked.0, params, checked.1, checked.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_power_must_fit_the_model() {
        let ac = rating("TP-AC22");
        let over = ConnectorCommand::Start {
            charge_power: Some(50.0),
            target_soc: Some(80.0),
        };
        assert!(check_command(&over, &ac).is_err());
        let fine = ConnectorCommand::Start {
            charge_power: Some(11.0),
            target_soc: None,
        };
        let (kind, params, _, requested) = check_command(&fine, &ac).unwrap();
        assert_eq!(kind, CommandKind::StartCharging);
        assert_eq!(requested, Some(11.0));
        assert_eq!(params["target_soc"], 100.0);
    }

    #[test]
    fn discharge_needs_a_v2g_model_and_sane_values() {
        let cmd = ConnectorCommand::Discharge {
            discharge_power: 10.0,
            duration: 300,
            min_soc: 20.0,
        };
        assert!(check_command(&cmd, &rating("TP-AC22")).is_err());
        assert!(check_command(&cmd, &rating("TP-DC180")).is_ok());
        let bad = ConnectorCommand::Discharge {
            discharge_power: 10.0,
            duration: 0,
            min_soc: 100.0,
        };
        match check_command(&bad, &rating("TP-DC180")) {
            Err(Error::Invalid(e)) => {
                let fields: Vec<_> = e.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(fields, ["duration", "min_soc"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn discharging_counts_against_the_load() {
        assert_eq!(signed_power(ConnectorState::Discharging, 10.0), -10.0);
        assert_eq!(signed_power(ConnectorState::Charging, 10.0), 10.0);
        assert_eq!(signed_power(ConnectorState::Idle, 10.0), 0.0);
    }
}
