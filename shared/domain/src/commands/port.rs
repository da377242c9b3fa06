//! Storage of commands: the command item, the device's open queue, the
//! idempotency claims and the schedules sent to connectors.

use super::Command;
use super::schedule::Schedule;
use crate::outbox::Delivery;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::ids::{CommandId, ConnectorId, DeviceId, OperatorId};
use kernel::model::{Activity, CommandStatus};
use kernel::storage::{StoreResult, WriteOutcome};

/// What an idempotency key claimed: the command it created and a digest of
/// the request that created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    pub key: String,
    pub request_digest: String,
}

/// The outcome of queuing a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Queued {
    Created,
    /// The idempotency key was used before: the first command and the
    /// digest of the request that made it.
    Replayed {
        command_id: CommandId,
        request_digest: String,
    },
}

#[async_trait]
pub trait CommandStore: Send + Sync {
    /// Queues a command and counts it open on its device, claiming the
    /// idempotency key in the same transaction.
    async fn insert_command(
        &self,
        command: &Command,
        activity: &Activity,
        idempotency: Option<&IdempotencyClaim>,
    ) -> StoreResult<Queued>;
    /// Remembers the schedule a `set_schedule` command carries.
    async fn put_schedule(
        &self,
        device: DeviceId,
        connector: ConnectorId,
        schedule: &Schedule,
        command: CommandId,
    ) -> StoreResult<()>;
    /// The schedules of a device's connectors, by connector.
    async fn device_schedules(&self, device: DeviceId)
    -> StoreResult<Vec<(ConnectorId, Schedule)>>;
    async fn get_command(&self, id: CommandId) -> StoreResult<Option<Command>>;
    /// An operator's commands created in `[from, to]`, oldest first.
    async fn operator_commands(
        &self,
        operator: &OperatorId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Command>>;
    /// The device's queued and delivered commands, oldest first.
    async fn open_commands(&self, device: DeviceId) -> StoreResult<Vec<Command>>;
    /// Writes `command` if its stored status is still `expected`, with the
    /// partner push it owes, if any, in the same transaction.
    async fn update_command(
        &self,
        command: &Command,
        expected: CommandStatus,
        activity: &Activity,
        push: Option<&Delivery>,
    ) -> StoreResult<WriteOutcome>;
}
