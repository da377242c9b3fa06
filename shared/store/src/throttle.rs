//! Attempt counters per source address: one item per scope, source and
//! window, added to atomically and expiring with its window.

use crate::core::{DynamoStore, n};
use crate::errors::map_sdk;
use crate::items::key_attrs;
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};
use domain::throttle::ThrottleStore;
use kernel::storage::{StoreError, StoreResult};

#[async_trait]
impl ThrottleStore for DynamoStore {
    async fn count_attempt(
        &self,
        scope: &str,
        source: &str,
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
    ) -> StoreResult<u32> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::attempts(scope, source, window_start))))
            .update_expression("ADD attempts :one SET #ttl = :ttl")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(window_end.timestamp()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(map_sdk)?;
        out.attributes
            .and_then(|a| a.get("attempts").and_then(|v| v.as_n().ok()).cloned())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| StoreError::internal("attempt counter without a count"))
    }

    async fn attempts(
        &self,
        scope: &str,
        source: &str,
        window_start: DateTime<Utc>,
    ) -> StoreResult<u32> {
        let item = self
            .get_attrs(keys::attempts(scope, source, window_start))
            .await?;
        Ok(item
            .and_then(|a| a.get("attempts").and_then(|v| v.as_n().ok()).cloned())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
}
