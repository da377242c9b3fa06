//! Commands: the command item (on the device's sparse queue index while
//! open), the device's open-command count, idempotency claims and the
//! schedules sent to connectors.

use crate::core::{DynamoStore, expiry, invalid_request, n, s};
use crate::items::{Item, StoredClaim, StoredSchedule, key_attrs, to_attrs, to_value};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use domain::commands::schedule::Schedule;
use domain::commands::{CommandStore, IdempotencyClaim, Queued};
use domain::partners::outbox::Delivery;
use kernel::command::{Command, ParamFields};
use kernel::ids::{CommandId, ConnectorId, DeviceId, OperatorId};
use kernel::model::{Activity, CommandKind, CommandOrigin, CommandStatus, HistoryEntry};
use kernel::storage::{StoreError, StoreResult, WriteOutcome};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A command as the table keeps it: its parameters a map beside
/// `command`, the shape its items have always had.
#[derive(Debug, Serialize, Deserialize)]
struct StoredCommand {
    command_id: CommandId,
    command: CommandKind,
    device_id: DeviceId,
    connector_id: Option<ConnectorId>,
    status: CommandStatus,
    params: Map<String, Value>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
    operator_id: OperatorId,
    history: Vec<HistoryEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin: Option<CommandOrigin>,
}

impl StoredCommand {
    fn of(command: &Command) -> StoreResult<Self> {
        // The parameters as the view shows them: beside `command`, not
        // holding it.
        let Value::Object(params) = serde_json::to_value(ParamFields(command.params.clone()))
            .map_err(|e| StoreError::internal(format!("command parameters: {e}")))?
        else {
            return Err(StoreError::internal("command parameters are not a map"));
        };
        Ok(Self {
            command_id: command.command_id,
            command: command.kind(),
            device_id: command.device_id,
            connector_id: command.connector_id,
            status: command.status,
            params,
            created_at: command.created_at,
            expires_at: command.expires_at,
            delivered_at: command.delivered_at,
            operator_id: command.operator_id.clone(),
            history: command.history.clone(),
            origin: command.origin.clone(),
        })
    }

    fn into_command(self) -> StoreResult<Command> {
        let mut fields = self.params;
        fields.insert(
            "command".into(),
            serde_json::to_value(self.command).unwrap_or_default(),
        );
        let params = serde_json::from_value(Value::Object(fields)).map_err(|e| {
            StoreError::internal(format!("command {}: parameters: {e}", self.command_id))
        })?;
        Ok(Command {
            command_id: self.command_id,
            device_id: self.device_id,
            connector_id: self.connector_id,
            status: self.status,
            params,
            created_at: self.created_at,
            expires_at: self.expires_at,
            delivered_at: self.delivered_at,
            operator_id: self.operator_id,
            history: self.history,
            origin: self.origin,
        })
    }
}

fn commands(stored: Vec<StoredCommand>) -> StoreResult<Vec<Command>> {
    stored
        .into_iter()
        .map(StoredCommand::into_command)
        .collect()
}

fn command_item(command: &StoredCommand) -> Item<&StoredCommand> {
    let mut item = Item::new(keys::command(command.command_id), command).gsi2(
        keys::operator_commands(&command.operator_id),
        format!("{}#{}", keys::time(command.created_at), command.command_id),
    );
    if command.status.is_open() {
        item = item.gsi1(
            keys::device_queue(command.device_id),
            command.command_id.to_string(),
        );
    }
    item
}

impl DynamoStore {
    fn open_count_change(&self, device: DeviceId, by: i64) -> StoreResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(device))))
            .update_expression("ADD open_commands :by")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":by", n(by))
            .build()
            .map_err(invalid_request)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

#[async_trait]
impl CommandStore for DynamoStore {
    async fn insert_command(
        &self,
        command: &Command,
        activity: &Activity,
        idempotency: Option<&IdempotencyClaim>,
    ) -> StoreResult<Queued> {
        let mut items = vec![
            self.put_new_item(&command_item(&StoredCommand::of(command)?))?,
            self.open_count_change(command.device_id, 1)?,
            self.activity_put(activity)?,
        ];
        if let Some(claim) = idempotency {
            let item = Item::new(
                keys::idempotency(&claim.key),
                StoredClaim {
                    command_id: command.command_id,
                    request_digest: claim.request_digest.clone(),
                },
            )
            .expires(expiry(command.created_at, self.retention.idempotency));
            items.push(self.put_new_item(&item)?);
        }
        if self.transact(items).await? == WriteOutcome::Written {
            return Ok(Queued::Created);
        }
        // Only a claimed key can fail the transaction: command ids are
        // fresh and the device was just read.
        let first = match idempotency {
            Some(claim) => {
                self.get::<StoredClaim>(keys::idempotency(&claim.key))
                    .await?
            }
            None => None,
        };
        first
            .map(|c| Queued::Replayed {
                command_id: c.command_id,
                request_digest: c.request_digest,
            })
            .ok_or_else(|| {
                StoreError::internal(format!(
                    "command {} refused without an idempotency claim (device gone?)",
                    command.command_id
                ))
            })
    }

    async fn put_schedule(
        &self,
        device: DeviceId,
        connector: ConnectorId,
        schedule: &Schedule,
        command: CommandId,
    ) -> StoreResult<()> {
        let item = Item::new(
            keys::schedule(device, connector),
            StoredSchedule {
                connector_id: connector,
                command_id: command,
                schedule: schedule.clone(),
            },
        );
        self.put(&item).await
    }

    async fn device_schedules(
        &self,
        device: DeviceId,
    ) -> StoreResult<Vec<(ConnectorId, Schedule)>> {
        let stored: Vec<StoredSchedule> = self
            .query_all(
                None,
                "PK = :p AND begins_with(SK, :s)",
                vec![
                    (":p", s(keys::device(device).0)),
                    (":s", s(keys::SCHEDULE_PREFIX)),
                ],
                false,
            )
            .await?;
        Ok(stored
            .into_iter()
            .map(|s| (s.connector_id, s.schedule))
            .collect())
    }

    async fn get_command(&self, id: CommandId) -> StoreResult<Option<Command>> {
        self.get::<StoredCommand>(keys::command(id))
            .await?
            .map(StoredCommand::into_command)
            .transpose()
    }

    async fn operator_commands(
        &self,
        operator: &OperatorId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Command>> {
        let stored = self
            .query_all(
                Some(keys::GSI2),
                "GSI2PK = :p AND GSI2SK BETWEEN :from AND :to",
                vec![
                    (":p", s(keys::operator_commands(operator))),
                    (":from", s(keys::time(from))),
                    (":to", s(format!("{}~", keys::time(to)))),
                ],
                false,
            )
            .await?;
        commands(stored)
    }

    async fn open_commands(&self, device: DeviceId) -> StoreResult<Vec<Command>> {
        let stored = self
            .query_all(
                Some(keys::GSI1),
                "GSI1PK = :q",
                vec![(":q", s(keys::device_queue(device)))],
                false,
            )
            .await?;
        commands(stored)
    }

    async fn update_command(
        &self,
        command: &Command,
        expected: CommandStatus,
        activity: &Activity,
        push: Option<&Delivery>,
    ) -> StoreResult<WriteOutcome> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&command_item(&StoredCommand::of(command)?))?))
            // The history read is one entry shorter: a concurrent move (a
            // second redelivery, a report) since the read makes this fail.
            .condition_expression("#st = :expected AND size(history) = :read")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":expected", to_value(&expected)?)
            .expression_attribute_values(":read", n(command.history.len().saturating_sub(1)))
            .build()
            .map_err(invalid_request)?;
        let mut items = vec![
            TransactWriteItem::builder().put(put).build(),
            self.activity_put(activity)?,
        ];
        if expected.is_open() && !command.status.is_open() {
            items.push(self.open_count_change(command.device_id, -1)?);
        }
        if let Some(push) = push {
            items.push(self.delivery_put(push)?);
        }
        self.transact(items).await
    }
}
