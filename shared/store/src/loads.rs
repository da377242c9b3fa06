//! A site's allocation: one item beside the site, written only over the
//! version read.

use crate::core::{DynamoStore, invalid_request, n};
use crate::items::{Item, to_attrs};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use domain::loads::{LoadStore, SiteAllocation};
use kernel::ids::SiteId;
use kernel::storage::{StoreResult, WriteOutcome};

#[async_trait]
impl LoadStore for DynamoStore {
    async fn get_allocation(&self, site: SiteId) -> StoreResult<Option<SiteAllocation>> {
        self.get(keys::site_allocation(site)).await
    }

    async fn save_allocation(
        &self,
        allocation: &SiteAllocation,
        expected: Option<u64>,
    ) -> StoreResult<WriteOutcome> {
        let item = Item::new(keys::site_allocation(allocation.site_id), allocation);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&item)?));
        let put = match expected {
            Some(v) => put
                .condition_expression("version = :v")
                .expression_attribute_values(":v", n(v)),
            None => put.condition_expression("attribute_not_exists(PK)"),
        };
        self.transact(vec![
            TransactWriteItem::builder()
                .put(put.build().map_err(invalid_request)?)
                .build(),
        ])
        .await
    }
}
