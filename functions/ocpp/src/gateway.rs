//! One charger's connection: every frame it sends answered (checked
//! against the official schemas first, then mapped onto the fleet), and
//! the platform's calls to it tracked until their answers settle their
//! commands. The transport (the local server's sockets, or API Gateway's
//! WebSocket API) only moves text.

use crate::calls::{answer_of, calls_for};
use crate::inbound;
use domain::Domain;
use domain::chargepoints::{Answer, Charger, Order, PendingCall};
use kernel::error::Error;
use ocpp::{Direction, ErrorCode, Frame, Version, call, call_error, call_result, validate};

/// How long the platform waits for the answer to one of its calls.
pub const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

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

    /// The frames that carry `orders` (message id, text), noted in the
    /// store as waiting for their answers. An order this version cannot
    /// carry fails its command.
    pub async fn send_orders(&self, domain: &Domain, orders: Vec<Order>) -> Vec<(String, String)> {
        let mut frames = Vec::new();
        let mut pending = Vec::new();
        let now = domain.clock.now();
        for order in orders {
            match calls_for(self.version, &order) {
                Ok(calls) => {
                    for c in calls {
                        frames.push((
                            c.message_id.clone(),
                            call(&c.message_id, c.action, &c.payload),
                        ));
                        pending.push(PendingCall {
                            device_id: self.charger.device_id,
                            message_id: c.message_id,
                            action: c.action.to_owned(),
                            command_id: c.command_id,
                            parts: c.parts,
                            sent_at: now,
                        });
                    }
                }
                Err(why) => {
                    domain
                        .charge_points
                        .charger_answered(&self.charger, order.command_id, Answer::Failed(why))
                        .await
                }
            }
        }
        if let Err(e) = domain.charge_points.calls_sent(&pending).await {
            // Unnoted, their answers settle nothing: fail them now rather
            // than leave them delivered until they expire.
            tracing::warn!(charge_point_id = %self.charger.charge_point_id, error = %e, "calls not noted");
            for p in pending {
                domain
                    .charge_points
                    .charger_answered(
                        &self.charger,
                        p.command_id,
                        Answer::Failed("the call could not be noted".into()),
                    )
                    .await;
            }
            return Vec::new();
        }
        frames
    }

    /// No answer came in time: the command fails.
    pub async fn answer_overdue(&self, domain: &Domain, message_id: &str) {
        if let Ok(Some(call)) = domain
            .charge_points
            .call_answered(&self.charger, message_id)
            .await
        {
            let why = format!(
                "{}: no answer within {} s",
                call.action,
                ANSWER_TIMEOUT.as_secs()
            );
            domain
                .charge_points
                .charger_answered(&self.charger, call.command_id, Answer::Failed(why))
                .await;
        }
    }

    async fn answered(&self, domain: &Domain, message_id: &str) -> Option<PendingCall> {
        match domain
            .charge_points
            .call_answered(&self.charger, message_id)
            .await
        {
            Ok(call) => call,
            Err(e) => {
                tracing::warn!(charge_point_id = %self.charger.charge_point_id, error = %e, "answer not matched");
                None
            }
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
                if let Some(c) = self.answered(domain, &id).await {
                    let answer =
                        match validate(self.version, &c.action, Direction::Response, &payload) {
                            Ok(()) => answer_of(&c.action, &payload),
                            Err(v) => Answer::Failed(format!(
                                "{}: invalid answer ({})",
                                c.action, v.description
                            )),
                        };
                    self.settle(domain, &c, answer).await;
                }
                Reply::Nothing
            }
            Frame::Error { id, error } => {
                if let Some(c) = self.answered(domain, &id).await {
                    let why = format!(
                        "{}: CALLERROR {} {}",
                        c.action, error.code, error.description
                    );
                    self.settle(domain, &c, Answer::Failed(why.trim_end().to_owned()))
                        .await;
                }
                Reply::Nothing
            }
        }
    }

    /// A split command is done when every part was; any part failing
    /// fails it at once.
    async fn settle(&self, domain: &Domain, call: &PendingCall, answer: Answer) {
        if call.parts > 1 && answer == Answer::Done {
            match domain.charge_points.last_part_answered(call).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    tracing::warn!(command_id = %call.command_id, error = %e, "part not counted");
                    return;
                }
            }
        }
        domain
            .charge_points
            .charger_answered(&self.charger, call.command_id, answer)
            .await;
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
            Err(e @ (Error::Invalid(_) | Error::BadRequest { .. } | Error::Conflict(_))) => {
                refuse(ErrorCode::PropertyConstraintViolation, &e.to_string())
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
