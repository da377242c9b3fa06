//! One charger's connection: every frame it sends answered (checked
//! against the official schemas first, then mapped onto the fleet), and
//! the platform's calls to it tracked until their answers settle their
//! commands. The transport (the local server's sockets, or API Gateway's
//! WebSocket API) only moves text.

use crate::calls::{Call, answer_of, calls_for};
use crate::inbound;
use domain::Domain;
use domain::chargepoints::{Answer, Charger, Order};
use kernel::error::Error;
use kernel::ids::CommandId;
use ocpp::{Direction, ErrorCode, Frame, Version, call, call_error, call_result, validate};
use std::collections::HashMap;
use std::sync::Mutex;

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
    /// Calls sent and not yet answered, by message id.
    pending: Mutex<HashMap<String, Call>>,
    /// Parts of split commands answered well so far.
    done_parts: Mutex<HashMap<CommandId, usize>>,
}

impl Connection {
    pub fn new(charger: Charger, version: Version, connection_id: String) -> Self {
        Self {
            charger,
            version,
            connection_id,
            pending: Mutex::default(),
            done_parts: Mutex::default(),
        }
    }

    /// The frames that carry `orders`, noted as waiting for answers.
    /// An order this version cannot carry fails its command.
    pub async fn send_orders(&self, domain: &Domain, orders: Vec<Order>) -> Vec<(String, String)> {
        let mut frames = Vec::new();
        for order in orders {
            match calls_for(self.version, &order) {
                Ok(calls) => {
                    let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
                    for c in calls {
                        frames.push((
                            c.message_id.clone(),
                            call(&c.message_id, c.action, &c.payload),
                        ));
                        pending.insert(c.message_id.clone(), c);
                    }
                }
                Err(why) => {
                    domain
                        .charger_answered(&self.charger, order.command_id, Answer::Failed(why))
                        .await
                }
            }
        }
        frames
    }

    /// No answer came in time: the command fails.
    pub async fn answer_overdue(&self, domain: &Domain, message_id: &str) {
        let call = self.take_pending(message_id);
        if let Some(call) = call {
            let why = format!(
                "{}: no answer within {} s",
                call.action,
                ANSWER_TIMEOUT.as_secs()
            );
            domain
                .charger_answered(&self.charger, call.command_id, Answer::Failed(why))
                .await;
        }
    }

    fn take_pending(&self, message_id: &str) -> Option<Call> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(message_id)
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
                if let Some(c) = self.take_pending(&id) {
                    let answer =
                        match validate(self.version, c.action, Direction::Response, &payload) {
                            Ok(()) => answer_of(c.action, &payload),
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
                if let Some(c) = self.take_pending(&id) {
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
    async fn settle(&self, domain: &Domain, call: &Call, answer: Answer) {
        if call.parts > 1 && answer == Answer::Done {
            let mut done = self.done_parts.lock().unwrap_or_else(|p| p.into_inner());
            let count = done.entry(call.command_id).or_default();
            *count += 1;
            if *count < call.parts {
                return;
            }
            done.remove(&call.command_id);
        }
        domain
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
