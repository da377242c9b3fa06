//! The command lifecycle: queued by the console, delivered by heartbeat or
//! long-poll, answered by the device.
//!
//! `queued -> delivered -> accepted -> completed | failed`,
//! `delivered -> rejected`, `queued | delivered -> expired`. Expiry is
//! derived from `expires_at` whenever a command is read for delivery, so no
//! scheduler has to run for it to happen.

use crate::Domain;
use crate::credentials::TokenClaims;
use crate::error::Error;
use crate::ids::{CommandId, DeviceId};
use crate::model::{Command, CommandKind, CommandStatus, CommandView, Device, HistoryEntry};
use crate::store::WriteOutcome;
use crate::validate::Problems;
use chrono::{DateTime, Utc};
use std::time::Duration as StdDuration;

#[derive(Debug, Clone)]
pub struct CommandReport {
    pub command_id: String,
    pub status: String,
    pub timestamp: String,
    pub message: Option<String>,
}

/// `wait` of a long-poll that names none (contract: 20 s, within the cap).
const DEFAULT_WAIT_S: i64 = 20;
/// Longest pause between two looks at the queue during a long-poll.
const POLL_BACKOFF_MAX: StdDuration = StdDuration::from_millis(1000);
const POLL_BACKOFF_START: StdDuration = StdDuration::from_millis(100);

/// Whether the device may move a command from `from` to `to`.
pub fn device_may_move(from: CommandStatus, to: CommandStatus) -> bool {
    use CommandStatus::*;
    matches!(
        (from, to),
        (Delivered, Accepted | Rejected) | (Accepted, Completed | Failed)
    )
}

fn advance(
    command: &Command,
    to: CommandStatus,
    at: DateTime<Utc>,
    message: Option<String>,
) -> Command {
    let mut next = command.clone();
    next.status = to;
    next.history.push(HistoryEntry {
        status: to,
        at,
        message,
    });
    next
}

impl Domain {
    fn command_event(&self, cmd: &Command, what: &str) -> crate::model::Activity {
        let command = serde_json::to_value(cmd.command).unwrap_or_default();
        self.event(
            &format!("command.{what}"),
            &cmd.operator_id,
            format!("{} {what}", command.as_str().unwrap_or("command")),
        )
        .with_device(cmd.device_id)
        .with_command(cmd.command_id)
        .done()
    }

    /// Queues a command for a device (checks of who may send what are the
    /// caller's business; this only records it).
    pub async fn enqueue_command(
        &self,
        device: &Device,
        connector_id: Option<u32>,
        command: CommandKind,
        params: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Command, Error> {
        self.enqueue_with_key(device, connector_id, command, params, None)
            .await?
            .map_err(|_| Error::Internal("a command without a key was a duplicate".into()))
    }

    /// Queues a command unless `idempotency_key` was used before; then the
    /// first command's id comes back as the `Err`.
    pub async fn enqueue_with_key(
        &self,
        device: &Device,
        connector_id: Option<u32>,
        command: CommandKind,
        params: serde_json::Map<String, serde_json::Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Result<Command, CommandId>, Error> {
        let now = self.clock.now();
        let cmd = Command {
            command_id: CommandId::time_ordered(),
            command,
            device_id: device.device_id,
            connector_id,
            status: CommandStatus::Queued,
            params,
            created_at: now,
            expires_at: now + self.settings.command_expiry,
            delivered_at: None,
            operator_id: device.operator_id.clone(),
            history: vec![HistoryEntry {
                status: CommandStatus::Queued,
                at: now,
                message: None,
            }],
        };
        let activity = self.command_event(&cmd, "queued");
        if let Some(first) = self
            .store
            .insert_command(&cmd, &activity, idempotency_key)
            .await?
        {
            return Ok(Err(first));
        }
        tracing::info!(command_id = %cmd.command_id, device_id = %device.device_id, "command queued");
        Ok(Ok(cmd))
    }

    /// Marks up to `limit` deliverable commands delivered and returns them,
    /// oldest first; expires the ones past their time on the way.
    pub async fn deliver(&self, device: DeviceId, limit: usize) -> Result<Vec<Command>, Error> {
        let now = self.clock.now();
        let mut out = Vec::new();
        for cmd in self.store.open_commands(device).await? {
            if out.len() >= limit {
                break;
            }
            if now >= cmd.expires_at {
                let expired = advance(&cmd, CommandStatus::Expired, now, None);
                let activity = self.command_event(&expired, "expired");
                self.store
                    .update_command(&expired, cmd.status, &activity)
                    .await?;
                continue;
            }
            let due = match cmd.status {
                CommandStatus::Queued => true,
                CommandStatus::Delivered => cmd
                    .delivered_at
                    .is_none_or(|at| at + self.settings.command_redelivery <= now),
                _ => false,
            };
            if !due {
                continue;
            }
            let mut delivered = advance(&cmd, CommandStatus::Delivered, now, None);
            delivered.delivered_at = Some(now);
            let activity = self.command_event(&delivered, "delivered");
            let outcome = self
                .store
                .update_command(&delivered, cmd.status, &activity)
                .await?;
            if outcome == WriteOutcome::Written {
                out.push(delivered);
            }
        }
        Ok(out)
    }

    /// Long-poll: the oldest deliverable command, or `None` after `wait`
    /// seconds (capped by the deployment). Waiting only reads.
    pub async fn poll_command(
        &self,
        claims: TokenClaims,
        wait: Option<i64>,
    ) -> Result<Option<CommandView>, Error> {
        let cap = self.settings.long_poll_max.num_milliseconds().max(0) as u64;
        let wait_s = wait.unwrap_or(DEFAULT_WAIT_S).max(0) as u64;
        let wait_ms = wait_s.saturating_mul(1000).min(cap);
        let device = self.device_seen(claims).await?;
        let deadline = tokio::time::Instant::now() + StdDuration::from_millis(wait_ms);
        let mut pause = POLL_BACKOFF_START;
        loop {
            if let Some(cmd) = self.deliver(device.device_id, 1).await?.into_iter().next() {
                return Ok(Some(cmd.view()));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(POLL_BACKOFF_MAX);
        }
    }

    /// A device's report on one of its commands.
    pub async fn report_command(&self, claims: TokenClaims, r: CommandReport) -> Result<(), Error> {
        let now = self.clock.now();
        let mut p = Problems::default();
        p.timestamp(&r.timestamp, "timestamp", now);
        let to = match r.status.as_str() {
            "accepted" => Some(CommandStatus::Accepted),
            "rejected" => Some(CommandStatus::Rejected),
            "completed" => Some(CommandStatus::Completed),
            "failed" => Some(CommandStatus::Failed),
            _ => None,
        };
        p.check(
            to.is_some(),
            "status",
            "must be one of accepted, rejected, completed, failed",
        );
        if let Some(m) = &r.message {
            p.check(m.len() <= 512, "message", "must be at most 512 characters");
        }
        let id = CommandId::parse(&r.command_id);
        p.check(id.is_some(), "command_id", "must be a UUID");
        p.finish()?;
        let (Some(to), Some(id)) = (to, id) else {
            return Err(Error::Internal("validated report fields missing".into()));
        };
        let device = self.device_seen(claims).await?;
        let not_found = || Error::NotFound(format!("command {id} not found"));
        let cmd = self
            .store
            .get_command(id)
            .await?
            .filter(|c| c.device_id == device.device_id)
            .ok_or_else(not_found)?;
        // A report repeated (even after a later one) changes nothing.
        if cmd.history.iter().any(|h| h.status == to) {
            return Ok(());
        }
        if cmd.status.is_open() && now >= cmd.expires_at {
            let expired = advance(&cmd, CommandStatus::Expired, now, None);
            let activity = self.command_event(&expired, "expired");
            self.store
                .update_command(&expired, cmd.status, &activity)
                .await?;
            return Err(Error::Conflict(format!(
                "command {id} expired at {}",
                crate::validate::rfc3339(cmd.expires_at)
            )));
        }
        if !device_may_move(cmd.status, to) {
            return Err(Error::Conflict(format!(
                "command {id} is {} and cannot become {}",
                cmd.status.as_str(),
                to.as_str()
            )));
        }
        let next = advance(&cmd, to, now, r.message);
        let activity = self.command_event(&next, to.as_str());
        match self
            .store
            .update_command(&next, cmd.status, &activity)
            .await?
        {
            WriteOutcome::Written => Ok(()),
            WriteOutcome::Conflict => Err(Error::Conflict(format!(
                "command {id} changed concurrently; read it and retry"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CommandStatus::*;

    #[test]
    fn devices_move_commands_only_along_the_lifecycle() {
        assert!(device_may_move(Delivered, Accepted));
        assert!(device_may_move(Delivered, Rejected));
        assert!(device_may_move(Accepted, Completed));
        assert!(device_may_move(Accepted, Failed));
        assert!(!device_may_move(Queued, Accepted));
        assert!(!device_may_move(Completed, Failed));
        assert!(!device_may_move(Accepted, Rejected));
        assert!(!device_may_move(Expired, Accepted));
    }
}
