//! The charger's answers to the platform's calls: each is matched to the
//! call it answers (kept pending in the table, so whichever process gets
//! the answer can settle it) and settles that call's command.

use crate::calls::answer_of;
use domain::Domain;
use domain::chargepoints::{Answer, Charger, PendingCall};
use ocpp::{Direction, Version, validate};
use serde_json::{Map, Value};

/// How long the platform waits for the answer to one of its calls.
pub const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The call an answer is for, no longer pending; `None` when nobody waits
/// for it (answered already, or never sent).
async fn answered(domain: &Domain, charger: &Charger, message_id: &str) -> Option<PendingCall> {
    // A notice's answer settles nothing, and costs no read.
    if message_id.starts_with(crate::line::NOTICE_PREFIX) {
        return None;
    }
    match domain
        .charge_points
        .call_answered(charger, message_id)
        .await
    {
        Ok(call) => call,
        Err(e) => {
            tracing::warn!(charge_point_id = %charger.charge_point_id, error = %e, "answer not matched");
            None
        }
    }
}

/// A CALLRESULT: checked against the action's schema, then what it says.
pub async fn on_result(
    domain: &Domain,
    charger: &Charger,
    version: Version,
    message_id: &str,
    payload: &Map<String, Value>,
) {
    if let Some(call) = answered(domain, charger, message_id).await {
        let answer = match validate(version, &call.action, Direction::Response, payload) {
            Ok(()) => answer_of(&call.action, payload),
            Err(v) => Answer::Failed(format!(
                "{}: invalid answer ({})",
                call.action, v.description
            )),
        };
        settle(domain, charger, &call, answer).await;
    }
}

/// A CALLERROR: the command fails with the charger's code and reason.
pub async fn on_error(
    domain: &Domain,
    charger: &Charger,
    message_id: &str,
    code: &str,
    description: &str,
) {
    if let Some(call) = answered(domain, charger, message_id).await {
        let why = format!("{}: CALLERROR {code} {description}", call.action);
        settle(
            domain,
            charger,
            &call,
            Answer::Failed(why.trim_end().to_owned()),
        )
        .await;
    }
}

/// No answer came in time: the command fails.
pub async fn overdue(domain: &Domain, charger: &Charger, message_id: &str) {
    if let Some(call) = answered(domain, charger, message_id).await {
        let why = format!(
            "{}: no answer within {} s",
            call.action,
            ANSWER_TIMEOUT.as_secs()
        );
        domain
            .charge_points
            .charger_answered(charger, call.command_id, Answer::Failed(why))
            .await;
    }
}

/// A split command is done when every part was; any part failing fails
/// it at once.
async fn settle(domain: &Domain, charger: &Charger, call: &PendingCall, answer: Answer) {
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
        .charger_answered(charger, call.command_id, answer)
        .await;
}
