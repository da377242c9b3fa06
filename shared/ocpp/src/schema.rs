//! The official JSON schemas, compiled once, and what a violation of them
//! is called in a CALLERROR.

use crate::{ErrorCode, Version};
use boon::{Compiler, ErrorKind, SchemaIndex, Schemas, ValidationError};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Which of an action's two messages a payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Request,
    Response,
}

/// A payload that breaks its schema: the code to answer with and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub code: ErrorCode,
    pub description: String,
}

macro_rules! schemas {
    ($dir:literal, $request:literal, [$($action:literal),* $(,)?]) => {
        &[$(
            (
                $action,
                include_str!(concat!("../schemas/", $dir, "/", $action, $request, ".json")),
                include_str!(concat!("../schemas/", $dir, "/", $action, "Response.json")),
            ),
        )*]
    };
}

type Sources = &'static [(&'static str, &'static str, &'static str)];

const V16: Sources = schemas!(
    "v16",
    "",
    [
        "Authorize",
        "BootNotification",
        "ChangeConfiguration",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "Reset",
        "SetChargingProfile",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
        "UpdateFirmware",
    ]
);

const V201: Sources = schemas!(
    "v201",
    "Request",
    [
        "Authorize",
        "BootNotification",
        "CostUpdated",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "Reset",
        "SetChargingProfile",
        "SetVariables",
        "StatusNotification",
        "TransactionEvent",
        "UpdateFirmware",
    ]
);

struct Registry {
    schemas: Schemas,
    index: HashMap<(Version, &'static str, Direction), SchemaIndex>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut compiler = Compiler::new();
        // A time that is not one cannot be stored: `date-time` is checked.
        compiler.enable_format_assertions();
        let mut schemas = Schemas::new();
        let mut index = HashMap::new();
        for (version, sources) in [(Version::V16, V16), (Version::V201, V201)] {
            for (action, request, response) in sources {
                for (direction, text) in [
                    (Direction::Request, request),
                    (Direction::Response, response),
                ] {
                    let url = format!("urn:ocpp:{}:{action}:{direction:?}", version.subprotocol());
                    let json: Value =
                        serde_json::from_str(text).expect("the embedded schemas are JSON");
                    compiler
                        .add_resource(&url, json)
                        .expect("the embedded schema URLs are valid");
                    let compiled = compiler
                        .compile(&url, &mut schemas)
                        .expect("the embedded schemas compile");
                    index.insert((version, *action, direction), compiled);
                }
            }
        }
        Registry { schemas, index }
    })
}

/// Checks `payload` against `action`'s schema. An action without one here
/// is not one the platform reads or sends, which its caller handles first.
pub fn validate(
    version: Version,
    action: &str,
    direction: Direction,
    payload: &Map<String, Value>,
) -> Result<(), Violation> {
    let registry = registry();
    let Some(index) = registry.index.get(&(version, action, direction)) else {
        return Err(Violation {
            code: ErrorCode::NotImplemented,
            description: format!("{action} is not implemented"),
        });
    };
    let value = Value::Object(payload.clone());
    registry
        .schemas
        .validate(&value, *index)
        .map_err(|e| violation(&e))
}

/// The first concrete failure under boon's groups, named as the OCPP
/// reference implementation names it: a missing field is an incomplete
/// payload, an unknown one a malformed payload, a wrong type or an
/// over-long string a type violation, a value outside its set or range a
/// property violation, too many or too few items an occurrence violation.
fn violation(e: &ValidationError) -> Violation {
    let leaf = leaf(e);
    let code = match &leaf.kind {
        ErrorKind::Required { .. } => ErrorCode::ProtocolError,
        ErrorKind::AdditionalProperties { .. } | ErrorKind::FalseSchema => {
            ErrorCode::FormatViolation
        }
        ErrorKind::Type { .. } | ErrorKind::MaxLength { .. } | ErrorKind::MinLength { .. } => {
            ErrorCode::TypeConstraintViolation
        }
        ErrorKind::MinItems { .. } | ErrorKind::MaxItems { .. } | ErrorKind::UniqueItems { .. } => {
            ErrorCode::OccurrenceConstraintViolation
        }
        _ => ErrorCode::PropertyConstraintViolation,
    };
    let at = leaf.instance_location.to_string();
    Violation {
        code,
        description: format!("{}: {}", if at.is_empty() { "/" } else { &at }, leaf.kind),
    }
}

fn leaf<'a, 's, 'v>(e: &'a ValidationError<'s, 'v>) -> &'a ValidationError<'s, 'v> {
    match e.causes.first() {
        Some(cause) => leaf(cause),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(version: Version, action: &str, payload: Value) -> Result<(), ErrorCode> {
        let Value::Object(map) = payload else {
            unreachable!()
        };
        validate(version, action, Direction::Request, &map).map_err(|v| v.code)
    }

    #[test]
    fn every_embedded_schema_compiles() {
        assert_eq!(registry().index.len(), 2 * (V16.len() + V201.len()));
    }

    #[test]
    fn a_valid_boot_passes_in_both_versions() {
        let boot16 = json!({"chargePointVendor": "ACME", "chargePointModel": "AC22"});
        assert_eq!(check(Version::V16, "BootNotification", boot16), Ok(()));
        let boot201 = json!({"chargingStation": {"vendorName": "ACME", "model": "AC22"}, "reason": "PowerUp"});
        assert_eq!(check(Version::V201, "BootNotification", boot201), Ok(()));
    }

    #[test]
    fn each_kind_of_violation_has_its_code() {
        let v16 = Version::V16;
        assert_eq!(
            check(
                v16,
                "BootNotification",
                json!({"chargePointVendor": "ACME"})
            ),
            Err(ErrorCode::ProtocolError)
        );
        assert_eq!(
            check(
                v16,
                "BootNotification",
                json!({"chargePointVendor": "A", "chargePointModel": "M", "colour": "red"})
            ),
            Err(ErrorCode::FormatViolation)
        );
        assert_eq!(
            check(
                v16,
                "BootNotification",
                json!({"chargePointVendor": 5, "chargePointModel": "M"})
            ),
            Err(ErrorCode::TypeConstraintViolation)
        );
        assert_eq!(
            check(
                v16,
                "BootNotification",
                json!({"chargePointVendor": "A".repeat(21), "chargePointModel": "M"})
            ),
            Err(ErrorCode::TypeConstraintViolation)
        );
        assert_eq!(
            check(
                v16,
                "StatusNotification",
                json!({"connectorId": 1, "errorCode": "NoError", "status": "Dancing"})
            ),
            Err(ErrorCode::PropertyConstraintViolation)
        );
        assert_eq!(
            check(v16, "Heartbeat", json!({"at": 1})),
            Err(ErrorCode::FormatViolation)
        );
    }

    #[test]
    fn times_must_be_times() {
        let stop = |ts: &str| json!({"meterStop": 10, "timestamp": ts, "transactionId": 1});
        assert_eq!(
            check(
                Version::V16,
                "StopTransaction",
                stop("2026-12-06T10:00:00Z")
            ),
            Ok(())
        );
        assert_eq!(
            check(Version::V16, "StopTransaction", stop("yesterday")),
            Err(ErrorCode::PropertyConstraintViolation)
        );
    }
}
