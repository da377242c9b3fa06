//! `DynamoStore` and the few primitives every adapter file is built on:
//! read one item, write one item, write only if new, run a transaction,
//! query every page, and the one mapping of a failed condition.

use crate::errors::map_sdk;
use crate::items::{Attrs, Item, from_attrs, key_attrs, to_attrs};
use crate::keys;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, PutRequest, TransactWriteItem, WriteRequest};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use chrono::{DateTime, Duration, Utc};
use kernel::model::Activity;
use kernel::storage::{Retention, StoreError, StoreResult, WriteOutcome};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// DynamoDB's limits, kept even where an emulator is more lenient.
pub const MAX_BATCH_GET: usize = 100;
pub const MAX_TRANSACTION_ITEMS: usize = 100;
pub const MAX_BATCH_WRITE: usize = 25;
/// Unprocessed items of a batch write are retried this often, with a pause.
const BATCH_RETRIES: u32 = 5;
/// A transaction that lost to a concurrent one on a busy item is tried
/// again this often, after a short jittered pause.
const CONTENDED_RETRIES: u32 = 6;
/// Cancellation codes of a transaction that met another one in flight.
const CONTENTION_CODES: &[&str] = &[
    "TransactionCanceledException",
    "TransactionConflictException",
    "TransactionInProgressException",
];

/// The storage ports on one DynamoDB table.
#[derive(Clone)]
pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) table: String,
    pub(crate) retention: Retention,
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A request the SDK refused to build: a bug here, not the store's state.
pub(crate) fn invalid_request(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::internal(e)
}

/// A write's result, with a failed condition as `None` rather than an error.
pub(crate) fn unless_condition_failed<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
) -> StoreResult<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.code() == Some("ConditionalCheckFailedException")) =>
        {
            Ok(None)
        }
        Err(e) => Err(map_sdk(e)),
    }
}

/// For a transaction cancelled by a failed condition, which items' conditions
/// failed (empty when the endpoint gave no reasons); `None` for any other
/// error, a cancellation for other reasons included.
pub(crate) fn cancelled_items(
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

/// Epoch seconds at which DynamoDB TTL may delete an item.
pub(crate) fn expiry(at: DateTime<Utc>, kept: Duration) -> i64 {
    (at + kept).timestamp()
}

impl DynamoStore {
    /// A store on `table` with the default retention of time series.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            retention: Retention::default(),
        }
    }

    /// How long samples, activity and the request log are kept.
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One item by key, strongly consistent.
    pub(crate) async fn get<T: DeserializeOwned>(
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

    /// One raw item by key, strongly consistent.
    pub(crate) async fn get_attrs(&self, key: (String, String)) -> StoreResult<Option<Attrs>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(out.item)
    }

    /// An unconditional write of one item.
    pub(crate) async fn put<T: Serialize>(&self, item: &Item<T>) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attrs(item)?))
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(())
    }

    /// Writes one item unless its key exists; `Conflict` when it does.
    pub(crate) async fn put_new<T: Serialize>(&self, item: &Item<T>) -> StoreResult<WriteOutcome> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attrs(item)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        Ok(match unless_condition_failed(out)? {
            Some(_) => WriteOutcome::Written,
            None => WriteOutcome::Conflict,
        })
    }

    /// Unconditional writes of many items, 25 to a batch.
    pub(crate) async fn put_all<T: Serialize>(&self, items: &[Item<T>]) -> StoreResult<()> {
        for chunk in items.chunks(MAX_BATCH_WRITE) {
            let mut requests = chunk
                .iter()
                .map(|item| {
                    let put = PutRequest::builder()
                        .set_item(Some(to_attrs(item)?))
                        .build()
                        .map_err(invalid_request)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<StoreResult<Vec<_>>>()?;
            let mut attempt = 0;
            loop {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(map_sdk)?;
                let left = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|r| !r.is_empty());
                let Some(left) = left else { break };
                attempt += 1;
                if attempt > BATCH_RETRIES {
                    return Err(StoreError::Unavailable(
                        "batch write kept being throttled".into(),
                    ));
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                requests = left;
            }
        }
        Ok(())
    }

    /// A put for a transaction, unconditional.
    pub(crate) fn put_item<T: Serialize>(&self, item: &Item<T>) -> StoreResult<Put> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(item)?))
            .build()
            .map_err(invalid_request)
    }

    /// A transaction item that writes `item` only if its key is new.
    pub(crate) fn put_new_item<T: Serialize>(
        &self,
        item: &Item<T>,
    ) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(item)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(invalid_request)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Runs a transaction; `Conflict` when a condition failed.
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> StoreResult<WriteOutcome> {
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

    /// Runs a transaction on an item many requests write at once (a
    /// campaign's counters): one cancelled by a concurrent transaction
    /// rather than by a condition is tried again after a jittered pause,
    /// so the contention never reaches the caller as a 503.
    pub(crate) async fn transact_contended(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> StoreResult<WriteOutcome> {
        let mut attempt = 0;
        loop {
            let out = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let err = match out {
                Ok(_) => return Ok(WriteOutcome::Written),
                Err(e) if cancelled_items(&e).is_some() => return Ok(WriteOutcome::Conflict),
                Err(e) => e,
            };
            let contended = err
                .as_service_error()
                .and_then(|e| e.code())
                .is_some_and(|code| CONTENTION_CODES.contains(&code));
            if !contended || attempt >= CONTENDED_RETRIES {
                return Err(map_sdk(err));
            }
            attempt += 1;
            let pause = fastrand::u64(10..=(25u64 << attempt));
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
    }

    /// The activity line as a transaction item.
    pub(crate) fn activity_put(&self, activity: &Activity) -> StoreResult<TransactWriteItem> {
        let sk = format!(
            "{}#{}",
            keys::time(activity.at),
            uuid::Uuid::now_v7().simple()
        );
        let item = Item::new((keys::ACTIVITY.to_owned(), sk), activity)
            .expires(expiry(activity.at, self.retention.activity));
        Ok(TransactWriteItem::builder()
            .put(self.put_item(&item)?)
            .build())
    }

    /// Every item of one key condition, all pages.
    pub(crate) async fn query_all<T: DeserializeOwned>(
        &self,
        index: Option<&str>,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        newest_first: bool,
    ) -> StoreResult<Vec<T>> {
        self.query_items(index, condition, values, newest_first)
            .await?
            .into_iter()
            .map(from_attrs)
            .collect()
    }

    /// Every raw item of one key condition, all pages.
    pub(crate) async fn query_items(
        &self,
        index: Option<&str>,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        newest_first: bool,
    ) -> StoreResult<Vec<Attrs>> {
        self.query_up_to(index, condition, &values, newest_first, usize::MAX)
            .await
    }

    /// The first `limit` raw items of one key condition on an index, in
    /// key order, reading no further than they end.
    pub(crate) async fn query_first(
        &self,
        index: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        limit: usize,
    ) -> StoreResult<Vec<Attrs>> {
        self.query_up_to(Some(index), condition, &values, false, limit)
            .await
    }

    /// Pages of one key condition until `limit` items; each page asks only
    /// for what is still missing.
    async fn query_up_to(
        &self,
        index: Option<&str>,
        condition: &str,
        values: &[(&str, AttributeValue)],
        newest_first: bool,
        limit: usize,
    ) -> StoreResult<Vec<Attrs>> {
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        while out.len() < limit {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(condition)
                .scan_index_forward(!newest_first)
                .set_limit(i32::try_from(limit - out.len()).ok())
                .set_exclusive_start_key(start.take());
            for (name, value) in values {
                query = query.expression_attribute_values(*name, value.clone());
            }
            let page = query.send().await.map_err(map_sdk)?;
            out.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }
}

/// Cursors are the last evaluated key's string attributes, hex-encoded JSON.
pub(crate) fn encode_cursor(key: &Attrs) -> String {
    let plain: std::collections::BTreeMap<&str, &str> = key
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.as_str(), v.as_str())))
        .collect();
    hex::encode(serde_json::to_vec(&plain).unwrap_or_default())
}

pub(crate) fn decode_cursor(cursor: &str) -> StoreResult<Attrs> {
    let bytes = hex::decode(cursor).map_err(|_| StoreError::InvalidCursor)?;
    let plain: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    let allowed = crate::table::key_attributes();
    if plain.is_empty() || plain.keys().any(|k| !allowed.contains(&k.as_str())) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(plain.into_iter().map(|(k, v)| (k, s(v))).collect())
}
