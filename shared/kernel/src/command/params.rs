//! What each kind of command asks, typed: one variant per kind, parsed
//! once at the edge. On the wire and in the table a command's parameters
//! sit flat beside its `command` field (contract §5), which is exactly the
//! internally tagged form of [`CommandParams`].

use crate::ids::{CampaignId, ProfileId};
use crate::model::CommandKind;
use crate::schedule::Schedule;
use serde::{Deserialize, Serialize};

/// What a charger is asked to do, with the parameters of that kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum CommandParams {
    StartCharging(StartCharging),
    StopCharging(StopCharging),
    StartDischarging(StartDischarging),
    SetSchedule(SetSchedule),
    SetPowerLimit(SetPowerLimit),
    UpdateFirmware(UpdateFirmware),
    ApplyConfiguration(ApplyConfiguration),
    Reboot(Reboot),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StartCharging {
    /// kW; the model's rating when not asked, the site's share once queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_power: Option<f64>,
    /// Percent; 100 when not asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_soc: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StopCharging {
    /// `remote` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartDischarging {
    /// kW.
    pub discharge_power: f64,
    /// Seconds.
    pub duration: i64,
    /// Percent below which the car stops giving.
    pub min_soc: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetSchedule {
    pub schedule: Schedule,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetPowerLimit {
    pub limit_kw: f64,
    /// Seconds; none holds until changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateFirmware {
    /// Where the charger downloads the image (http or https).
    pub location: String,
    pub version: String,
    /// The campaign that sent it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<CampaignId>,
}

/// A profile's settings, sent as the profile's version. An admin's command
/// written before applies went through profiles may name no profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplyConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<ProfileId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<ChargerSettings>,
}

/// A reboot takes no parameters (any an older item carries are ignored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reboot {}

/// What a configuration profile sets on a charger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChargerSettings {
    #[cfg_attr(feature = "openapi", schema(minimum = 10, maximum = 3600))]
    pub heartbeat_interval_s: u32,
    #[cfg_attr(feature = "openapi", schema(minimum = 5, maximum = 3600))]
    pub meter_interval_s: u32,
    /// At most the model's rated current.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub max_current_a: f64,
    pub offline_charging: bool,
    pub free_vend: bool,
}

impl CommandParams {
    pub fn kind(&self) -> CommandKind {
        match self {
            Self::StartCharging(_) => CommandKind::StartCharging,
            Self::StopCharging(_) => CommandKind::StopCharging,
            Self::StartDischarging(_) => CommandKind::StartDischarging,
            Self::SetSchedule(_) => CommandKind::SetSchedule,
            Self::SetPowerLimit(_) => CommandKind::SetPowerLimit,
            Self::UpdateFirmware(_) => CommandKind::UpdateFirmware,
            Self::ApplyConfiguration(_) => CommandKind::ApplyConfiguration,
            Self::Reboot(_) => CommandKind::Reboot,
        }
    }

    /// The parameter names a kind takes, for the edge to refuse others.
    pub fn fields(kind: CommandKind) -> &'static [&'static str] {
        match kind {
            CommandKind::StartCharging => &["charge_power", "target_soc"],
            CommandKind::StopCharging => &["reason"],
            CommandKind::StartDischarging => &["discharge_power", "duration", "min_soc"],
            CommandKind::SetSchedule => &["schedule"],
            CommandKind::SetPowerLimit => &["limit_kw", "duration_s"],
            CommandKind::UpdateFirmware => &["location", "version", "campaign_id"],
            CommandKind::ApplyConfiguration => &["profile_id", "version", "settings"],
            CommandKind::Reboot => &[],
        }
    }

    /// Whether the command acts on one connector (and needs one named).
    pub fn is_for_a_connector(&self) -> bool {
        matches!(
            self,
            Self::StartCharging(_)
                | Self::StopCharging(_)
                | Self::StartDischarging(_)
                | Self::SetSchedule(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_sit_flat_beside_the_kind() {
        let start = CommandParams::StartCharging(StartCharging {
            charge_power: Some(11.0),
            target_soc: Some(80.0),
        });
        assert_eq!(
            serde_json::to_value(&start).unwrap(),
            json!({"command": "start_charging", "charge_power": 11.0, "target_soc": 80.0})
        );
        let reboot: CommandParams =
            serde_json::from_value(json!({"command": "reboot", "left": "by an old admin"}))
                .unwrap();
        assert_eq!(reboot, CommandParams::Reboot(Reboot {}));
        assert_eq!(reboot.kind(), CommandKind::Reboot);
    }

    #[test]
    fn every_kind_names_the_fields_its_variant_writes() {
        let settings = ChargerSettings {
            heartbeat_interval_s: 60,
            meter_interval_s: 30,
            max_current_a: 16.0,
            offline_charging: true,
            free_vend: false,
        };
        let schedule = serde_json::from_value(json!({"purpose": "tx_default", "kind": "relative",
            "recurrency": null, "valid_from": null, "valid_to": null, "unit": "kW",
            "periods": [{"start_offset_s": 0, "limit": 7.4}]}))
        .unwrap();
        let full = [
            CommandParams::StartCharging(StartCharging {
                charge_power: Some(7.0),
                target_soc: Some(90.0),
            }),
            CommandParams::StopCharging(StopCharging {
                reason: Some("remote".into()),
            }),
            CommandParams::StartDischarging(StartDischarging {
                discharge_power: 5.0,
                duration: 60,
                min_soc: 20.0,
            }),
            CommandParams::SetSchedule(SetSchedule { schedule }),
            CommandParams::SetPowerLimit(SetPowerLimit {
                limit_kw: 3.0,
                duration_s: Some(60),
            }),
            CommandParams::UpdateFirmware(UpdateFirmware {
                location: "https://fw.example.com/a.bin".into(),
                version: "2.0.0".into(),
                campaign_id: Some(CampaignId::time_ordered()),
            }),
            CommandParams::ApplyConfiguration(ApplyConfiguration {
                profile_id: Some(ProfileId::time_ordered()),
                version: Some(2),
                settings: Some(settings),
            }),
            CommandParams::Reboot(Reboot {}),
        ];
        for params in full {
            let serde_json::Value::Object(mut written) = serde_json::to_value(&params).unwrap()
            else {
                panic!("{params:?}")
            };
            written.remove("command");
            let names: Vec<&str> = written.keys().map(String::as_str).collect();
            let mut expected = CommandParams::fields(params.kind()).to_vec();
            expected.sort_unstable();
            assert_eq!(names, expected, "{:?}", params.kind());
        }
    }
}
