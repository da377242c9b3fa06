//! `start_charging`, `stop_charging`, `start_discharging`,
//! `stop_discharging`: the console's commands, queued through the same
//! checks for a caller that is the partner acting as its tenant's
//! operator, idempotent on `StartChargeSeq`.

use super::Partner;
use super::Partners;
use super::outbox::{SESSION_SLACK, SessionMark};
use crate::commands::CommandParams;
use crate::commands::params::{StartCharging, StartDischarging, StopCharging};
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::{ConnectorId, DeviceId};
use kernel::model::{CommandOrigin, CommandStatus, ConnectorState, Role};
use serde::Serialize;

/// Length of a `StartChargeSeq`: the partner's 9-character id and 18 more.
pub const START_CHARGE_SEQ_LEN: usize = 27;

/// What the partner asks of a connector.
#[derive(Debug, Clone, PartialEq)]
pub enum SteerKind {
    StartCharging,
    StopCharging,
    StartDischarging {
        discharge_power: f64,
        duration: i64,
        min_soc: f64,
    },
    StopDischarging,
}

impl SteerKind {
    fn is_stop(&self) -> bool {
        matches!(self, SteerKind::StopCharging | SteerKind::StopDischarging)
    }
}

/// A steering request, checked at the edge.
#[derive(Debug, Clone, PartialEq)]
pub struct SteerRequest {
    pub start_charge_seq: String,
    /// As the partner wrote it, echoed in the answer.
    pub connector_wire_id: String,
    pub device_id: DeviceId,
    pub connector_id: ConnectorId,
    pub kind: SteerKind,
}

/// The answer of all four routes (`ConnectorID` on starts only).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SteerAnswer {
    pub start_charge_seq: String,
    /// 1 starting, 3 stopping, 5 unknown (refused).
    pub start_charge_seq_stat: u32,
    #[serde(rename = "ConnectorID", skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<String>,
    /// 0 queued, 1 refused.
    pub succ_stat: u32,
    pub fail_reason: u32,
}

/// `FailReason`s: 1 no such connector, 2 offline, 3 not charging (stops:
/// also when what runs is not the session this `StartChargeSeq` started)
/// or refused by the model's rating (starts), 4 the `StartChargeSeq` was
/// used for another request.
mod fail {
    pub const NOT_FOUND: u32 = 1;
    pub const OFFLINE: u32 = 2;
    pub const NOT_CHARGING: u32 = 3;
    pub const REFUSED: u32 = 3;
    pub const SEQ_REUSED: u32 = 4;
}

/// Whether the session running on a connector is the one this partner
/// started with this `StartChargeSeq`: its mark names both, the charger
/// accepted that start (`started`), and the connector entered its state
/// after the start was queued. A partner stops only its own session,
/// never another partner's or the console's; a start that was refused or
/// expired authorises nothing.
fn started_here(
    mark: Option<&SessionMark>,
    partner: &Partner,
    start_charge_seq: &str,
    started: bool,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> bool {
    mark.is_some_and(|m| {
        m.partner_id == partner.partner_id
            && m.start_charge_seq == start_charge_seq
            && started
            && since.is_some_and(|t| t >= m.queued_at - SESSION_SLACK)
    })
}

impl Partners {
    /// Queues the command a steering route asks for.
    pub async fn partner_steer(
        &self,
        partner: &Partner,
        req: SteerRequest,
    ) -> Result<SteerAnswer, Error> {
        if !req
            .start_charge_seq
            .starts_with(&partner.partner_operator_id)
        {
            return Err(Error::invalid(
                "StartChargeSeq",
                "must start with your OperatorID",
            ));
        }
        let stop = req.kind.is_stop();
        let answer = |reason: u32| SteerAnswer {
            start_charge_seq: req.start_charge_seq.clone(),
            start_charge_seq_stat: match (reason, stop) {
                (0, false) => 1,
                (0, true) => 3,
                _ => 5,
            },
            connector_id: (!stop).then(|| req.connector_wire_id.clone()),
            succ_stat: u32::from(reason != 0),
            fail_reason: reason,
        };
        let caller = Caller {
            client_id: partner.partner_id.to_string(),
            role: Role::Operator,
            operators: vec![partner.operator_id.clone()],
        };
        let device = match self.access.visible_device(&caller, req.device_id).await {
            Ok(device) => device,
            Err(Error::NotFound(_)) => return Ok(answer(fail::NOT_FOUND)),
            Err(e) => return Err(e),
        };
        if !device.is_online(self.clock.now(), self.settings.offline_after()) {
            return Ok(answer(fail::OFFLINE));
        }
        let state = device.connectors.get(&req.connector_id).map(|c| c.state);
        let running = match req.kind {
            SteerKind::StopCharging => Some(matches!(
                state,
                Some(ConnectorState::Charging | ConnectorState::Suspended)
            )),
            SteerKind::StopDischarging => Some(state == Some(ConnectorState::Discharging)),
            _ => None,
        };
        if running == Some(false) {
            return Ok(answer(fail::NOT_CHARGING));
        }
        if stop {
            let mark = self
                .store
                .get_session_mark(req.device_id, req.connector_id)
                .await?;
            let since = device
                .connectors
                .get(&req.connector_id)
                .and_then(|c| c.since);
            let start = match mark.as_ref().and_then(|m| m.command_id) {
                Some(id) => self.store.get_command(id).await?,
                None => None,
            };
            let started = start.is_some_and(|c| {
                matches!(c.status, CommandStatus::Accepted | CommandStatus::Completed)
            });
            if !started_here(
                mark.as_ref(),
                partner,
                &req.start_charge_seq,
                started,
                since,
            ) {
                return Ok(answer(fail::NOT_CHARGING));
            }
        }
        let command = match req.kind {
            SteerKind::StartCharging => CommandParams::StartCharging(StartCharging::default()),
            SteerKind::StopCharging | SteerKind::StopDischarging => {
                CommandParams::StopCharging(StopCharging {
                    reason: Some("partner".into()),
                })
            }
            SteerKind::StartDischarging {
                discharge_power,
                duration,
                min_soc,
            } => CommandParams::StartDischarging(StartDischarging {
                discharge_power,
                duration,
                min_soc,
            }),
        };
        // One key per session start and one per its stop: the stop carries
        // the same StartChargeSeq as the start it ends.
        let key = if stop {
            format!("{}:stop", req.start_charge_seq)
        } else {
            req.start_charge_seq.clone()
        };
        let origin = CommandOrigin {
            partner_id: partner.partner_id,
            start_charge_seq: req.start_charge_seq.clone(),
            connector: req.connector_wire_id.clone(),
        };
        let target = (req.device_id, req.connector_id);
        match self
            .commands
            .queue_connector_command_from(&caller, target, command, Some(&key), Some(origin))
            .await
        {
            Ok(queued) => {
                if !stop {
                    let mark = SessionMark {
                        device_id: req.device_id,
                        connector_id: req.connector_id,
                        partner_id: partner.partner_id,
                        start_charge_seq: req.start_charge_seq.clone(),
                        connector: req.connector_wire_id.clone(),
                        queued_at: self.clock.now(),
                        command_id: Some(queued.command_id),
                    };
                    self.store.put_session_mark(&mark).await?;
                }
                Ok(answer(0))
            }
            Err(Error::NotFound(_)) => Ok(answer(fail::NOT_FOUND)),
            Err(Error::Invalid(_)) => Ok(answer(fail::REFUSED)),
            // Offline was answered above: a conflict now is the key.
            Err(Error::Conflict(_)) => Ok(answer(fail::SEQ_REUSED)),
            Err(e) => Err(e),
        }
    }
}
