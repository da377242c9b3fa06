//! Tariffs: one item each, on the operator's index.

use crate::core::{DynamoStore, invalid_request, n, s};
use crate::items::{Item, key_attrs, to_attrs};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use domain::tariffs::{Tariff, TariffStore};
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
}

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
        let stored: Vec<StoredTariff> = self
            .query_all(
                Some(keys::GSI1),
                "GSI1PK = :p",
                vec![(":p", s(keys::operator_tariffs(operator)))],
                false,
            )
            .await?;
        Ok(stored.into_iter().map(Tariff::from).collect())
    }

    async fn replace_tariff(
        &self,
        tariff: &Tariff,
        expected_version: u32,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&tariff_item(tariff))?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(expected_version))
            .build()
            .map_err(invalid_request)?;
        self.transact(vec![
            TransactWriteItem::builder().put(put).build(),
            self.activity_put(activity)?,
        ])
        .await
    }

    async fn delete_tariff(&self, tariff: &Tariff, activity: &Activity) -> StoreResult<()> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::tariff(tariff.tariff_id))))
            .build()
            .map_err(invalid_request)?;
        // Already gone is as good as deleted.
        self.transact(vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.activity_put(activity)?,
        ])
        .await?;
        Ok(())
    }
}
