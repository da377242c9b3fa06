//! OCPP-J message frames: `[2, id, action, payload]` (CALL),
//! `[3, id, payload]` (CALLRESULT), `[4, id, code, description, details]`
//! (CALLERROR).

use crate::{ErrorCode, Version};
use serde_json::{Map, Value, json};

/// A frame over this size closes the connection (WebSocket 1009).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The unique id of a CALLERROR that answers a frame whose id could not be read.
const UNREADABLE_ID: &str = "-1";

/// OCPP's limit on a message's unique id.
pub const MAX_ID_CHARS: usize = 36;

#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Call {
        id: String,
        action: String,
        payload: Map<String, Value>,
    },
    Result {
        id: String,
        payload: Map<String, Value>,
    },
    Error {
        id: String,
        error: CallError,
    },
}

/// A CALLERROR's content, as a charger answered one of the platform's calls.
#[derive(Debug, Clone, PartialEq)]
pub struct CallError {
    pub code: String,
    pub description: String,
}

/// A frame the platform cannot read: answered with a CALLERROR carrying
/// `id` (`"-1"` when none could be read).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameError {
    pub id: String,
    pub code: ErrorCode,
    pub description: String,
}

impl FrameError {
    fn new(id: Option<&str>, code: ErrorCode, description: &str) -> Self {
        Self {
            id: id.unwrap_or(UNREADABLE_ID).to_owned(),
            code,
            description: description.to_owned(),
        }
    }
}

impl Frame {
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        let value: Value = serde_json::from_str(text).map_err(|_| {
            FrameError::new(None, ErrorCode::FormatViolation, "the frame is not JSON")
        })?;
        let Value::Array(parts) = value else {
            return Err(FrameError::new(
                None,
                ErrorCode::ProtocolError,
                "an OCPP message is a JSON array",
            ));
        };
        // An id over OCPP's limit is refused and never echoed back.
        let id = parts
            .get(1)
            .and_then(Value::as_str)
            .filter(|id| id.chars().count() <= MAX_ID_CHARS);
        if id.is_none() && parts.get(1).is_some_and(Value::is_string) {
            return Err(FrameError::new(
                None,
                ErrorCode::ProtocolError,
                "the unique id is longer than 36 characters",
            ));
        }
        let protocol = |what: &str| FrameError::new(id, ErrorCode::ProtocolError, what);
        let id_owned = || {
            id.map(str::to_owned)
                .ok_or_else(|| protocol("the message has no unique id string"))
        };
        match parts.first().and_then(Value::as_u64) {
            Some(2) => {
                let [_, _, Value::String(action), payload] = parts.as_slice() else {
                    return Err(protocol("a CALL is [2, id, action, payload]"));
                };
                let id = id_owned()?;
                let Value::Object(payload) = payload else {
                    return Err(FrameError::new(
                        Some(&id),
                        ErrorCode::FormatViolation,
                        "a CALL's payload is a JSON object",
                    ));
                };
                Ok(Self::Call {
                    id,
                    action: action.clone(),
                    payload: payload.clone(),
                })
            }
            Some(3) => match parts.as_slice() {
                [_, _, Value::Object(payload)] => Ok(Self::Result {
                    id: id_owned()?,
                    payload: payload.clone(),
                }),
                _ => Err(protocol("a CALLRESULT is [3, id, payload]")),
            },
            Some(4) => match parts.as_slice() {
                [_, _, Value::String(code), Value::String(description), ..] => Ok(Self::Error {
                    id: id_owned()?,
                    error: CallError {
                        code: code.clone(),
                        description: description.clone(),
                    },
                }),
                _ => Err(protocol(
                    "a CALLERROR is [4, id, code, description, details]",
                )),
            },
            _ => Err(protocol("the message type is not 2, 3 or 4")),
        }
    }
}

pub fn call(id: &str, action: &str, payload: &Value) -> String {
    json!([2, id, action, payload]).to_string()
}

pub fn call_result(id: &str, payload: &Value) -> String {
    json!([3, id, payload]).to_string()
}

pub fn call_error(version: Version, id: &str, code: ErrorCode, description: &str) -> String {
    json!([4, id, code.as_str(version), description, {}]).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> (String, ErrorCode) {
        let e = Frame::parse(text).unwrap_err();
        (e.id, e.code)
    }

    #[test]
    fn calls_results_and_errors_are_read() {
        assert_eq!(
            Frame::parse(r#"[2,"a1","Heartbeat",{}]"#).unwrap(),
            Frame::Call {
                id: "a1".into(),
                action: "Heartbeat".into(),
                payload: Map::new()
            }
        );
        assert!(matches!(
            Frame::parse(r#"[3,"a1",{"status":"Accepted"}]"#).unwrap(),
            Frame::Result { id, .. } if id == "a1"
        ));
        assert!(matches!(
            Frame::parse(r#"[4,"a1","NotSupported","no",{}]"#).unwrap(),
            Frame::Error { error, .. } if error.code == "NotSupported"
        ));
    }

    #[test]
    fn unreadable_frames_name_the_right_code_and_id() {
        assert_eq!(refused("{nope"), ("-1".into(), ErrorCode::FormatViolation));
        assert_eq!(
            refused(r#"{"a":1}"#),
            ("-1".into(), ErrorCode::ProtocolError)
        );
        assert_eq!(
            refused(r#"[2,"x7","Heartbeat"]"#),
            ("x7".into(), ErrorCode::ProtocolError)
        );
        assert_eq!(
            refused(r#"[9,"x8",{}]"#),
            ("x8".into(), ErrorCode::ProtocolError)
        );
        assert_eq!(
            refused(r#"[2,5,"Heartbeat",{}]"#),
            ("-1".into(), ErrorCode::ProtocolError)
        );
        assert_eq!(
            refused(r#"[2,"x9","Heartbeat",[]]"#),
            ("x9".into(), ErrorCode::FormatViolation)
        );
        let long = "a".repeat(37);
        assert_eq!(
            refused(&format!(r#"[2,"{long}","Heartbeat",{{}}]"#)),
            ("-1".into(), ErrorCode::ProtocolError),
            "an id over 36 characters is refused, not echoed"
        );
        let most = "b".repeat(36);
        assert!(Frame::parse(&format!(r#"[2,"{most}","Heartbeat",{{}}]"#)).is_ok());
    }

    #[test]
    fn errors_are_spelt_per_version() {
        let v16 = call_error(Version::V16, "1", ErrorCode::FormatViolation, "bad");
        let v201 = call_error(Version::V201, "1", ErrorCode::FormatViolation, "bad");
        assert_eq!(v16, r#"[4,"1","FormationViolation","bad",{}]"#);
        assert_eq!(v201, r#"[4,"1","FormatViolation","bad",{}]"#);
    }
}
