//! The command lifecycle: queued by the console, delivered by heartbeat or
//! long-poll, answered by the device.
//!
//! `queued -> delivered -> accepted -> completed | failed`,
//! `delivered -> rejected`, `queued | delivered -> expired`. Expiry is
//! derived from `expires_at` whenever a command is read for delivery, so no
//! scheduler has to run for it to happen.

pub mod dispatch;
mod port;

pub use kernel::command::{
    ChargerSettings, Command, CommandParams, CommandView, ParamFields, params,
};
pub use kernel::schedule;
pub use port::{CommandStore, IdempotencyClaim, Queued};

use crate::access::Access;
use crate::devices::Devices;
use crate::devices::credentials::TokenClaims;
use crate::feeds::Feeds;
use crate::outbox::Owed;
use crate::sites::Sites;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::clock::not_ahead;
use kernel::error::Error;
use kernel::ids::{CommandId, ConnectorId, DeviceId};
use kernel::model::{CommandKind, CommandStatus, Device, HistoryEntry, LiveConnection};
use kernel::storage::WriteOutcome;
use kernel::{Clock, Settings};
use std::sync::Arc;

kernel::wire_enum! {
    /// What a device may report of a command (`status` on the wire).
    pub enum Report {
        Accepted,
        Rejected,
        Completed,
        Failed,
}
}

impl From<Report> for CommandStatus {
    fn from(r: Report) -> Self {
        match r {
            Report::Accepted => Self::Accepted,
            Report::Rejected => Self::Rejected,
            Report::Completed => Self::Completed,
            Report::Failed => Self::Failed,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CommandReport {
    pub command_id: CommandId,
    pub status: Report,
    pub timestamp: DateTime<Utc>,
    pub message: Option<String>,
}

/// A command to queue for one device.
#[derive(Debug, Clone)]
pub struct NewCommand {
    pub connector_id: Option<ConnectorId>,
    pub params: CommandParams,
    pub origin: Option<kernel::model::CommandOrigin>,
}

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

/// Where a connected charger's line reaches it.
#[derive(Debug, Clone, PartialEq)]
pub struct LineAddress {
    pub charge_point_id: String,
    pub device_id: DeviceId,
    pub connection: LiveConnection,
}

impl LineAddress {
    /// The line of a charger that keeps a connection open, while it does.
    pub fn of(device: &Device, now: DateTime<Utc>) -> Option<Self> {
        match (&device.charge_point_id, &device.connection) {
            (Some(id), Some(connection)) if device.connected(now) => Some(Self {
                charge_point_id: id.clone(),
                device_id: device.device_id,
                connection: connection.clone(),
            }),
            _ => None,
        }
    }
}

/// A command that did not go out on a line, and why: it fails with that
/// reason rather than wait, delivered, for its expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct Undelivered {
    pub command_id: CommandId,
    pub reason: String,
}

/// The transport to chargers that keep a connection open (OCPP), which
/// take a command the moment it is queued. Commands hand it what they have
/// already marked delivered; it turns them into the charger's protocol and
/// sends them. Implemented at the edge; nothing it does calls back here.
#[async_trait]
pub trait ChargerLine: Send + Sync {
    /// Sends `commands` on the charger's connection; those that did not go
    /// out come back.
    async fn send(&self, to: &LineAddress, commands: &[Command]) -> Vec<Undelivered>;
    /// Tells the charger something that no command tracks; a notice that
    /// does not arrive is not sent again.
    async fn tell(&self, to: &LineAddress, notice: &Notice);
    /// Closes the charger's connection (its credentials ended).
    async fn close(&self, to: &LineAddress);
}

/// What the platform tells a charger on its line outside any command.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// A priced transaction's cost so far, incl. VAT (OCPP 2.0.1's
    /// `CostUpdated`).
    RunningCost {
        transaction_id: String,
        total_cost: rust_decimal::Decimal,
    },
}

/// What a charger can take now, which charge points know: any command
/// for a charger that polls, less for one on a line.
#[async_trait]
pub(crate) trait ChargerRules: Send + Sync {
    /// Refuses what the device's charger cannot take now (409 or 422).
    async fn can_take(
        &self,
        device: &Device,
        kind: CommandKind,
        connector: Option<ConnectorId>,
    ) -> Result<(), Error>;
}

/// What happens elsewhere when a device settles a command (completed,
/// failed, rejected): profiles note a configuration's outcome, load
/// management a power limit refused.
#[async_trait]
pub(crate) trait Settled: Send + Sync {
    async fn settled(&self, cmd: &Command, at: DateTime<Utc>) -> Result<(), Error>;
}

/// What commands are built on.
pub(crate) struct CommandParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) feeds: Feeds,
    pub(crate) access: Access,
    pub(crate) devices: Devices,
    pub(crate) sites: Sites,
    /// The interfaces commands hold to the capabilities above them.
    pub(crate) owed: Arc<dyn Owed>,
    pub(crate) rules: Arc<dyn ChargerRules>,
    pub(crate) reports: Vec<Arc<dyn Settled>>,
    /// Where this process reaches chargers' connections, if anywhere.
    pub(crate) line: Option<Arc<dyn ChargerLine>>,
}

/// Commands: queued, delivered, answered.
#[derive(Clone)]
pub struct Commands {
    store: Arc<dyn CommandStore>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    feeds: Feeds,
    access: Access,
    devices: Devices,
    sites: Sites,
    owed: Arc<dyn Owed>,
    rules: Arc<dyn ChargerRules>,
    reports: Arc<[Arc<dyn Settled>]>,
    line: Option<Arc<dyn ChargerLine>>,
}

impl Commands {
    pub(crate) fn new(store: Arc<dyn CommandStore>, parts: CommandParts) -> Self {
        Self {
            store,
            settings: parts.settings,
            clock: parts.clock,
            feeds: parts.feeds,
            access: parts.access,
            devices: parts.devices,
            sites: parts.sites,
            owed: parts.owed,
            rules: parts.rules,
            reports: parts.reports.into(),
            line: parts.line,
        }
    }

    /// Refuses what the device's charger cannot take now.
    pub(crate) async fn charger_can_take(
        &self,
        device: &Device,
        kind: CommandKind,
        connector: Option<ConnectorId>,
    ) -> Result<(), Error> {
        self.rules.can_take(device, kind, connector).await
    }

    /// Sends a charger on a line what is deliverable now: marked delivered
    /// here, then handed to the line; what did not go out fails.
    pub(crate) async fn push_to_charger(&self, device: &Device) -> Result<(), Error> {
        let (Some(line), Some(to)) = (&self.line, LineAddress::of(device, self.clock.now())) else {
            return Ok(());
        };
        let due = self.deliver(device.device_id, usize::MAX).await?;
        if due.is_empty() {
            return Ok(());
        }
        for lost in line.send(&to, &due).await {
            self.fail_command(device.device_id, lost.command_id, lost.reason)
                .await?;
        }
        Ok(())
    }

    /// Tells a charger on a line `notice`; nothing where it has none.
    pub(crate) async fn tell_charger(&self, device: &Device, notice: &Notice) {
        if let (Some(line), Some(to)) = (&self.line, LineAddress::of(device, self.clock.now())) {
            line.tell(&to, notice).await;
        }
    }

    /// Closes a charger's line (its credentials ended).
    pub(crate) async fn close_line(&self, device: &Device) {
        if let (Some(line), Some(to)) = (&self.line, LineAddress::of(device, self.clock.now())) {
            line.close(&to).await;
        }
    }
}

impl Commands {
    fn command_activity(&self, cmd: &Command, what: &str) -> kernel::model::Activity {
        let command: &str = cmd.kind().into();
        self.feeds
            .activity(
                &format!("command.{what}"),
                &cmd.operator_id,
                format!("{command} {what}"),
            )
            .with_device(cmd.device_id)
            .with_command(cmd.command_id)
            .done()
    }

    /// Queues a command for a device; checks of who may send what are the
    /// caller's. With an idempotency claim used before, nothing is queued
    /// and the first command's id and request digest come back.
    pub(crate) async fn queue_command(
        &self,
        device: &Device,
        new: NewCommand,
        idempotency: Option<&IdempotencyClaim>,
    ) -> Result<(Command, Queued), Error> {
        let now = self.clock.now();
        let cmd = Command {
            command_id: CommandId::time_ordered(),
            device_id: device.device_id,
            connector_id: new.connector_id,
            status: CommandStatus::Queued,
            params: new.params,
            created_at: now,
            expires_at: now + self.settings.command_expiry,
            delivered_at: None,
            operator_id: device.operator_id.clone(),
            history: vec![HistoryEntry {
                status: CommandStatus::Queued,
                at: now,
                message: None,
            }],
            origin: new.origin,
        };
        let activity = self.command_activity(&cmd, "queued");
        let queued = self
            .store
            .insert_command(&cmd, &activity, idempotency)
            .await?;
        if queued == Queued::Created {
            tracing::info!(command_id = %cmd.command_id, device_id = %device.device_id, "command queued");
            // An OCPP charger on its connection gets it now.
            self.push_to_charger(device).await?;
        }
        Ok((cmd, queued))
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
                let activity = self.command_activity(&expired, "expired");
                let push = self.owed.command_moved(&expired, now);
                self.store
                    .update_command(&expired, cmd.status, &activity, push.as_ref())
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
            let activity = self.command_activity(&delivered, "delivered");
            let outcome = self
                .store
                .update_command(&delivered, cmd.status, &activity, None)
                .await?;
            if outcome == WriteOutcome::Written {
                out.push(delivered);
            }
        }
        Ok(out)
    }

    /// The oldest deliverable command of a device, marked delivered: one
    /// look at its queue (a long-poll's waiting is the edge's).
    pub async fn next_command(&self, device: DeviceId) -> Result<Option<CommandView>, Error> {
        Ok(self
            .deliver(device, 1)
            .await?
            .into_iter()
            .next()
            .map(|cmd| cmd.view()))
    }

    /// The platform fails an open command of `device` (its charger answered
    /// a CALLERROR, or nothing in time); a command already settled stays.
    pub(crate) async fn fail_command(
        &self,
        device: DeviceId,
        id: CommandId,
        why: String,
    ) -> Result<(), Error> {
        let Some(cmd) = self.store.get_command(id).await?.filter(|c| {
            c.device_id == device
                && matches!(
                    c.status,
                    CommandStatus::Queued | CommandStatus::Delivered | CommandStatus::Accepted
                )
        }) else {
            return Ok(());
        };
        let now = self.clock.now();
        let failed = advance(&cmd, CommandStatus::Failed, now, Some(why));
        let activity = self.command_activity(&failed, "failed");
        let push = self.owed.command_moved(&failed, now);
        self.store
            .update_command(&failed, cmd.status, &activity, push.as_ref())
            .await?;
        Ok(())
    }

    /// A device's report on one of its commands.
    pub async fn report_command(&self, claims: TokenClaims, r: CommandReport) -> Result<(), Error> {
        let now = self.clock.now();
        not_ahead("timestamp", r.timestamp, now)?;
        let (id, to) = (r.command_id, CommandStatus::from(r.status));
        let device = self.devices.device_seen(claims).await?;
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
            let activity = self.command_activity(&expired, "expired");
            let push = self.owed.command_moved(&expired, now);
            self.store
                .update_command(&expired, cmd.status, &activity, push.as_ref())
                .await?;
            return Err(Error::Conflict(format!(
                "command {id} expired at {}",
                kernel::input::rfc3339(cmd.expires_at)
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
        let activity = self.command_activity(&next, to.as_str());
        let push = self.owed.command_moved(&next, now);
        match self
            .store
            .update_command(&next, cmd.status, &activity, push.as_ref())
            .await?
        {
            WriteOutcome::Written if to != CommandStatus::Accepted => {
                for report in self.reports.iter() {
                    report.settled(&next, now).await?;
                }
                Ok(())
            }
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
