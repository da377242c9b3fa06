//! Configuration profiles: operator-owned, versioned charger settings,
//! applied to devices through `apply_configuration` commands. A device
//! records the profile and version it applied when it reports the command
//! completed; a device on an older version of its profile has drifted.

mod port;

pub use port::ProfileStore;

use crate::access::Access;
use crate::commands::params::ApplyConfiguration;
use crate::commands::{Command, CommandParams, Commands, NewCommand, Settled};
use crate::devices::DeviceStore;
use crate::feeds::Feeds;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::access::{Caller, not_found};
use kernel::catalogue::{rating, spec};
use kernel::error::Error;
use kernel::ids::{CommandId, DeviceId, OperatorId, ProfileId, SiteId};
use kernel::input::Problems;
use kernel::model::{AppliedConfiguration, CommandStatus, Device, PendingConfiguration, Role};
use kernel::{Clock, Settings};
use serde::{Deserialize, Serialize};

use std::sync::Arc;

/// Bounds of the settings (contract §10).
pub const HEARTBEAT_INTERVAL_S: (u32, u32) = (10, 3600);
pub const METER_INTERVAL_S: (u32, u32) = (5, 3600);
pub const MIN_CURRENT_A: f64 = 1.0;

pub use crate::commands::ChargerSettings;

/// A stored profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub profile_id: ProfileId,
    pub operator_id: OperatorId,
    pub name: String,
    pub model: Option<String>,
    pub version: u32,
    pub settings: ChargerSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A profile as asked for by `POST` (create) or `PUT` (replace), parsed.
#[derive(Debug, Clone)]
pub struct ProfileDraft {
    pub name: String,
    pub model: Option<String>,
    pub settings: ChargerSettings,
    /// Whose profile; defaults to the caller's one operator.
    pub operator_id: Option<OperatorId>,
}

/// Where a profile goes.
#[derive(Debug, Clone)]
pub enum ApplyTarget {
    Devices(Vec<DeviceId>),
    Site(SiteId),
}

/// How the operator's devices stand against a profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileDevices {
    /// On the current version.
    pub applied: u32,
    /// Sent a version and not answered yet.
    pub pending: u32,
    /// On an older version.
    pub drifted: u32,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileView {
    pub profile_id: ProfileId,
    pub operator_id: String,
    pub name: String,
    pub model: Option<String>,
    pub version: u32,
    pub settings: ChargerSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub devices: ProfileDevices,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuedApply {
    pub device_id: DeviceId,
    pub command_id: CommandId,
}

/// The answer to an apply: the version sent and one command per device.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppliedProfile {
    pub profile_id: ProfileId,
    pub version: u32,
    pub commands: Vec<QueuedApply>,
}

/// Where one device stands against one profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Applied,
    Pending,
    Drifted,
}

fn standing(
    d: &Device,
    p: &Profile,
    now: DateTime<Utc>,
    command_expiry: chrono::Duration,
) -> Option<Standing> {
    let applied = d
        .configuration
        .as_ref()
        .filter(|c| c.profile_id == p.profile_id);
    // A pending version stays pending only while its command can still be
    // answered; expiry is derived here as it is for commands.
    let pending = d.configuration_pending.as_ref().is_some_and(|q| {
        q.profile_id == p.profile_id
            && now < q.queued_at + command_expiry
            && applied.is_none_or(|a| a.version < q.version)
    });
    if pending {
        return Some(Standing::Pending);
    }
    applied.map(|a| {
        if a.version >= p.version {
            Standing::Applied
        } else {
            Standing::Drifted
        }
    })
}

/// Checks a draft against the model catalogue.
fn check_draft(draft: &ProfileDraft) -> Result<(), Error> {
    let mut p = Problems::default();
    let max = match &draft.model {
        Some(model) => match spec(model) {
            Some(s) => s.max_current_a,
            None => {
                p.add("model", "is not in the model catalogue (GET /v1/models)");
                rating(model).max_current_a
            }
        },
        None => kernel::catalogue::UNKNOWN_MODEL.max_current_a,
    };
    p.range(
        draft.settings.max_current_a,
        MIN_CURRENT_A,
        max,
        "settings.max_current_a",
    );
    p.finish()
}

/// Settings given as JSON, with the profile route's checks (intervals,
/// and a current within 1..the model's rating); `None` with the problems
/// noted when they do not pass.
pub(crate) fn check_settings(s: &ChargerSettings, model: &str, p: &mut Problems) {
    for (value, (lo, hi), field) in [
        (
            s.heartbeat_interval_s,
            HEARTBEAT_INTERVAL_S,
            "settings.heartbeat_interval_s",
        ),
        (
            s.meter_interval_s,
            METER_INTERVAL_S,
            "settings.meter_interval_s",
        ),
    ] {
        if !(lo..=hi).contains(&value) {
            p.add(field, format!("must be {lo}..{hi} seconds"));
        }
    }
    p.range(
        s.max_current_a,
        MIN_CURRENT_A,
        rating(model).max_current_a,
        "settings.max_current_a",
    );
}

/// The command parameters of an apply.
fn apply_params(p: &Profile) -> CommandParams {
    CommandParams::ApplyConfiguration(ApplyConfiguration {
        profile_id: Some(p.profile_id),
        version: Some(p.version),
        settings: Some(p.settings.clone()),
    })
}

ports!(
    /// The ports profiles use.
    ProfilesPorts: ProfileStore, DeviceStore
);

/// Configuration profiles and their applies.
#[derive(Clone)]
pub struct Profiles {
    store: Arc<dyn ProfilesPorts>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    access: Access,
    commands: Commands,
    feeds: Feeds,
}

/// What `Profiles` is built on.
pub(crate) struct ProfilesParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) access: Access,
    pub(crate) commands: Commands,
    pub(crate) feeds: Feeds,
}

impl Profiles {
    pub(crate) fn new(store: Arc<dyn ProfilesPorts>, parts: ProfilesParts) -> Self {
        let ProfilesParts {
            settings,
            clock,
            access,
            commands,
            feeds,
        } = parts;
        Self {
            store,
            settings,
            clock,
            access,
            commands,
            feeds,
        }
    }
}

impl Profiles {
    async fn visible_profile(&self, caller: &Caller, id: ProfileId) -> Result<Profile, Error> {
        let found = self.store.get_profile(id).await?;
        caller.visible(
            found,
            |p| &p.operator_id,
            &format!("configuration profile {id}"),
        )
    }

    fn profile_view(&self, p: Profile, devices: &[Device]) -> ProfileView {
        let now = self.clock.now();
        let mut counts = ProfileDevices::default();
        for d in devices {
            match standing(d, &p, now, self.settings.command_expiry) {
                Some(Standing::Applied) => counts.applied += 1,
                Some(Standing::Pending) => counts.pending += 1,
                Some(Standing::Drifted) => counts.drifted += 1,
                None => {}
            }
        }
        ProfileView {
            profile_id: p.profile_id,
            operator_id: p.operator_id.to_string(),
            name: p.name,
            model: p.model,
            version: p.version,
            settings: p.settings,
            created_at: p.created_at,
            updated_at: p.updated_at,
            devices: counts,
        }
    }

    /// The caller's profiles with their device counts.
    pub async fn list_profiles(&self, caller: &Caller) -> Result<Vec<ProfileView>, Error> {
        let mut out = Vec::new();
        for op in self.access.scope(caller).await? {
            let profiles = self.store.operator_profiles(&op).await?;
            if profiles.is_empty() {
                continue;
            }
            let devices = self.access.operator_devices(&op).await?;
            out.extend(profiles.into_iter().map(|p| self.profile_view(p, &devices)));
        }
        Ok(out)
    }

    pub async fn profile_detail(
        &self,
        caller: &Caller,
        id: ProfileId,
    ) -> Result<ProfileView, Error> {
        let p = self.visible_profile(caller, id).await?;
        let devices = self.access.operator_devices(&p.operator_id).await?;
        Ok(self.profile_view(p, &devices))
    }

    pub async fn create_profile(
        &self,
        caller: &Caller,
        draft: ProfileDraft,
    ) -> Result<ProfileView, Error> {
        caller.require(Role::Operator)?;
        let operator_id = self
            .access
            .owning_operator(caller, draft.operator_id.clone())?;
        check_draft(&draft)?;
        let now = self.clock.now();
        let profile = Profile {
            profile_id: ProfileId::time_ordered(),
            operator_id,
            name: draft.name,
            model: draft.model,
            version: 1,
            settings: draft.settings,
            created_at: now,
            updated_at: now,
        };
        let activity = self
            .feeds
            .activity(
                "profile.created",
                &profile.operator_id,
                format!("configuration profile {} created", profile.name),
            )
            .done();
        self.store.insert_profile(&profile, &activity).await?;
        Ok(self.profile_view(profile, &[]))
    }

    /// Replaces a profile's name, model and settings as its next version.
    pub async fn update_profile(
        &self,
        caller: &Caller,
        id: ProfileId,
        draft: ProfileDraft,
    ) -> Result<ProfileView, Error> {
        let current = self.visible_profile(caller, id).await?;
        caller.require(Role::Operator)?;
        if draft
            .operator_id
            .as_ref()
            .is_some_and(|op| *op != current.operator_id)
        {
            return Err(Error::invalid(
                "operator_id",
                "a profile stays with its operator",
            ));
        }
        check_draft(&draft)?;
        let next = Profile {
            name: draft.name,
            model: draft.model,
            settings: draft.settings,
            version: current.version + 1,
            updated_at: self.clock.now(),
            ..current.clone()
        };
        let activity = self
            .feeds
            .activity(
                "profile.updated",
                &next.operator_id,
                format!(
                    "configuration profile {} is now version {}",
                    next.name, next.version
                ),
            )
            .done();
        match self
            .store
            .update_profile(&next, current.version, &activity)
            .await?
        {
            kernel::storage::WriteOutcome::Written => {}
            kernel::storage::WriteOutcome::Conflict => {
                return Err(Error::Conflict(format!(
                    "configuration profile {id} changed concurrently; read it and retry"
                )));
            }
        }
        let devices = self.access.operator_devices(&next.operator_id).await?;
        Ok(self.profile_view(next, &devices))
    }

    /// The current version and settings of a profile the caller sees.
    pub(crate) async fn profile_settings(
        &self,
        caller: &Caller,
        id: ProfileId,
    ) -> Result<(u32, ChargerSettings), Error> {
        let p = self.visible_profile(caller, id).await?;
        Ok((p.version, p.settings))
    }

    /// Queues the profile's current version for each target device.
    pub async fn apply_profile(
        &self,
        caller: &Caller,
        id: ProfileId,
        target: ApplyTarget,
    ) -> Result<AppliedProfile, Error> {
        let profile = self.visible_profile(caller, id).await?;
        caller.require(Role::Operator)?;
        let (devices, field) = match target {
            ApplyTarget::Devices(ids) => {
                let mut found = self.store.get_devices(&ids).await?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let device = found
                        .iter()
                        .position(|d| d.device_id == id)
                        .map(|i| found.swap_remove(i));
                    out.push(caller.visible(
                        device,
                        |d| &d.operator_id,
                        &format!("device {id}"),
                    )?);
                }
                (out, "device_ids")
            }
            ApplyTarget::Site(site) => {
                let site = self.access.visible_site(caller, site).await?;
                if site.operator_id != profile.operator_id {
                    return Err(not_found(&format!("site {}", site.site_id)));
                }
                let members = self.access.site_members(&site).await?;
                if members.is_empty() {
                    return Err(Error::invalid("site_id", "the site has no devices"));
                }
                (members, "site_id")
            }
        };
        let mut p = Problems::default();
        for d in &devices {
            if d.operator_id != profile.operator_id {
                p.add(
                    field,
                    format!("device {} belongs to another operator", d.device_id),
                );
            } else if let Some(model) = profile.model.as_ref().filter(|m| **m != d.model) {
                p.add(
                    field,
                    format!(
                        "device {} is a {}; the profile is for {model}",
                        d.device_id, d.model
                    ),
                );
            } else if rating(&d.model).max_current_a < profile.settings.max_current_a {
                p.add(
                    field,
                    format!(
                        "device {} ({}) is rated below max_current_a {} A",
                        d.device_id, d.model, profile.settings.max_current_a
                    ),
                );
            }
        }
        p.finish()?;
        let mut commands = Vec::with_capacity(devices.len());
        for d in &devices {
            let new = NewCommand {
                connector_id: None,
                params: apply_params(&profile),
                origin: None,
            };
            let (cmd, _) = self.commands.queue_command(d, new, None).await?;
            let pending = PendingConfiguration {
                profile_id: profile.profile_id,
                version: profile.version,
                command_id: cmd.command_id,
                queued_at: cmd.created_at,
            };
            self.store
                .set_configuration_pending(d.device_id, &pending)
                .await?;
            commands.push(QueuedApply {
                device_id: d.device_id,
                command_id: cmd.command_id,
            });
        }
        Ok(AppliedProfile {
            profile_id: profile.profile_id,
            version: profile.version,
            commands,
        })
    }
}

/// Notes a configuration's outcome on its device when the device settles
/// the apply command.
pub(crate) struct ConfigurationReports {
    store: Arc<dyn ProfileStore>,
}

impl ConfigurationReports {
    pub(crate) fn new(store: Arc<dyn ProfileStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Settled for ConfigurationReports {
    /// A device answered an `apply_configuration` command: a completed one
    /// records the version it applied; any outcome ends its pending state.
    async fn settled(&self, cmd: &Command, at: DateTime<Utc>) -> Result<(), Error> {
        // An admin's hand-made command may carry no profile: nothing to record.
        let CommandParams::ApplyConfiguration(ApplyConfiguration {
            profile_id: Some(profile_id),
            version: Some(version),
            ..
        }) = &cmd.params
        else {
            return Ok(());
        };
        let (profile_id, version) = (*profile_id, *version);
        let applied = (cmd.status == CommandStatus::Completed).then_some(AppliedConfiguration {
            profile_id,
            version,
            applied_at: at,
        });
        self.store
            .settle_configuration(cmd.device_id, cmd.command_id, applied.as_ref())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(model: Option<&str>, max_current_a: f64) -> ProfileDraft {
        ProfileDraft {
            name: "Depot".into(),
            model: model.map(str::to_owned),
            settings: ChargerSettings {
                heartbeat_interval_s: 60,
                meter_interval_s: 30,
                max_current_a,
                offline_charging: true,
                free_vend: false,
            },
            operator_id: None,
        }
    }

    fn fields(r: Result<(), Error>) -> Vec<String> {
        match r {
            Err(Error::Invalid(e)) => e.into_iter().map(|f| f.field).collect(),
            Ok(()) => vec![],
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn max_current_is_bounded_by_the_models_rating() {
        assert!(fields(check_draft(&draft(Some("TP-AC22"), 32.0))).is_empty());
        assert_eq!(
            fields(check_draft(&draft(Some("TP-AC22"), 40.0))),
            ["settings.max_current_a"]
        );
        assert_eq!(
            fields(check_draft(&draft(Some("TP-DC180"), 0.5))),
            ["settings.max_current_a"]
        );
        assert!(fields(check_draft(&draft(None, 400.0))).is_empty());
    }

    #[test]
    fn a_model_outside_the_catalogue_is_refused() {
        assert_eq!(
            fields(check_draft(&draft(Some("HOMEBREW-1"), 16.0))),
            ["model"]
        );
    }

    #[test]
    fn a_device_is_applied_pending_or_drifted_against_its_profile() {
        let now: DateTime<Utc> = "2026-05-10T14:00:00Z".parse().unwrap();
        let expiry = chrono::Duration::minutes(5);
        let profile = Profile {
            profile_id: ProfileId::random(),
            operator_id: OperatorId::parse("acme").unwrap(),
            name: "p".into(),
            model: None,
            version: 2,
            settings: draft(None, 16.0).settings,
            created_at: now,
            updated_at: now,
        };
        let mut d: Device = serde_json::from_value(serde_json::json!({
            "device_id": DeviceId::random(), "sn": "S", "model": "TP-AC22",
            "manufacturer": "T", "firmware_version": "1", "secret_hash": "h",
            "revoked_before": 0, "operator_id": "acme", "site_id": null,
            "created_at": now, "last_seen": null, "reported_status": null,
            "connectors": {}, "auth_window_start": null, "firmware_update": null
        }))
        .unwrap();
        assert_eq!(standing(&d, &profile, now, expiry), None);
        d.configuration = Some(AppliedConfiguration {
            profile_id: profile.profile_id,
            version: 1,
            applied_at: now,
        });
        assert_eq!(standing(&d, &profile, now, expiry), Some(Standing::Drifted));
        d.configuration_pending = Some(PendingConfiguration {
            profile_id: profile.profile_id,
            version: 2,
            command_id: CommandId::random(),
            queued_at: now,
        });
        assert_eq!(standing(&d, &profile, now, expiry), Some(Standing::Pending));
        // Unanswered past the command's expiry: drifted again.
        assert_eq!(
            standing(&d, &profile, now + expiry, expiry),
            Some(Standing::Drifted)
        );
        d.configuration = Some(AppliedConfiguration {
            profile_id: profile.profile_id,
            version: 2,
            applied_at: now,
        });
        assert_eq!(standing(&d, &profile, now, expiry), Some(Standing::Applied));
    }
}
