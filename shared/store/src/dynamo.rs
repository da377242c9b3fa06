//! `DynamoStore`: the domain's storage port on one DynamoDB table.

use crate::errors::map_sdk;
use crate::items::{
    Attrs, IdempotencyClaim, Item, Member, SerialClaim, StoredSchedule, from_attrs, key_attrs,
    to_attrs, to_value,
};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use domain::ids::{CommandId, DeviceId, OperatorId, RecordId, SiteId};
use domain::model::{
    Activity, ChargingRecord, Client as ApiClient, Command, CommandStatus, Device, EnergyBucket,
    FirmwareProgress, Operator, RequestLogEntry, Sample, Session, Site,
};
use domain::schedule::Schedule;
use domain::store::{
    ConnectorWrite, EnergyAdd, EnergyScope, Page, RecordOutcome, SiteMember, Store, StoreError,
    StoreResult, WriteOutcome,
};
use std::time::Duration;

/// DynamoDB's limits, kept even where an emulator is more lenient.
pub const MAX_BATCH_GET: usize = 100;
pub const MAX_TRANSACTION_ITEMS: usize = 100;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Whether a single-item write failed only because its condition did.
fn condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error()
        .is_some_and(|e| e.code() == Some("ConditionalCheckFailedException"))
}

/// For a transaction cancelled by a failed condition, which items' conditions
/// failed (empty when the endpoint gave no reasons); `None` for any other
/// error, a cancellation for other reasons included.
fn cancelled_items(
    err: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>,
) -> Option<Vec<bool>> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            let failed: Vec<bool> = e
                .cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect();
            // Cancelled for another reason (a concurrent transaction,
            // throttling): not a condition, so the caller may retry.
            (failed.is_empty() || failed.contains(&true)).then_some(failed)
        }
        _ => None,
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        key: (String, String),
    ) -> StoreResult<Option<T>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(map_sdk)?;
        out.item.map(from_attrs).transpose()
    }

    fn put(&self, item: Attrs) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(internal)
    }

    /// Runs a transaction; `Conflict` when a condition failed.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> StoreResult<WriteOutcome> {
        debug_assert!(items.len() <= MAX_TRANSACTION_ITEMS);
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(WriteOutcome::Written),
            Err(e) if cancelled_items(&e).is_some() => Ok(WriteOutcome::Conflict),
            Err(e) => Err(map_sdk(e)),
        }
    }

    /// The activity line as a transaction item.
    fn activity_put(&self, activity: &Activity) -> StoreResult<TransactWriteItem> {
        let sk = format!(
            "{}#{}",
            keys::time(activity.at),
            uuid::Uuid::now_v7().simple()
        );
        let item = Item::new((keys::ACTIVITY.to_owned(), sk), activity);
        Ok(TransactWriteItem::builder()
            .put(self.put(to_attrs(&item)?)?)
            .build())
    }

    /// Every item of one key condition, all pages.
    async fn query_all<T: serde::de::DeserializeOwned>(
        &self,
        index: Option<&str>,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        newest_first: bool,
    ) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(condition)
                .scan_index_forward(!newest_first)
                .set_exclusive_start_key(start.take());
            for (name, value) in &values {
                query = query.expression_attribute_values(*name, value.clone());
            }
            let page = query.send().await.map_err(map_sdk)?;
            for item in page.items.unwrap_or_default() {
                out.push(from_attrs(item)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// An unconditional write of one item.
    async fn put_plain(&self, item: Attrs) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(())
    }

    async fn put_if_absent(&self, item: Attrs) -> StoreResult<WriteOutcome> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match out {
            Ok(_) => Ok(WriteOutcome::Written),
            Err(e) if condition_failed(&e) => Ok(WriteOutcome::Conflict),
            Err(e) => Err(map_sdk(e)),
        }
    }

    /// The device item carries no index keys: heartbeats and samples that
    /// change it then write one item, not its index copies too.
    fn device_item(device: &Device) -> StoreResult<Attrs> {
        to_attrs(&Item::new(keys::device(device.device_id), device))
    }

    /// The device's small listing item, which the indexes hold instead.
    fn member_item(device: &Device) -> StoreResult<Attrs> {
        let mut item = Item::new(
            keys::member(device.device_id),
            Member {
                device_id: device.device_id,
            },
        )
        .gsi1(
            keys::operator_devices(&device.operator_id),
            device.sn.clone(),
        );
        if let Some(site) = device.site_id {
            item = item.gsi2(keys::site_devices(site), device.device_id.to_string());
        }
        to_attrs(&item)
    }

    /// Devices of listing items, in the listing's order.
    async fn members_to_devices(&self, members: Vec<Member>) -> StoreResult<Vec<Device>> {
        let ids: Vec<DeviceId> = members.iter().map(|m| m.device_id).collect();
        let mut found = self.get_devices(&ids).await?;
        found.sort_by_key(|d| ids.iter().position(|id| *id == d.device_id));
        Ok(found)
    }

    fn command_item(command: &Command) -> StoreResult<Attrs> {
        let mut item = Item::new(keys::command(command.command_id), command);
        if command.status.is_open() {
            item = item.gsi1(
                keys::device_queue(command.device_id),
                command.command_id.to_string(),
            );
        }
        to_attrs(&item)
    }

    fn open_count_change(&self, device: DeviceId, by: i64) -> StoreResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(device))))
            .update_expression("ADD open_commands :by")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":by", n(by))
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn energy_update(&self, add: &EnergyAdd, with_max: bool) -> StoreResult<TransactWriteItem> {
        let pk = keys::energy(&add.operator_id, &add.scope);
        let mut expr = "ADD charge_energy :c, discharge_energy :d SET operator_id = :op".to_owned();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs((pk, add.bucket.clone()))))
            .expression_attribute_values(":c", n(add.charge_kwh))
            .expression_attribute_values(":d", n(add.discharge_kwh))
            .expression_attribute_values(":op", s(add.operator_id.as_str()));
        if let (true, Some(kw)) = (with_max, add.raise_max_kw) {
            expr.push_str(", max_power = :m");
            update = update
                .condition_expression("attribute_not_exists(max_power) OR max_power < :m")
                .expression_attribute_values(":m", n(kw));
        }
        let update = update.update_expression(expr).build().map_err(internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn connector_items(
        &self,
        w: &ConnectorWrite,
        raise_max: &[bool],
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(w.device_id))))
            .update_expression("SET connectors.#c = :conn, last_seen = :seen")
            .expression_attribute_names("#c", w.connector_id.to_string())
            .expression_attribute_values(":conn", to_value(&w.connector)?)
            .expression_attribute_values(":seen", to_value(&w.last_seen)?);
        // The connector as read, and the operator and site the energy is
        // attributed to, must still be what they were.
        let connector = match w.expected_version {
            None => "attribute_not_exists(connectors.#c)".to_owned(),
            Some(v) => {
                update = update.expression_attribute_values(":ver", n(v));
                "connectors.#c.version = :ver".to_owned()
            }
        };
        let site = match w.site_id {
            Some(site) => {
                update = update.expression_attribute_values(":site", s(site.to_string()));
                "site_id = :site"
            }
            None => {
                update = update.expression_attribute_values(":null", s("NULL"));
                "(attribute_not_exists(site_id) OR attribute_type(site_id, :null))"
            }
        };
        update = update
            .condition_expression(format!(
                "attribute_exists(PK) AND {connector} AND operator_id = :op AND {site}"
            ))
            .expression_attribute_values(":op", s(w.operator_id.as_str()));
        let mut items = vec![
            TransactWriteItem::builder()
                .update(update.build().map_err(internal)?)
                .build(),
        ];
        if let Some(sample) = &w.sample {
            items.push(
                TransactWriteItem::builder()
                    .put(self.put(sample_item(sample)?)?)
                    .build(),
            );
        }
        for (add, with_max) in w.energy.iter().zip(raise_max) {
            items.push(self.energy_update(add, *with_max)?);
        }
        if let Some(activity) = &w.activity {
            items.push(self.activity_put(activity)?);
        }
        Ok(items)
    }
}

/// Cursors are the last evaluated key's string attributes, hex-encoded JSON.
fn encode_cursor(key: &Attrs) -> String {
    let plain: std::collections::BTreeMap<&str, &str> = key
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.as_str(), v.as_str())))
        .collect();
    hex::encode(serde_json::to_vec(&plain).unwrap_or_default())
}

fn decode_cursor(cursor: &str) -> StoreResult<Attrs> {
    let bytes = hex::decode(cursor).map_err(|_| StoreError::InvalidCursor)?;
    let plain: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    let allowed = crate::table::key_attributes();
    if plain.is_empty() || plain.keys().any(|k| !allowed.contains(&k.as_str())) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(plain.into_iter().map(|(k, v)| (k, s(v))).collect())
}

fn sample_item(sample: &Sample) -> StoreResult<Attrs> {
    let ts = keys::time(sample.ts);
    to_attrs(&Item::new(
        keys::sample(sample.device_id, &ts, sample.connector_id),
        sample,
    ))
}

/// Retries unprocessed keys of a batch read with a short pause.
const BATCH_RETRIES: usize = 5;

#[async_trait]
impl Store for DynamoStore {
    async fn ping(&self) -> StoreResult<()> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(())
    }

    async fn ensure_operator(&self, operator: &Operator) -> StoreResult<WriteOutcome> {
        let item = Item::new(keys::operator(&operator.id), operator)
            .gsi1(keys::OPERATORS.into(), operator.id.to_string());
        self.put_if_absent(to_attrs(&item)?).await
    }

    async fn get_operator(&self, id: &OperatorId) -> StoreResult<Option<Operator>> {
        self.get(keys::operator(id)).await
    }

    async fn all_operators(&self) -> StoreResult<Vec<Operator>> {
        self.query_all(
            Some(keys::GSI1),
            "GSI1PK = :p",
            vec![(":p", s(keys::OPERATORS))],
            false,
        )
        .await
    }

    async fn insert_client(&self, client: &ApiClient) -> StoreResult<WriteOutcome> {
        let item = Item::new(keys::client(&client.client_id), client);
        self.put_if_absent(to_attrs(&item)?).await
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<ApiClient>> {
        self.get(keys::client(client_id)).await
    }

    async fn put_session(&self, token_hash: &str, session: &Session) -> StoreResult<()> {
        let item = Item::new(keys::session(token_hash), session);
        self.put_plain(to_attrs(&item)?).await
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        // Strongly consistent (as every `get`): a token is used the moment it is issued.
        self.get(keys::session(token_hash)).await
    }

    async fn insert_device(
        &self,
        device: &Device,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome> {
        let claim = Item::new(
            keys::serial(&device.sn),
            SerialClaim {
                device_id: device.device_id,
            },
        );
        let claim = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&claim)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(internal)?;
        let record = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::device_item(device)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(internal)?;
        let member = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::member_item(device)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(internal)?;
        self.transact(vec![
            TransactWriteItem::builder().put(claim).build(),
            TransactWriteItem::builder().put(record).build(),
            TransactWriteItem::builder().put(member).build(),
            self.activity_put(activity)?,
        ])
        .await
    }

    async fn device_id_by_serial(&self, sn: &str) -> StoreResult<Option<DeviceId>> {
        Ok(self
            .get::<SerialClaim>(keys::serial(sn))
            .await?
            .map(|c| c.device_id))
    }

    async fn get_device(&self, id: DeviceId) -> StoreResult<Option<Device>> {
        self.get(keys::device(id)).await
    }

    async fn get_devices(&self, ids: &[DeviceId]) -> StoreResult<Vec<Device>> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_BATCH_GET) {
            let keys: Vec<Attrs> = chunk
                .iter()
                .map(|id| key_attrs(keys::device(*id)))
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(internal)?,
            );
            let mut attempt = 0;
            while let Some(req) = request.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, req)
                    .send()
                    .await
                    .map_err(map_sdk)?;
                for item in out
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    found.push(from_attrs(item)?);
                }
                request = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
                if request.is_some() {
                    attempt += 1;
                    if attempt > BATCH_RETRIES {
                        return Err(StoreError::Unavailable(
                            "batch read kept being throttled".into(),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
            }
        }
        Ok(found)
    }

    async fn operator_devices(
        &self,
        operator: &OperatorId,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Device>> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :p")
            .expression_attribute_values(":p", s(keys::operator_devices(operator)))
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(cursor.map(decode_cursor).transpose()?)
            .send()
            .await
            .map_err(map_sdk)?;
        let members = page
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_attrs)
            .collect::<StoreResult<Vec<Member>>>()?;
        let items = self.members_to_devices(members).await?;
        let next = page
            .last_evaluated_key
            .filter(|k| !k.is_empty())
            .map(|k| encode_cursor(&k));
        Ok(Page { items, next })
    }

    async fn site_devices(&self, site: SiteId) -> StoreResult<Vec<Device>> {
        let members = self
            .query_all(
                Some(keys::GSI2),
                "GSI2PK = :p",
                vec![(":p", s(keys::site_devices(site)))],
                false,
            )
            .await?;
        self.members_to_devices(members).await
    }

    async fn rotate_secret(
        &self,
        id: DeviceId,
        old_hash: &str,
        new_hash: &str,
        revoked_before: i64,
        (model, manufacturer, firmware): (&str, &str, &str),
    ) -> StoreResult<WriteOutcome> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(id))))
            .update_expression(
                "SET secret_hash = :new, revoked_before = :rb, model = :m, manufacturer = :mf, \
                 firmware_version = :fw, auth_failures = :zero REMOVE auth_window_start",
            )
            .condition_expression("secret_hash = :old")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(old_hash))
            .expression_attribute_values(":rb", n(revoked_before))
            .expression_attribute_values(":m", s(model))
            .expression_attribute_values(":mf", s(manufacturer))
            .expression_attribute_values(":fw", s(firmware))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match out {
            Ok(_) => Ok(WriteOutcome::Written),
            Err(e) if condition_failed(&e) => Ok(WriteOutcome::Conflict),
            Err(e) => Err(map_sdk(e)),
        }
    }

    async fn note_auth_failure(
        &self,
        id: DeviceId,
        reset_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(id))))
            .condition_expression("attribute_exists(PK)");
        let req = match reset_at {
            Some(at) => req
                .update_expression("SET auth_failures = :one, auth_window_start = :at")
                .expression_attribute_values(":at", to_value(&at)?),
            None => req.update_expression("ADD auth_failures :one"),
        };
        match req.expression_attribute_values(":one", n(1)).send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(map_sdk(e)),
        }
    }

    async fn touch_device(
        &self,
        id: DeviceId,
        token_issued_ms: i64,
        now: DateTime<Utc>,
        status: Option<&str>,
    ) -> StoreResult<Option<Device>> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(id))))
            .condition_expression("attribute_exists(PK) AND revoked_before <= :issued")
            .expression_attribute_values(":now", to_value(&now)?)
            .expression_attribute_values(":issued", n(token_issued_ms));
        update = match status {
            Some(status) => update
                .update_expression("SET last_seen = :now, reported_status = :st")
                .expression_attribute_values(":st", s(status)),
            None => update.update_expression("SET last_seen = :now"),
        };
        let out = update.return_values(ReturnValue::AllNew).send().await;
        match out {
            Ok(out) => out.attributes.map(from_attrs).transpose(),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(map_sdk(e)),
        }
    }

    async fn apply_connector(&self, write: &ConnectorWrite) -> StoreResult<WriteOutcome> {
        let mut raise_max = vec![true; write.energy.len()];
        // Energy buckets sit after the device update and the sample.
        let first_bucket = 1 + usize::from(write.sample.is_some());
        loop {
            let items = self.connector_items(write, &raise_max)?;
            let err = match self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
            {
                Ok(_) => return Ok(WriteOutcome::Written),
                Err(e) => e,
            };
            let Some(failed) = cancelled_items(&err) else {
                return Err(map_sdk(err));
            };
            if failed.first().copied().unwrap_or(true) {
                return Ok(WriteOutcome::Conflict);
            }
            // Only `max_power` conditions failed: a bucket already has a higher
            // peak. Write again without raising those.
            let mut changed = false;
            for (i, raise) in raise_max.iter_mut().enumerate() {
                if *raise && failed.get(first_bucket + i).copied().unwrap_or(false) {
                    *raise = false;
                    changed = true;
                }
            }
            if !changed {
                return Ok(WriteOutcome::Conflict);
            }
        }
    }

    async fn put_sample(&self, sample: &Sample) -> StoreResult<()> {
        self.put_plain(sample_item(sample)?).await
    }

    async fn set_firmware(
        &self,
        id: DeviceId,
        progress: &FirmwareProgress,
        installed: Option<&str>,
        now: DateTime<Utc>,
        activity: Option<&Activity>,
    ) -> StoreResult<()> {
        let mut expr = "SET firmware_update = :p, last_seen = :now".to_owned();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(id))))
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":p", to_value(progress)?)
            .expression_attribute_values(":now", to_value(&now)?);
        if let Some(version) = installed {
            expr.push_str(", firmware_version = :v");
            update = update.expression_attribute_values(":v", s(version));
        }
        let update = update.update_expression(expr).build().map_err(internal)?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        if let Some(activity) = activity {
            items.push(self.activity_put(activity)?);
        }
        match self.transact(items).await? {
            WriteOutcome::Written => Ok(()),
            WriteOutcome::Conflict => Err(internal("firmware status for a missing device")),
        }
    }

    async fn put_record(
        &self,
        record: &ChargingRecord,
        activity: &Activity,
    ) -> StoreResult<RecordOutcome> {
        let item = Item::new(keys::record(record.record_id), record).gsi1(
            keys::operator_records(&record.operator_id),
            format!("{}#{}", keys::time(record.start_time), record.record_id),
        );
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&item)?))
            .condition_expression("attribute_not_exists(PK)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(internal)?;
        let out = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(self.activity_put(activity)?)
            .send()
            .await;
        let err = match out {
            Ok(_) => return Ok(RecordOutcome::Created),
            Err(e) => e,
        };
        if cancelled_items(&err).is_none() {
            return Err(map_sdk(err));
        }
        // The record exists: its stored form comes with the cancellation
        // where the endpoint returns it, else from one read.
        let returned = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(e)) => e
                .cancellation_reasons()
                .first()
                .and_then(|r| r.item().cloned()),
            _ => None,
        };
        let existing = match returned {
            Some(item) if !item.is_empty() => Some(from_attrs(item)?),
            _ => self.get_record(record.record_id).await?,
        };
        let existing =
            existing.ok_or_else(|| internal("record vanished after a conflicting put"))?;
        Ok(RecordOutcome::Exists(Box::new(existing)))
    }

    async fn operator_records(
        &self,
        operator: &OperatorId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ChargingRecord>> {
        // `~` sorts after every id, so the upper bound includes `to` itself.
        self.query_all(
            Some(keys::GSI1),
            "GSI1PK = :p AND GSI1SK BETWEEN :from AND :to",
            vec![
                (":p", s(keys::operator_records(operator))),
                (":from", s(keys::time(from))),
                (":to", s(format!("{}~", keys::time(to)))),
            ],
            true,
        )
        .await
    }

    async fn get_record(&self, id: RecordId) -> StoreResult<Option<ChargingRecord>> {
        self.get(keys::record(id)).await
    }

    async fn insert_command(
        &self,
        command: &Command,
        activity: &Activity,
        idempotency_key: Option<&str>,
    ) -> StoreResult<Option<CommandId>> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::command_item(command)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(internal)?;
        let mut items = vec![
            TransactWriteItem::builder().put(put).build(),
            self.open_count_change(command.device_id, 1)?,
            self.activity_put(activity)?,
        ];
        if let Some(key) = idempotency_key {
            let claim = Item::new(
                keys::idempotency(key),
                IdempotencyClaim {
                    command_id: command.command_id,
                    ttl: (command.created_at + chrono::Duration::hours(24)).timestamp(),
                },
            );
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_attrs(&claim)?))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .map_err(internal)?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        match self.transact(items).await? {
            WriteOutcome::Written => Ok(None),
            WriteOutcome::Conflict => {
                let first = match idempotency_key {
                    Some(key) => self.get::<IdempotencyClaim>(keys::idempotency(key)).await?,
                    None => None,
                };
                first
                    .map(|c| Some(c.command_id))
                    .ok_or_else(|| internal("command id collision or device missing"))
            }
        }
    }

    async fn put_schedule(
        &self,
        device: DeviceId,
        connector: u32,
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
        self.put_plain(to_attrs(&item)?).await
    }

    async fn device_schedules(&self, device: DeviceId) -> StoreResult<Vec<(u32, Schedule)>> {
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
        self.get(keys::command(id)).await
    }

    async fn open_commands(&self, device: DeviceId) -> StoreResult<Vec<Command>> {
        self.query_all(
            Some(keys::GSI1),
            "GSI1PK = :q",
            vec![(":q", s(keys::device_queue(device)))],
            false,
        )
        .await
    }

    async fn update_command(
        &self,
        command: &Command,
        expected: CommandStatus,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::command_item(command)?))
            // The history read is one entry shorter: a concurrent move (a
            // second redelivery, a report) since the read makes this fail.
            .condition_expression("#st = :expected AND size(history) = :read")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":expected", to_value(&expected)?)
            .expression_attribute_values(":read", n(command.history.len().saturating_sub(1)))
            .build()
            .map_err(internal)?;
        let mut items = vec![
            TransactWriteItem::builder().put(put).build(),
            self.activity_put(activity)?,
        ];
        if expected.is_open() && !command.status.is_open() {
            items.push(self.open_count_change(command.device_id, -1)?);
        }
        self.transact(items).await
    }

    async fn energy_buckets(
        &self,
        operator: &OperatorId,
        scope: &EnergyScope,
        from: &str,
        to: &str,
    ) -> StoreResult<Vec<EnergyBucket>> {
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(keys::energy(operator, scope)))
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(to))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(map_sdk)?;
            for item in page.items.unwrap_or_default() {
                out.push(serde_dynamo::from_item(item).map_err(crate::errors::codec)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    async fn log_request(&self, entry: &RequestLogEntry) -> StoreResult<()> {
        let at = keys::time(entry.at);
        let item = Item::new(keys::request_log(&at, &entry.request_id), entry);
        self.put_plain(to_attrs(&item)?).await
    }

    async fn recent_requests(
        &self,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<RequestLogEntry>> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .filter_expression("#ttl > :now")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":pk", s(keys::REQUEST_LOG))
            .expression_attribute_values(":now", n(now.timestamp()))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(map_sdk)?;
        page.items
            .unwrap_or_default()
            .into_iter()
            .map(from_attrs)
            .collect()
    }

    async fn get_site(&self, id: SiteId) -> StoreResult<Option<Site>> {
        self.get(keys::site(id)).await
    }

    async fn set_site_cap(
        &self,
        site: SiteId,
        limit_kw: f64,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::site(site))))
            .update_expression("SET flex_limit_kw = :l, flex_until = :u, updated_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":l", n(limit_kw))
            .expression_attribute_values(":u", to_value(&until)?)
            .expression_attribute_values(":now", to_value(&now)?)
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(())
    }

    async fn operator_sites(&self, operator: &OperatorId) -> StoreResult<Vec<Site>> {
        self.query_all(
            Some(keys::GSI1),
            "GSI1PK = :p",
            vec![(":p", s(keys::operator_sites(operator)))],
            false,
        )
        .await
    }

    async fn activity_since(
        &self,
        since: Option<&str>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, Activity)>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .filter_expression("#ttl > :now")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":pk", s(keys::ACTIVITY))
            .expression_attribute_values(":now", n(now.timestamp()))
            .limit(limit.clamp(1, 1000) as i32);
        // Cursors are the sort key, hex-encoded so that they travel in URLs.
        // A poll reads forward from its cursor, so a burst larger than one
        // page is read over several polls rather than skipped.
        let query = match since {
            Some(cursor) => {
                let sk = hex::decode(cursor)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or(StoreError::InvalidCursor)?;
                query
                    .key_condition_expression("PK = :pk AND SK > :since")
                    .expression_attribute_values(":since", s(sk))
                    .scan_index_forward(true)
            }
            None => query
                .key_condition_expression("PK = :pk")
                .scan_index_forward(false),
        };
        let page = query.send().await.map_err(map_sdk)?;
        let mut lines = page
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                let cursor = item
                    .get(keys::SK)
                    .and_then(|v| v.as_s().ok())
                    .map(hex::encode)
                    .unwrap_or_default();
                from_attrs(item).map(|a| (cursor, a))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        if since.is_some() {
            lines.reverse();
        }
        Ok(lines)
    }

    async fn save_site(
        &self,
        site: &Site,
        read_updated_at: Option<DateTime<Utc>>,
        members: &[SiteMember],
        activity: &Activity,
    ) -> StoreResult<WriteOutcome> {
        let item = Item::new(keys::site(site.site_id), site).gsi1(
            keys::operator_sites(&site.operator_id),
            site.site_id.to_string(),
        );
        // A new site must still be new; an existing one unchanged since read
        // (a flexibility cap set meanwhile is not overwritten) and its
        // operator's.
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&item)?));
        let put = match read_updated_at {
            None => put.condition_expression("attribute_not_exists(PK)"),
            Some(at) => put
                .condition_expression("operator_id = :op AND updated_at = :read")
                .expression_attribute_values(":op", s(site.operator_id.as_str()))
                .expression_attribute_values(":read", to_value(&at)?),
        };
        let put = put.build().map_err(internal)?;
        let mut items = vec![
            TransactWriteItem::builder().put(put).build(),
            self.activity_put(activity)?,
        ];
        for m in members {
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key_attrs(keys::device(m.device_id))))
                .update_expression("SET site_id = :site, operator_id = :op")
                .expression_attribute_values(":site", s(site.site_id.to_string()))
                .expression_attribute_values(":op", s(site.operator_id.as_str()));
            update = match m.previous_site {
                None => update
                    .condition_expression(
                        "attribute_exists(PK) AND (attribute_not_exists(site_id) OR attribute_type(site_id, :null))",
                    )
                    .expression_attribute_values(":null", s("NULL")),
                Some(prev) => update
                    .condition_expression("site_id = :prev")
                    .expression_attribute_values(":prev", s(prev.to_string())),
            };
            // The listing item moves to the site's and operator's indexes.
            let listing = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key_attrs(keys::member(m.device_id))))
                .update_expression("SET GSI1PK = :g1, GSI2PK = :g2, GSI2SK = :id")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_values(":g1", s(keys::operator_devices(&site.operator_id)))
                .expression_attribute_values(":g2", s(keys::site_devices(site.site_id)))
                .expression_attribute_values(":id", s(m.device_id.to_string()))
                .build()
                .map_err(internal)?;
            items.push(
                TransactWriteItem::builder()
                    .update(update.build().map_err(internal)?)
                    .build(),
            );
            items.push(TransactWriteItem::builder().update(listing).build());
        }
        if items.len() > MAX_TRANSACTION_ITEMS {
            return Err(internal("site registration exceeds one transaction"));
        }
        self.transact(items).await
    }
}
