//! One charger's connection: every frame it sends answered (checked
//! against the official schemas first, then mapped onto the fleet); its
//! answers to the platform's calls settle their commands (`ocpp-link`).
//! The transport (the local server's sockets, or API Gateway's WebSocket
//! API) only moves text.

use crate::inbound;
use domain::Domain;
use domain::chargepoints::Charger;
use kernel::error::Error;
use ocpp::{Direction, ErrorCode, Frame, Version, call_error, call_result, validate};
use ocpp_link::answers;

/// What the transport does after a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Send(String),
    Nothing,
    /// The charger's credentials ended (its password was rotated).
    Close(String),
}

pub struct Connection {
    pub charger: Charger,
    pub version: Version,
    pub connection_id: String,
}

impl Connection {
    pub fn new(charger: Charger, version: Version, connection_id: String) -> Self {
        Self {
            charger,
            version,
            connection_id,
        }
    }

    /// Handles one text frame from the charger.
    pub async fn on_text(&self, domain: &Domain, text: &str) -> Reply {
        let frame = match Frame::parse(text) {
            Ok(frame) => frame,
            Err(e) => return Reply::Send(call_error(self.version, &e.id, e.code, &e.description)),
        };
        match frame {
            Frame::Call {
                id,
                action,
                payload,
            } => self.on_call(domain, &id, &action, payload).await,
            Frame::Result { id, payload } => {
                answers::on_result(domain, &self.charger, self.version, &id, &payload).await;
                Reply::Nothing
            }
            Frame::Error { id, error } => {
                answers::on_error(domain, &self.charger, &id, &error.code, &error.description)
                    .await;
                Reply::Nothing
            }
        }
    }

    async fn on_call(
        &self,
        domain: &Domain,
        id: &str,
        action: &str,
        payload: serde_json::Map<String, serde_json::Value>,
    ) -> Reply {
        let refuse =
            |code: ErrorCode, why: &str| Reply::Send(call_error(self.version, id, code, why));
        if !self.version.defines(action) {
            return refuse(
                ErrorCode::NotSupported,
                &format!(
                    "{action} is not an action of {}",
                    self.version.subprotocol()
                ),
            );
        }
        if let Err(v) = validate(self.version, action, Direction::Request, &payload) {
            return refuse(v.code, &v.description);
        }
        match inbound::handle(domain, &self.charger, self.version, action, payload).await {
            Ok(answer) => {
                debug_assert!(
                    validate(
                        self.version,
                        action,
                        Direction::Response,
                        answer.as_object().unwrap_or(&serde_json::Map::new())
                    )
                    .is_ok(),
                    "the answer to {action} breaks its schema: {answer}"
                );
                Reply::Send(call_result(id, &answer))
            }
            Err(Error::Unauthorized(why)) => Reply::Close(why),
            Err(e @ (Error::Invalid(_) | Error::BadRequest { .. })) => {
                refuse(ErrorCode::PropertyConstraintViolation, &e.to_string())
            }
            // A race lost to another message of the charger's: its resend
            // will find things settled, so the charger is told to retry.
            Err(Error::Conflict(why)) => {
                tracing::info!(charge_point_id = %self.charger.charge_point_id, action, why, "OCPP message lost a race");
                refuse(ErrorCode::InternalError, "the message raced another; retry")
            }
            Err(e) => {
                tracing::warn!(charge_point_id = %self.charger.charge_point_id, action, error = %e, "OCPP message failed");
                refuse(
                    ErrorCode::InternalError,
                    "the message could not be handled; retry",
                )
            }
        }
    }
}
