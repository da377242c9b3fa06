//! An admin's manual commands (`POST /admin/queue-command`): any command
//! for any device, with the console's checks where a console route exists
//! for it (connector commands, a profile's apply).

use crate::access::Access;
use crate::commands::dispatch::{QueuedCommand, as_connector_command, check_command};
use crate::commands::{Commands, NewCommand};
use crate::profiles::Profiles;
use kernel::access::Caller;
use kernel::catalogue::rating;
use kernel::error::Error;
use kernel::ids::{ConnectorId, DeviceId};
use kernel::input::Problems;
use kernel::model::{CommandKind, CommandStatus, Role};
use serde_json::{Map, Value, json};

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

/// An admin's manual command (`POST /admin/queue-command`).
#[derive(Debug, Clone)]
pub struct AdminCommand {
    pub device_id: DeviceId,
    pub kind: CommandKind,
    pub connector_id: Option<ConnectorId>,
    pub params: Map<String, Value>,
}

/// An admin's manual commands.
#[derive(Clone)]
pub struct AdminCommands {
    access: Access,
    commands: Commands,
    profiles: Profiles,
}

impl AdminCommands {
    pub(crate) fn new(access: Access, commands: Commands, profiles: Profiles) -> Self {
        Self {
            access,
            commands,
            profiles,
        }
    }
}

impl AdminCommands {
    /// An admin's `apply_configuration`: the console's apply of one
    /// profile to one device, with every check of that route. `settings`,
    /// when given, get the profile route's checks and must be the
    /// profile's own: what the device is sent always comes from the profile.
    async fn admin_apply(
        &self,
        caller: &Caller,
        device: &kernel::model::Device,
        params: &Map<String, Value>,
    ) -> Result<QueuedCommand, Error> {
        let mut p = Problems::default();
        let profile_id = params
            .get("profile_id")
            .and_then(Value::as_str)
            .and_then(kernel::ids::ProfileId::parse);
        p.check(
            profile_id.is_some(),
            "profile_id",
            "must be the id of a configuration profile",
        );
        let unexpected: Vec<&str> = params
            .keys()
            .map(String::as_str)
            .filter(|k| !matches!(*k, "profile_id" | "version" | "settings"))
            .collect();
        if !unexpected.is_empty() {
            p.add(
                "params",
                format!(
                    "apply_configuration takes profile_id, version and settings only, not {}",
                    unexpected.join(", ")
                ),
            );
        }
        let settings = params
            .get("settings")
            .map(|raw| crate::profiles::settings_for(raw, &device.model, &mut p));
        p.finish()?;
        let profile_id =
            profile_id.ok_or_else(|| Error::invalid("profile_id", "must be a profile id"))?;
        let (version, current) = self.profiles.profile_settings(caller, profile_id).await?;
        if let Some(given) = params.get("version")
            && given.as_u64() != Some(u64::from(version))
        {
            return Err(Error::invalid(
                "version",
                format!("must be the profile's current version, {version}"),
            ));
        }
        if settings.flatten().is_some_and(|s| s != current) {
            return Err(Error::invalid(
                "settings",
                format!(
                    "must be the settings of the profile's version {version}; change the profile to change them"
                ),
            ));
        }
        let target = crate::profiles::ApplyTarget::Devices(vec![device.device_id]);
        let applied = self
            .profiles
            .apply_profile(caller, profile_id, target)
            .await?;
        let queued = applied
            .commands
            .first()
            .ok_or_else(|| Error::internal("an apply to one device queued no command"))?;
        Ok(QueuedCommand::plain(
            queued.command_id,
            CommandStatus::Queued,
        ))
    }

    /// `POST /admin/queue-command`: any command for any device (admin).
    pub async fn queue_admin_command(
        &self,
        caller: &Caller,
        command: AdminCommand,
    ) -> Result<QueuedCommand, Error> {
        caller.require(Role::Admin)?;
        let device = self
            .access
            .visible_device(caller, command.device_id)
            .await?;
        self.commands
            .charger_can_take(&device, command.kind, command.connector_id)
            .await?;
        let mut p = Problems::default();
        let rating = rating(&device.model);
        if let Some(c) = command.connector_id {
            p.check(
                c.get() <= rating.connectors,
                "connector_id",
                "is not a connector of this model",
            );
        }
        let params = &command.params;
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
        for (name, value) in params {
            if let Some(problem) = kernel::input::json_problem(value) {
                p.add(name, problem);
            }
        }
        if command.kind == CommandKind::ApplyConfiguration {
            p.finish()?;
            return self.admin_apply(caller, &device, params).await;
        }
        match command.kind {
            CommandKind::UpdateFirmware => {
                let location = params
                    .get("location")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                p.check(
                    kernel::input::web_url(location).is_some(),
                    "location",
                    "must be an absolute http(s) URL of the firmware image with a host",
                );
                let version = params
                    .get("version")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Err(e) = kernel::input::text(version.to_owned(), 64, "version") {
                    p.add(&e.field, e.problem);
                }
            }
            CommandKind::SetPowerLimit => {
                let limit = params
                    .get("limit_kw")
                    .and_then(Value::as_f64)
                    .unwrap_or(-1.0);
                p.range(limit, 0.0, rating.max_power_kw, "limit_kw");
            }
            _ => {}
        }
        let connector_command = as_connector_command(command.kind, params)?;
        if connector_command.is_some() && command.connector_id.is_none() {
            p.add("connector_id", "is required for this command");
        }
        p.finish()?;
        // Connector commands get the console's checks and parameters.
        let params = match connector_command {
            Some(c) => {
                let checked = check_command(&c, &rating)?;
                let mut params = checked.params;
                if let Some(kw) = checked.requested_kw {
                    params.insert("charge_power".into(), json!(kw));
                }
                params
            }
            None => command.params,
        };
        let new = NewCommand {
            kind: command.kind,
            connector_id: command.connector_id,
            params,
            origin: None,
        };
        let (cmd, _) = self.commands.queue_command(&device, new, None).await?;
        Ok(QueuedCommand::plain(cmd.command_id, cmd.status))
    }
}
