//! Console commands: remote start, stop, V2G discharge and schedules, with
//! every check of the contract before anything is queued, and the admin's
//! manual command injection.

use super::params::{StartCharging, StartDischarging, StopCharging};
use super::schedule::Schedule;
use super::{Command, CommandParams, Commands, IdempotencyClaim, NewCommand, ParamFields, Queued};
use kernel::access::{Caller, not_found};
use kernel::catalogue::{Rating, rating};
use kernel::error::Error;
use kernel::ids::{CommandId, ConnectorId, DeviceId};
use kernel::input::Problems;
use kernel::model::{CommandOrigin, CommandStatus, Role};
use kernel::secret::hash_secret;
use serde::Serialize;
use serde_json::json;

/// The answer to a queued command.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    pub(crate) fn plain(command_id: CommandId, status: CommandStatus) -> Self {
        Self {
            command_id,
            status,
            charge_power: None,
            requested_charge_power: None,
            note: None,
        }
    }
}

impl Commands {
    /// Checks and queues a connector command (contract §5).
    pub async fn queue_connector_command(
        &self,
        caller: &Caller,
        device_id: DeviceId,
        connector_id: ConnectorId,
        command: CommandParams,
        idempotency_key: Option<&str>,
    ) -> Result<QueuedCommand, Error> {
        let target = (device_id, connector_id);
        self.queue_connector_command_from(caller, target, command, idempotency_key, None)
            .await
    }

    /// The same, remembering the partner that asked (its results are
    /// pushed back to it).
    pub(crate) async fn queue_connector_command_from(
        &self,
        caller: &Caller,
        (device_id, connector_id): (DeviceId, ConnectorId),
        command: CommandParams,
        idempotency_key: Option<&str>,
        origin: Option<CommandOrigin>,
    ) -> Result<QueuedCommand, Error> {
        let device = self.access.visible_device(caller, device_id).await?;
        let rating = rating(&device.model);
        let known = connector_id.get() <= rating.connectors
            || device.connectors.contains_key(&connector_id);
        if !known {
            return Err(not_found(&format!(
                "connector {connector_id} of device {device_id}"
            )));
        }
        caller.require(Role::Operator)?;
        let now = self.clock.now();
        if !device.is_online(now, self.settings.offline_after()) {
            return Err(Error::Conflict(format!(
                "device {device_id} is offline (last seen {}); commands need an online device",
                device
                    .last_seen
                    .map_or("never".to_owned(), kernel::input::rfc3339)
            )));
        }
        let checked = check_command(&command, &rating)?;
        self.rules
            .can_take(&device, checked.params.kind(), Some(connector_id))
            .await?;
        // The request as asked, before the site's capacity lowers it: what
        // an idempotency key is bound to.
        let claim = idempotency_key.map(|key| IdempotencyClaim {
            key: format!("{}#{key}", caller.client_id),
            request_digest: request_digest(device_id, connector_id, &checked),
        });
        let mut params = checked.params;
        let mut answer_power = None;
        if let Some(requested) = checked.requested_kw {
            let granted = self
                .sites
                .start_power(&device, connector_id, requested)
                .await?;
            if let CommandParams::StartCharging(start) = &mut params {
                start.charge_power = Some(granted);
            }
            if granted < requested {
                answer_power = Some((granted, requested));
            }
        }
        let new = NewCommand {
            connector_id: Some(connector_id),
            params,
            origin,
        };
        let cmd = match self.queue_command(&device, new, claim.as_ref()).await? {
            (cmd, Queued::Created) => cmd,
            (
                _,
                Queued::Replayed {
                    command_id,
                    request_digest,
                },
            ) => {
                let first = self.replayed(command_id).await?;
                if claim.is_none_or(|c| c.request_digest != request_digest) {
                    return Err(Error::Conflict(
                        "this Idempotency-Key was used for another request".into(),
                    ));
                }
                return Ok(QueuedCommand::plain(first.command_id, first.status));
            }
        };
        if let Some(schedule) = checked.schedule {
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

    /// The first command of an idempotency key.
    async fn replayed(&self, id: CommandId) -> Result<Command, Error> {
        self.store
            .get_command(id)
            .await?
            .ok_or_else(|| Error::internal(format!("idempotency key names missing command {id}")))
    }
}

/// A connector command after its checks against the model.
#[derive(Debug)]
pub(crate) struct Checked {
    /// The parameters as queued (defaults filled in).
    pub(crate) params: CommandParams,
    schedule: Option<Schedule>,
    /// The start power asked for, before the site's capacity may lower it.
    pub(crate) requested_kw: Option<f64>,
}

/// What an idempotency key is bound to: the command as asked.
fn request_digest(device: DeviceId, connector: ConnectorId, checked: &Checked) -> String {
    let canonical = json!({
        "device_id": device,
        "connector_id": connector,
        "command": checked.params.kind(),
        "params": ParamFields(checked.params.clone()),
        "requested_kw": checked.requested_kw,
    });
    hash_secret(&canonical.to_string())
}

/// Validates a connector command against the model's rating.
pub(crate) fn check_command(command: &CommandParams, rating: &Rating) -> Result<Checked, Error> {
    let mut p = Problems::default();
    let checked = match command {
        CommandParams::StartCharging(start) => {
            let power = start.charge_power.unwrap_or(rating.max_power_kw);
            if !(kernel::input::representable(power) && power > 0.0 && power <= rating.max_power_kw)
            {
                p.add(
                    "charge_power",
                    format!(
                        "must be > 0 and at most {} kW for this model",
                        rating.max_power_kw
                    ),
                );
            }
            let soc = start.target_soc.unwrap_or(100.0);
            p.range(soc, 1.0, 100.0, "target_soc");
            let params = CommandParams::StartCharging(StartCharging {
                charge_power: None,
                target_soc: Some(soc),
            });
            (params, None, Some(power))
        }
        CommandParams::StopCharging(stop) => {
            let reason = stop.reason.clone().unwrap_or_else(|| "remote".into());
            if let Err(e) = kernel::input::text(reason.clone(), 64, "reason") {
                p.add(&e.field, e.problem);
            }
            let params = CommandParams::StopCharging(StopCharging {
                reason: Some(reason),
            });
            (params, None, None)
        }
        CommandParams::StartDischarging(discharge) => {
            let StartDischarging {
                discharge_power,
                duration,
                min_soc,
            } = discharge;
            if !rating.v2g {
                p.add("discharge_power", "this model cannot discharge (no V2G)");
            }
            if !(kernel::input::representable(*discharge_power)
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
                kernel::input::representable(*min_soc) && (0.0..100.0).contains(min_soc),
                "min_soc",
                "must be 0 or more and below 100",
            );
            (command.clone(), None, None)
        }
        CommandParams::SetSchedule(set) => {
            set.schedule.check(rating, &mut p);
            (command.clone(), Some(set.schedule.clone()), None)
        }
        other => {
            let kind: &str = other.kind().into();
            return Err(Error::invalid(
                "command",
                format!("{kind} is not a connector command"),
            ));
        }
    };
    p.finish()?;
    let (params, schedule, requested_kw) = checked;
    Ok(Checked {
        params,
        schedule,
        requested_kw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_power_must_fit_the_model() {
        let ac = rating("TP-AC22");
        let over = CommandParams::StartCharging(StartCharging {
            charge_power: Some(50.0),
            target_soc: Some(80.0),
        });
        assert!(check_command(&over, &ac).is_err());
        let fine = CommandParams::StartCharging(StartCharging {
            charge_power: Some(11.0),
            target_soc: None,
        });
        let checked = check_command(&fine, &ac).unwrap();
        assert_eq!(checked.requested_kw, Some(11.0));
        assert_eq!(
            checked.params,
            CommandParams::StartCharging(StartCharging {
                charge_power: None,
                target_soc: Some(100.0)
            })
        );
    }

    #[test]
    fn discharge_needs_a_v2g_model_and_sane_values() {
        let cmd = CommandParams::StartDischarging(StartDischarging {
            discharge_power: 10.0,
            duration: 300,
            min_soc: 20.0,
        });
        assert!(check_command(&cmd, &rating("TP-AC22")).is_err());
        assert!(check_command(&cmd, &rating("TP-DC180")).is_ok());
        let bad = CommandParams::StartDischarging(StartDischarging {
            discharge_power: 10.0,
            duration: 0,
            min_soc: 100.0,
        });
        match check_command(&bad, &rating("TP-DC180")) {
            Err(Error::Invalid(e)) => {
                let fields: Vec<_> = e.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(fields, ["duration", "min_soc"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_idempotency_key_is_bound_to_the_request_as_asked() {
        let ac = rating("TP-AC22");
        let (device, one) = (DeviceId::random(), ConnectorId::new(1).unwrap());
        let start = |kw| {
            CommandParams::StartCharging(StartCharging {
                charge_power: Some(kw),
                target_soc: None,
            })
        };
        let digest = |c: &CommandParams, connector| {
            request_digest(device, connector, &check_command(c, &ac).unwrap())
        };
        assert_eq!(digest(&start(11.0), one), digest(&start(11.0), one));
        assert_ne!(digest(&start(11.0), one), digest(&start(7.0), one));
        let two = ConnectorId::new(2).unwrap();
        assert_ne!(digest(&start(11.0), one), digest(&start(11.0), two));
    }
}
