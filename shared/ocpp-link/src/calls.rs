//! The platform's orders as OCPP calls of each version, and what the
//! charger's answers to them mean for the command.

use domain::chargepoints::{Answer, ChargerOrder, Order};
use kernel::command::ChargerSettings;
use kernel::ids::CommandId;
use kernel::schedule::{Kind, Purpose, Recurrency, Schedule, Unit};
use ocpp::v16::Profile;
use ocpp::{Version, v16, v201};
use serde_json::{Map, Value};

/// One call on its way to a charger, and what its answer settles.
#[derive(Debug, Clone)]
pub struct Call {
    pub message_id: String,
    pub action: &'static str,
    pub payload: Value,
    pub command_id: CommandId,
    /// The calls its command was split into (1.6 sets one key per call).
    pub parts: u32,
}

/// A 1.6 charging profile id, or a 2.0.1 schedule id, from a command:
/// positive, and the same for the same command.
fn profile_id(command: CommandId) -> i64 {
    let bytes = command.0.as_bytes();
    i64::from(u32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) >> 4).max(1)
}

fn profile_of(schedule: &Schedule, id: i64) -> Profile {
    let (unit, scale) = match schedule.unit {
        Unit::KW => ("W", 1000.0),
        Unit::A => ("A", 1.0),
    };
    Profile {
        transaction_id: None,
        id,
        purpose: match schedule.purpose {
            Purpose::TxProfile => "TxProfile",
            Purpose::TxDefault => "TxDefaultProfile",
            Purpose::MaxProfile => "ChargePointMaxProfile",
        },
        kind: match schedule.kind {
            Kind::Absolute => "Absolute",
            Kind::Recurring => "Recurring",
            Kind::Relative => "Relative",
        },
        recurrency: schedule.recurrency.map(|r| match r {
            Recurrency::Daily => "Daily",
            Recurrency::Weekly => "Weekly",
        }),
        valid_from: schedule.valid_from,
        valid_to: schedule.valid_to,
        start: match schedule.kind {
            Kind::Relative => None,
            _ => schedule.valid_from.or_else(|| Some(chrono::Utc::now())),
        },
        duration_s: None,
        unit,
        periods: schedule
            .periods
            .iter()
            .map(|p| (p.start_offset_s, p.limit * scale))
            .collect(),
    }
}

fn power_limit(
    id: i64,
    limit_kw: f64,
    duration_s: Option<i64>,
    transaction_id: Option<&str>,
) -> Profile {
    Profile {
        id,
        purpose: match transaction_id {
            Some(_) => "TxProfile",
            None => "TxDefaultProfile",
        },
        transaction_id: transaction_id.map(str::to_owned),
        kind: "Relative",
        recurrency: None,
        valid_from: None,
        valid_to: None,
        start: None,
        duration_s,
        unit: "W",
        periods: vec![(0, limit_kw * 1000.0)],
    }
}

/// 1.6 configuration keys, and 2.0.1 (component, variable) pairs, for a
/// profile's settings. `free_vend` is the platform's own (it answers
/// Authorize); no standard key carries a current limit, which a charging
/// profile sets instead.
fn v16_keys(s: &ChargerSettings) -> Vec<(&'static str, String)> {
    vec![
        ("HeartbeatInterval", s.heartbeat_interval_s.to_string()),
        ("MeterValueSampleInterval", s.meter_interval_s.to_string()),
        ("AllowOfflineTxForUnknownId", s.offline_charging.to_string()),
    ]
}

fn v201_variables(s: &ChargerSettings) -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            "OCPPCommCtrlr",
            "HeartbeatInterval",
            s.heartbeat_interval_s.to_string(),
        ),
        (
            "SampledDataCtrlr",
            "TxUpdatedInterval",
            s.meter_interval_s.to_string(),
        ),
        (
            "AuthCtrlr",
            "OfflineTxForUnknownIdEnabled",
            s.offline_charging.to_string(),
        ),
    ]
}

/// The calls that carry `order` to a charger of `version`.
pub fn calls_for(version: Version, order: &Order) -> Result<Vec<Call>, String> {
    let connector = order.connector_id.map_or(0, |c| c.get());
    let id = profile_id(order.command_id);
    let now = chrono::Utc::now();
    let one = |action: &'static str, payload: Value| {
        Ok(vec![Call {
            message_id: order.command_id.to_string(),
            action,
            payload,
            command_id: order.command_id,
            parts: 1,
        }])
    };
    match (version, &order.order) {
        (
            Version::V16,
            ChargerOrder::Start {
                id_tag, limit_kw, ..
            },
        ) => one(
            "RemoteStartTransaction",
            v16::remote_start(connector, id_tag, limit_kw.map(|kw| (id, kw * 1000.0))),
        ),
        (
            Version::V201,
            ChargerOrder::Start {
                id_tag,
                remote_start_id,
                limit_kw,
            },
        ) => {
            let limit = limit_kw.map(|kw| Profile {
                purpose: "TxProfile",
                ..power_limit(id, kw, None, None)
            });
            one(
                "RequestStartTransaction",
                v201::request_start(connector, *remote_start_id, id_tag, limit.as_ref()),
            )
        }
        (Version::V16, ChargerOrder::Stop { transaction_id }) => {
            let tx = transaction_id
                .parse()
                .map_err(|_| format!("transaction {transaction_id} is not an OCPP 1.6 id"))?;
            one("RemoteStopTransaction", v16::remote_stop(tx))
        }
        (Version::V201, ChargerOrder::Stop { transaction_id }) => {
            one("RequestStopTransaction", v201::request_stop(transaction_id))
        }
        (_, ChargerOrder::Schedule(schedule)) => {
            let profile = profile_of(schedule, id);
            // A station-wide limit goes to connector (EVSE) 0.
            let target = if schedule.purpose == Purpose::MaxProfile {
                0
            } else {
                connector
            };
            match version {
                Version::V16 => one(
                    "SetChargingProfile",
                    v16::set_charging_profile(target, &profile),
                ),
                Version::V201 => one(
                    "SetChargingProfile",
                    v201::set_charging_profile(target, &profile),
                ),
            }
        }
        (
            _,
            ChargerOrder::PowerLimit {
                limit_kw,
                duration_s,
                transaction_id,
            },
        ) => {
            let profile = power_limit(id, *limit_kw, *duration_s, transaction_id.as_deref());
            match version {
                Version::V16 => one(
                    "SetChargingProfile",
                    v16::set_charging_profile(connector, &profile),
                ),
                Version::V201 => one(
                    "SetChargingProfile",
                    v201::set_charging_profile(connector, &profile),
                ),
            }
        }
        (Version::V16, ChargerOrder::Configure(settings)) => {
            let keys = v16_keys(settings);
            let parts = u32::try_from(keys.len()).unwrap_or(u32::MAX);
            let simple = order.command_id.0.simple().to_string();
            Ok(keys
                .into_iter()
                .enumerate()
                .map(|(i, (key, value))| Call {
                    message_id: format!("{simple}.{i}"),
                    action: "ChangeConfiguration",
                    payload: v16::change_configuration(key, &value),
                    command_id: order.command_id,
                    parts,
                })
                .collect())
        }
        (Version::V201, ChargerOrder::Configure(settings)) => one(
            "SetVariables",
            v201::set_variables(&v201_variables(settings)),
        ),
        (Version::V16, ChargerOrder::UpdateFirmware { location, .. }) => {
            one("UpdateFirmware", v16::update_firmware(location, now))
        }
        (
            Version::V201,
            ChargerOrder::UpdateFirmware {
                location,
                request_id,
            },
        ) => one(
            "UpdateFirmware",
            v201::update_firmware(*request_id, location, now),
        ),
        (Version::V16, ChargerOrder::Reset) => one("Reset", v16::reset_soft()),
        (Version::V201, ChargerOrder::Reset) => one("Reset", v201::reset_on_idle()),
    }
}

fn status(payload: &Map<String, Value>) -> &str {
    payload.get("status").and_then(Value::as_str).unwrap_or("")
}

/// What a charger's CALLRESULT to `action` says of its command (for a
/// call of several parts, of that part).
pub fn answer_of(action: &str, payload: &Map<String, Value>) -> Answer {
    let refused = |what: &str| Answer::Rejected(format!("{action}: {what}"));
    match action {
        "RemoteStartTransaction"
        | "RequestStartTransaction"
        | "RemoteStopTransaction"
        | "RequestStopTransaction" => match status(payload) {
            "Accepted" => Answer::Accepted,
            other => refused(other),
        },
        "SetChargingProfile" => match status(payload) {
            "Accepted" => Answer::Done,
            other => refused(other),
        },
        "ChangeConfiguration" => match status(payload) {
            "Accepted" | "RebootRequired" => Answer::Done,
            other => Answer::Failed(format!("{action}: {other}")),
        },
        "SetVariables" => {
            let refused: Vec<String> = payload
                .get("setVariableResult")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|r| {
                    !matches!(
                        r.get("attributeStatus").and_then(Value::as_str),
                        Some("Accepted" | "RebootRequired")
                    )
                })
                .map(|r| {
                    format!(
                        "{}: {}",
                        r.pointer("/variable/name")
                            .and_then(Value::as_str)
                            .unwrap_or("?"),
                        r.get("attributeStatus")
                            .and_then(Value::as_str)
                            .unwrap_or("?")
                    )
                })
                .collect();
            if refused.is_empty() {
                Answer::Done
            } else {
                Answer::Failed(format!("SetVariables: {}", refused.join(", ")))
            }
        }
        // 1.6 answers UpdateFirmware with nothing; the outcome comes as
        // FirmwareStatusNotification.
        "UpdateFirmware" => match payload.get("status").and_then(Value::as_str) {
            None | Some("Accepted" | "AcceptedCanceled") => Answer::Accepted,
            Some(other) => refused(other),
        },
        "Reset" => match status(payload) {
            "Accepted" | "Scheduled" => Answer::Done,
            other => refused(other),
        },
        _ => Answer::Failed(format!("an answer to {action} was not expected")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::ids::ConnectorId;
    use kernel::schedule::Period;
    use ocpp::{Direction, validate};
    use serde_json::json;

    fn orders() -> Vec<ChargerOrder> {
        let schedule = |purpose, kind, unit| {
            ChargerOrder::Schedule(Schedule {
                purpose,
                kind,
                recurrency: (kind == Kind::Recurring).then_some(Recurrency::Daily),
                valid_from: Some(chrono::Utc::now()),
                valid_to: Some(chrono::Utc::now() + chrono::Duration::hours(2)),
                unit,
                periods: vec![
                    Period {
                        start_offset_s: 0,
                        limit: 7.4,
                        discharge_limit: None,
                        setpoint: None,
                    },
                    // 3.2, not 3.3: the schema's `multipleOf 0.1` is checked
                    // in binary floating point here (3.3 / 0.1 is not whole),
                    // in decimal by the reference implementation.
                    Period {
                        start_offset_s: 3600,
                        limit: 3.24,
                        discharge_limit: None,
                        setpoint: None,
                    },
                ],
            })
        };
        vec![
            ChargerOrder::Start {
                id_tag: "ABCDEF0123456789ABCD".into(),
                remote_start_id: 77,
                limit_kw: None,
            },
            ChargerOrder::Start {
                id_tag: "ABCDEF0123456789ABCD".into(),
                remote_start_id: 77,
                limit_kw: Some(11.0),
            },
            ChargerOrder::Stop {
                transaction_id: "42".into(),
            },
            schedule(Purpose::TxDefault, Kind::Absolute, Unit::KW),
            schedule(Purpose::TxProfile, Kind::Relative, Unit::A),
            schedule(Purpose::MaxProfile, Kind::Recurring, Unit::KW),
            ChargerOrder::PowerLimit {
                limit_kw: 7.4,
                duration_s: Some(900),
                transaction_id: None,
            },
            ChargerOrder::Configure(ChargerSettings {
                heartbeat_interval_s: 120,
                meter_interval_s: 60,
                max_current_a: 16.0,
                offline_charging: true,
                free_vend: false,
            }),
            ChargerOrder::UpdateFirmware {
                location: "https://fw.example.com/2.0.0.bin".into(),
                request_id: 9,
            },
            ChargerOrder::Reset,
        ]
    }

    #[test]
    fn every_call_of_either_version_is_valid_against_its_schema() {
        for version in [Version::V16, Version::V201] {
            for order in orders() {
                let order = Order {
                    command_id: CommandId::time_ordered(),
                    connector_id: ConnectorId::new(1),
                    order,
                };
                for call in calls_for(version, &order).unwrap() {
                    let Value::Object(payload) = &call.payload else {
                        panic!("{call:?}")
                    };
                    validate(version, call.action, Direction::Request, payload).unwrap_or_else(
                        |v| panic!("{version:?} {}: {v:?}\n{}", call.action, call.payload),
                    );
                    assert!(call.message_id.len() <= 36, "{}", call.message_id);
                }
            }
        }
    }

    #[test]
    fn a_limit_on_a_running_transaction_is_its_tx_profile_in_either_version() {
        let order = Order {
            command_id: CommandId::time_ordered(),
            connector_id: ConnectorId::new(1),
            order: ChargerOrder::PowerLimit {
                limit_kw: 11.0,
                duration_s: None,
                transaction_id: Some("42".into()),
            },
        };
        for (version, profile, tx) in [
            (Version::V16, "/csChargingProfiles", json!(42)),
            (Version::V201, "/chargingProfile", json!("42")),
        ] {
            let call = calls_for(version, &order).unwrap().remove(0);
            let Value::Object(payload) = &call.payload else {
                panic!("{call:?}")
            };
            validate(version, call.action, Direction::Request, payload).unwrap();
            let p = call.payload.pointer(profile).unwrap();
            assert_eq!(p["chargingProfilePurpose"], "TxProfile", "{version:?}");
            assert_eq!(p["transactionId"], tx, "{version:?}");
        }
    }

    #[test]
    fn a_1_6_configuration_is_one_call_per_key_with_ids_of_its_own() {
        let order = Order {
            command_id: CommandId::time_ordered(),
            connector_id: None,
            order: orders().remove(7),
        };
        let calls = calls_for(Version::V16, &order).unwrap();
        assert_eq!(calls.len(), 3);
        assert!(
            calls
                .iter()
                .all(|c| c.parts == 3 && c.action == "ChangeConfiguration")
        );
        let ids: std::collections::BTreeSet<_> = calls.iter().map(|c| &c.message_id).collect();
        assert_eq!(ids.len(), 3);
        assert_eq!(
            calls[0].payload,
            json!({"key": "HeartbeatInterval", "value": "120"})
        );
    }

    #[test]
    fn answers_settle_commands_as_the_contract_says() {
        let answer = |action: &str, payload: Value| {
            let Value::Object(map) = payload else {
                unreachable!()
            };
            answer_of(action, &map)
        };
        assert_eq!(
            answer("RemoteStartTransaction", json!({"status": "Accepted"})),
            Answer::Accepted
        );
        assert!(matches!(
            answer("RequestStartTransaction", json!({"status": "Rejected"})),
            Answer::Rejected(_)
        ));
        assert_eq!(
            answer("SetChargingProfile", json!({"status": "Accepted"})),
            Answer::Done
        );
        assert_eq!(
            answer("ChangeConfiguration", json!({"status": "RebootRequired"})),
            Answer::Done
        );
        assert!(matches!(
            answer("ChangeConfiguration", json!({"status": "NotSupported"})),
            Answer::Failed(_)
        ));
        let mixed = json!({"setVariableResult": [
            {"attributeStatus": "Accepted", "component": {"name": "A"}, "variable": {"name": "x"}},
            {"attributeStatus": "Rejected", "component": {"name": "B"}, "variable": {"name": "y"}}]});
        assert!(
            matches!(answer("SetVariables", mixed), Answer::Failed(why) if why.contains("y: Rejected"))
        );
        assert_eq!(answer("UpdateFirmware", json!({})), Answer::Accepted);
        assert_eq!(
            answer("Reset", json!({"status": "Scheduled"})),
            Answer::Done
        );
        assert!(matches!(
            answer("Reset", json!({"status": "Rejected"})),
            Answer::Rejected(_)
        ));
    }
}
