//! An admin's command parameters, as they arrive flat beside `command`,
//! parsed once into the typed parameters of that kind; every problem
//! names its field.

use domain::commands::CommandParams;
use domain::commands::params::{
    ApplyConfiguration, Reboot, SetPowerLimit, SetSchedule, StartCharging, StartDischarging,
    StopCharging, UpdateFirmware,
};
use kernel::error::Error;
use kernel::input::{Problems, json_problem, plain_serde_message};
use kernel::model::CommandKind;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

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

/// Parameters only the platform sets (the campaign a firmware update
/// belongs to), never a caller.
const PLATFORM_ONLY: &[&str] = &["campaign_id"];

/// The typed parameters of `kind` from the request's other fields.
pub fn command_params(
    kind: CommandKind,
    fields: Map<String, Value>,
) -> Result<CommandParams, Error> {
    let mut p = Problems::default();
    // Parameters sit beside the fixed fields on the wire; they may not
    // shadow them.
    let reserved: Vec<&str> = fields
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
    for (name, value) in &fields {
        if let Some(problem) = json_problem(value) {
            p.add(name, problem);
        }
    }
    let known: Vec<&str> = CommandParams::fields(kind)
        .iter()
        .copied()
        .filter(|k| !PLATFORM_ONLY.contains(k))
        .collect();
    let unknown: Vec<&str> = fields
        .keys()
        .map(String::as_str)
        .filter(|k| !known.contains(k) && !RESERVED_FIELDS.contains(k))
        .collect();
    if !unknown.is_empty() {
        let kind: &str = kind.into();
        let takes = if known.is_empty() {
            "no parameters".to_owned()
        } else {
            known.join(", ")
        };
        p.add(
            "params",
            format!("{kind} takes {takes}, not {}", unknown.join(", ")),
        );
    }
    p.finish()?;
    let object = Value::Object(fields);
    Ok(match kind {
        CommandKind::StartCharging => CommandParams::StartCharging(read::<StartCharging>(object)?),
        CommandKind::StopCharging => CommandParams::StopCharging(read::<StopCharging>(object)?),
        CommandKind::StartDischarging => {
            CommandParams::StartDischarging(read::<StartDischarging>(object)?)
        }
        CommandKind::SetSchedule => CommandParams::SetSchedule(read::<SetSchedule>(object)?),
        CommandKind::SetPowerLimit => CommandParams::SetPowerLimit(read::<SetPowerLimit>(object)?),
        CommandKind::UpdateFirmware => {
            CommandParams::UpdateFirmware(read::<UpdateFirmware>(object)?)
        }
        CommandKind::ApplyConfiguration => {
            CommandParams::ApplyConfiguration(read::<ApplyConfiguration>(object)?)
        }
        CommandKind::Reboot => CommandParams::Reboot(read::<Reboot>(object)?),
    })
}

/// One kind's parameters; a problem names the field it is in (a missing
/// one included).
fn read<T: DeserializeOwned>(object: Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(object).map_err(|e| {
        let message = plain_serde_message(&e.inner().to_string());
        let path = e.path().to_string();
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        match missing {
            Some(field) => Error::invalid(field, "is required"),
            None if path != "." => Error::invalid(&path, message),
            None => Error::invalid("params", message),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Map<String, Value> {
        let Value::Object(map) = value else {
            panic!("{value}")
        };
        map
    }

    fn problem_field(kind: CommandKind, value: Value) -> String {
        match command_params(kind, fields(value)) {
            Err(Error::Invalid(e)) => e[0].field.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_problem_names_its_field() {
        assert_eq!(
            problem_field(CommandKind::UpdateFirmware, json!({"version": "2"})),
            "location"
        );
        assert_eq!(
            problem_field(CommandKind::ApplyConfiguration, json!({"profile_id": "x"})),
            "profile_id"
        );
        assert_eq!(
            problem_field(CommandKind::SetPowerLimit, json!({"limit_kw": "lots"})),
            "limit_kw"
        );
        assert_eq!(
            problem_field(CommandKind::Reboot, json!({"status": "completed"})),
            "params"
        );
        assert_eq!(
            problem_field(CommandKind::Reboot, json!({"please": true})),
            "params"
        );
        assert_eq!(
            problem_field(
                CommandKind::UpdateFirmware,
                json!({"location": "https://fw.example.com/a.bin", "version": "2",
                    "campaign_id": "0190a7a0-0000-7000-8000-000000000000"})
            ),
            "params"
        );
    }

    #[test]
    fn good_parameters_become_their_kind() {
        let params = command_params(
            CommandKind::SetPowerLimit,
            fields(json!({"limit_kw": 7.4, "duration_s": 900})),
        )
        .unwrap();
        assert_eq!(
            params,
            CommandParams::SetPowerLimit(SetPowerLimit {
                limit_kw: 7.4,
                duration_s: Some(900)
            })
        );
        let reboot = command_params(CommandKind::Reboot, Map::new()).unwrap();
        assert_eq!(reboot.kind(), CommandKind::Reboot);
    }
}
