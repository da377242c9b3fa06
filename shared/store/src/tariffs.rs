//! Tariffs: one item each, on the operator's index.

use crate::core::{DynamoStore, invalid_request, n, s};
use crate::items::{Item, key_attrs, to_attrs};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use chrono::{DateTime, Duration, Utc};
use domain::tariffs::{Tariff, TariffStore, TariffVersion};
use kernel::ids::{DeviceId, OperatorId, SiteId, TariffId};
use kernel::model::Activity;
use kernel::storage::{StoreError, StoreResult, WriteOutcome};
use pricing::TariffContent;
use serde::{Deserialize, Serialize};

/// A tariff as the table keeps it (amounts as exact text).
#[derive(Debug, Serialize, Deserialize)]
struct StoredTariff {
    tariff_id: TariffId,
    operator_id: OperatorId,
    name: String,
    content: TariffContent,
    site_id: Option<SiteId>,
    device_id: Option<DeviceId>,
    valid_from: Option<DateTime<Utc>>,
    valid_to: Option<DateTime<Utc>>,
    version: u32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Set on a past version: when a later one, or the deletion, replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    superseded_at: Option<DateTime<Utc>>,
}

/// How long a past version is kept: longer than a late record is accepted.
const PAST_VERSION_DAYS: i64 = 60;

impl From<&Tariff> for StoredTariff {
    fn from(t: &Tariff) -> Self {
        Self {
            tariff_id: t.tariff_id,
            operator_id: t.operator_id.clone(),
            name: t.name.clone(),
            content: t.content.clone(),
            site_id: t.site_id,
            device_id: t.device_id,
            valid_from: t.valid_from,
            valid_to: t.valid_to,
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
            superseded_at: None,
        }
    }
}

impl From<StoredTariff> for Tariff {
    fn from(t: StoredTariff) -> Self {
        Self {
            tariff_id: t.tariff_id,
            operator_id: t.operator_id,
            name: t.name,
            content: t.content,
            site_id: t.site_id,
            device_id: t.device_id,
            valid_from: t.valid_from,
            valid_to: t.valid_to,
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

fn tariff_item(tariff: &Tariff) -> Item<StoredTariff> {
    Item::new(keys::tariff(tariff.tariff_id), StoredTariff::from(tariff)).gsi1(
        keys::operator_tariffs(&tariff.operator_id),
        tariff.tariff_id.to_string(),
    )
}

/// A version as it was until `at`, beside the tariff on the same index.
fn past_item(tariff: &Tariff, at: DateTime<Utc>) -> Item<StoredTariff> {
    let mut stored = StoredTariff::from(tariff);
    stored.superseded_at = Some(at);
    Item::new(keys::past_tariff(tariff.tariff_id, tariff.version), stored)
        .gsi1(
            keys::operator_tariffs(&tariff.operator_id),
            format!("{}#V{:06}", tariff.tariff_id, tariff.version),
        )
        .expires((at + Duration::days(PAST_VERSION_DAYS)).timestamp())
}

impl StoredTariff {
    fn version(self) -> TariffVersion {
        let superseded_at = self.superseded_at;
        TariffVersion {
            tariff: self.into(),
            superseded_at,
        }
    }
}

#[async_trait]
impl TariffStore for DynamoStore {
    async fn insert_tariff(&self, tariff: &Tariff, activity: &Activity) -> StoreResult<()> {
        let outcome = self
            .transact(vec![
                self.put_new_item(&tariff_item(tariff))?,
                self.activity_put(activity)?,
            ])
            .await?;
        match outcome {
            WriteOutcome::Written => Ok(()),
            WriteOutcome::Conflict => Err(StoreError::internal(format!(
                "tariff id {} taken",
                tariff.tariff_id
            ))),
        }
    }

    async fn get_tariff(&self, id: TariffId) -> StoreResult<Option<Tariff>> {
        Ok(self
            .get::<StoredTariff>(keys::tariff(id))
            .await?
            .map(Tariff::from))
    }

    async fn operator_tariffs(&self, operator: &OperatorId) -> StoreResult<Vec<Tariff>> {
        Ok(self
            .tariff_versions(operator)
            .await?
            .into_iter()
            .filter(|v| v.superseded_at.is_none())
            .map(|v| v.tariff)
            .collect())
    }

    async fn tariff_versions(&self, operator: &OperatorId) -> StoreResult<Vec<TariffVersion>> {
        let stored: Vec<StoredTariff> = self
            .query_all(
                Some(keys::GSI1),
                "GSI1PK = :p",
                vec![(":p", s(keys::operator_tariffs(operator)))],
                false,
            )
            .await?;
        Ok(stored.into_iter().map(StoredTariff::version).collect())
    }

    async fn replace_tariff(
        &self,
        next: &Tariff,
        previous: &Tariff,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&tariff_item(next))?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(previous.version))
            .build()
            .map_err(invalid_request)?;
        self.transact(vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder()
                .put(self.put_item(&past_item(previous, next.updated_at))?)
                .build(),
            self.activity_put(activity)?,
        ])
        .await
    }

    async fn delete_tariff(
        &self,
        tariff: &Tariff,
        at: DateTime<Utc>,
        activity: &Activity,
    ) -> StoreResult<()> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::tariff(tariff.tariff_id))))
            .build()
            .map_err(invalid_request)?;
        // Already gone is as good as deleted.
        self.transact(vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder()
                .put(self.put_item(&past_item(tariff, at))?)
                .build(),
            self.activity_put(activity)?,
        ])
        .await?;
        Ok(())
    }
}
