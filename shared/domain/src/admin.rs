//! An admin's manual commands (`POST /admin/queue-command`): any command
//! for any device, with the console's checks where a console route exists
//! for it (connector commands, a profile's apply).

use crate::access::Access;
use crate::commands::dispatch::{QueuedCommand, check_command};
use crate::commands::params::ApplyConfiguration;
use crate::commands::{CommandParams, Commands, NewCommand};
use crate::profiles::Profiles;
use kernel::access::Caller;
use kernel::catalogue::rating;
use kernel::error::Error;
use kernel::ids::{ConnectorId, DeviceId};
use kernel::input::Problems;
use kernel::model::{CommandStatus, Role};

/// An admin's manual command (`POST /admin/queue-command`).
#[derive(Debug, Clone)]
pub struct AdminCommand {
    pub device_id: DeviceId,
    pub connector_id: Option<ConnectorId>,
    pub params: CommandParams,
}

/// An admin's manual commands.
#[derive(Clone)]
pub struct AdminCommands {
    access: Access,
    commands: Commands,
    profiles: Profiles,
}

/// What `AdminCommands` is built on.
pub(crate) struct AdminCommandsParts {
    pub(crate) access: Access,
    pub(crate) commands: Commands,
    pub(crate) profiles: Profiles,
}

impl AdminCommands {
    pub(crate) fn new(parts: AdminCommandsParts) -> Self {
        let AdminCommandsParts {
            access,
            commands,
            profiles,
        } = parts;
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
        params: &ApplyConfiguration,
    ) -> Result<QueuedCommand, Error> {
        let mut p = Problems::default();
        p.check(
            params.profile_id.is_some(),
            "profile_id",
            "must be the id of a configuration profile",
        );
        if let Some(settings) = &params.settings {
            crate::profiles::check_settings(settings, &device.model, &mut p);
        }
        p.finish()?;
        let profile_id = params
            .profile_id
            .ok_or_else(|| Error::invalid("profile_id", "must be a profile id"))?;
        let (version, current) = self.profiles.profile_settings(caller, profile_id).await?;
        if params.version.is_some_and(|given| given != version) {
            return Err(Error::invalid(
                "version",
                format!("must be the profile's current version, {version}"),
            ));
        }
        if params.settings.as_ref().is_some_and(|s| *s != current) {
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
            .charger_can_take(&device, command.params.kind(), command.connector_id)
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
        match &command.params {
            CommandParams::ApplyConfiguration(apply) => {
                p.finish()?;
                return self.admin_apply(caller, &device, apply).await;
            }
            CommandParams::UpdateFirmware(update) => {
                p.check(
                    kernel::input::web_url(&update.location).is_some(),
                    "location",
                    "must be an absolute http(s) URL of the firmware image with a host",
                );
                if let Err(e) = kernel::input::text(update.version.clone(), 64, "version") {
                    p.add(&e.field, e.problem);
                }
            }
            CommandParams::SetPowerLimit(limit) => {
                p.range(limit.limit_kw, 0.0, rating.max_power_kw, "limit_kw");
            }
            _ => {}
        }
        if command.params.is_for_a_connector() && command.connector_id.is_none() {
            p.add("connector_id", "is required for this command");
        }
        p.finish()?;
        // Connector commands get the console's checks and parameters.
        let params = if command.params.is_for_a_connector() {
            let checked = check_command(&command.params, &rating)?;
            let mut params = checked.params;
            if let (CommandParams::StartCharging(start), Some(kw)) =
                (&mut params, checked.requested_kw)
            {
                start.charge_power = Some(kw);
            }
            params
        } else {
            command.params
        };
        let new = NewCommand {
            connector_id: command.connector_id,
            params,
            origin: None,
        };
        let (cmd, _) = self.commands.queue_command(&device, new, None).await?;
        Ok(QueuedCommand::plain(cmd.command_id, cmd.status))
    }
}
