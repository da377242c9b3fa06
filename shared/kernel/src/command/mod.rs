//! A command as the platform holds it, and as devices and the console see
//! it; what each kind asks is [`params`].

pub mod params;

pub use params::{ChargerSettings, CommandParams};

use crate::ids::{CommandId, ConnectorId, DeviceId, OperatorId};
use crate::model::{CommandKind, CommandOrigin, CommandStatus, HistoryEntry};
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub command_id: CommandId,
    pub device_id: DeviceId,
    pub connector_id: Option<ConnectorId>,
    pub status: CommandStatus,
    /// What it asks: its kind and that kind's parameters.
    pub params: CommandParams,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub operator_id: OperatorId,
    pub history: Vec<HistoryEntry>,
    /// The partner platform that asked for it, if one did: its result is
    /// pushed to that partner.
    pub origin: Option<CommandOrigin>,
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        self.params.kind()
    }

    pub fn view(&self) -> CommandView {
        CommandView {
            command_id: self.command_id,
            command: self.kind(),
            device_id: self.device_id,
            connector_id: self.connector_id,
            status: self.status,
            created_at: self.created_at,
            expires_at: self.expires_at,
            params: ParamFields(self.params.clone()),
        }
    }
}

/// A command as devices and the console see it: the fixed fields, its
/// `command`, and that command's parameters flat beside them (contract §5).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandView {
    pub command_id: CommandId,
    pub command: CommandKind,
    pub device_id: DeviceId,
    pub connector_id: Option<ConnectorId>,
    pub status: CommandStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The command's parameters.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub params: ParamFields,
}

/// A command's parameters without their kind, which the view names once.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamFields(pub CommandParams);

impl Serialize for ParamFields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap};
        let serde_json::Value::Object(fields) =
            serde_json::to_value(&self.0).map_err(S::Error::custom)?
        else {
            return Err(S::Error::custom("command parameters are not a map"));
        };
        let mut map = s.serialize_map(None)?;
        for (name, value) in fields.iter().filter(|(name, _)| *name != "command") {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::params::StartCharging;
    use serde_json::json;

    #[test]
    fn a_view_shows_the_kind_and_its_parameters_beside_the_fixed_fields() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .to_utc();
        let view = CommandView {
            command_id: CommandId::time_ordered(),
            command: CommandKind::StartCharging,
            device_id: DeviceId::random(),
            connector_id: ConnectorId::new(1),
            status: CommandStatus::Queued,
            created_at: at,
            expires_at: at,
            params: ParamFields(CommandParams::StartCharging(StartCharging {
                charge_power: Some(11.0),
                target_soc: Some(100.0),
            })),
        };
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["command"], "start_charging");
        assert_eq!(json["charge_power"], json!(11.0));
        assert_eq!(json["target_soc"], json!(100.0));
        assert_eq!(json["connector_id"], json!(1));
        assert!(json.get("params").is_none(), "{json}");
    }
}
