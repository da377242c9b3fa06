//! The activity feed and the shared request log: time-ordered partitions
//! whose items expire; reads skip what has expired but is not deleted yet.

use crate::core::{DynamoStore, expiry, n, s};
use crate::errors::map_sdk;
use crate::items::{Item, from_attrs};
use crate::keys;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::feeds::FeedStore;
use kernel::model::{Activity, RequestLogEntry};
use kernel::storage::{StoreError, StoreResult};

#[async_trait]
impl FeedStore for DynamoStore {
    async fn log_request(&self, entry: &RequestLogEntry) -> StoreResult<()> {
        let item = Item::new(keys::request_log(entry.at, &entry.request_id), entry)
            .expires(expiry(entry.at, self.retention.request_log));
        self.put(&item).await
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
}
