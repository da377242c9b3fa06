//! The line: delivered commands in, OCPP frames out.

use crate::calls::calls_for;
use async_trait::async_trait;
use domain::chargepoints::{ChargePointStore, PendingCall, order_for};
use domain::commands::{ChargerLine, LineAddress, Notice, Undelivered};
use kernel::Clock;
use kernel::command::Command;
use kernel::ids::CommandId;
use ocpp::Version;
use rust_decimal::prelude::ToPrimitive;
use std::sync::Arc;

/// The start of a notice's message id: its answer is waited for by nobody.
pub const NOTICE_PREFIX: &str = "notice-";

/// The connection a frame was for is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// What moves text frames to chargers' connections.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Posts `frame`, the CALL `message_id`, on the charger's connection.
    async fn post(&self, to: &LineAddress, message_id: &str, frame: String) -> Result<(), Gone>;
    /// Closes the charger's connection.
    async fn close(&self, to: &LineAddress);
}

/// Commands' line to OCPP chargers.
pub struct OcppLine {
    store: Arc<dyn ChargePointStore>,
    clock: Arc<dyn Clock>,
    transport: Arc<dyn Transport>,
}

impl OcppLine {
    pub fn new(
        store: Arc<dyn ChargePointStore>,
        clock: Arc<dyn Clock>,
        transport: Arc<dyn Transport>,
    ) -> Self {
        Self {
            store,
            clock,
            transport,
        }
    }
}

fn lost(command_id: CommandId, reason: impl Into<String>) -> Undelivered {
    Undelivered {
        command_id,
        reason: reason.into(),
    }
}

#[async_trait]
impl ChargerLine for OcppLine {
    async fn send(&self, to: &LineAddress, commands: &[Command]) -> Vec<Undelivered> {
        let Some(version) = Version::from_subprotocol(&to.connection.protocol) else {
            let why = format!("unknown OCPP version {}", to.connection.protocol);
            return commands.iter().map(|c| lost(c.command_id, &why)).collect();
        };
        let now = self.clock.now();
        let mut undelivered = Vec::new();
        let mut frames = Vec::new();
        let mut pending = Vec::new();
        for cmd in commands {
            let calls = order_for(self.store.as_ref(), now, &to.charge_point_id, cmd)
                .await
                .and_then(|order| calls_for(version, &order));
            match calls {
                Ok(calls) => {
                    for c in calls {
                        frames.push((
                            c.command_id,
                            c.message_id.clone(),
                            ocpp::call(&c.message_id, c.action, &c.payload),
                        ));
                        pending.push(PendingCall {
                            device_id: to.device_id,
                            message_id: c.message_id,
                            action: c.action.to_owned(),
                            command_id: c.command_id,
                            parts: c.parts,
                            sent_at: now,
                        });
                    }
                }
                Err(why) => undelivered.push(lost(cmd.command_id, why)),
            }
        }
        if frames.is_empty() {
            return undelivered;
        }
        if let Err(e) = self.store.put_pending_calls(&pending).await {
            // Unnoted, their answers would settle nothing: fail them now
            // rather than leave them delivered until they expire.
            tracing::warn!(charge_point_id = %to.charge_point_id, error = %e, "calls not noted");
            undelivered.extend(
                pending
                    .iter()
                    .map(|p| lost(p.command_id, "the call could not be noted")),
            );
            undelivered.dedup_by_key(|u| u.command_id);
            return undelivered;
        }
        let mut frames = frames.into_iter();
        for (command_id, message_id, frame) in frames.by_ref() {
            if self.transport.post(to, &message_id, frame).await == Err(Gone) {
                tracing::warn!(charge_point_id = %to.charge_point_id, "call not delivered: connection gone");
                undelivered.push(lost(command_id, "the charger's connection closed"));
                break;
            }
        }
        undelivered.extend(frames.map(|(c, _, _)| lost(c, "the charger's connection closed")));
        undelivered.dedup_by_key(|u| u.command_id);
        undelivered
    }

    async fn tell(&self, to: &LineAddress, notice: &Notice) {
        // 1.6 has no message for a running cost.
        if Version::from_subprotocol(&to.connection.protocol) != Some(Version::V201) {
            return;
        }
        let (action, payload) = match notice {
            Notice::RunningCost {
                transaction_id,
                total_cost,
            } => (
                "CostUpdated",
                ocpp::v201::cost_updated(transaction_id, total_cost.to_f64().unwrap_or_default()),
            ),
        };
        let message_id = format!("{NOTICE_PREFIX}{}", self.clock.now().timestamp_micros());
        let frame = ocpp::call(&message_id, action, &payload);
        if self.transport.post(to, &message_id, frame).await == Err(Gone) {
            tracing::debug!(charge_point_id = %to.charge_point_id, "notice not delivered: connection gone");
        }
    }

    async fn close(&self, to: &LineAddress) {
        self.transport.close(to).await;
    }
}
