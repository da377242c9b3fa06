//! Driver tokens: one item per operator and token, keyed by its upper-case
//! form (an Authorize is one `GetItem`), listed on the operator's index.

use crate::core::{DynamoStore, s};
use crate::errors::map_sdk;
use crate::items::{Item, key_attrs};
use crate::keys;
use async_trait::async_trait;
use domain::idtags::{IdTag, IdTagStore};
use kernel::ids::OperatorId;
use kernel::storage::{StoreResult, WriteOutcome};

fn id_tag_item(tag: &IdTag) -> Item<&IdTag> {
    let key = tag.key();
    Item::new(keys::id_tag(&tag.operator_id, &key), tag)
        .gsi1(keys::operator_id_tags(&tag.operator_id), key)
}

#[async_trait]
impl IdTagStore for DynamoStore {
    async fn insert_id_tag(&self, tag: &IdTag) -> StoreResult<WriteOutcome> {
        self.put_new(&id_tag_item(tag)).await
    }

    async fn get_id_tag(&self, operator: &OperatorId, key: &str) -> StoreResult<Option<IdTag>> {
        self.get(keys::id_tag(operator, key)).await
    }

    async fn operator_id_tags(&self, operator: &OperatorId) -> StoreResult<Vec<IdTag>> {
        self.query_all(
            Some(keys::GSI1),
            "GSI1PK = :p",
            vec![(":p", s(keys::operator_id_tags(operator)))],
            false,
        )
        .await
    }

    async fn put_id_tag(&self, tag: &IdTag) -> StoreResult<()> {
        self.put(&id_tag_item(tag)).await
    }

    async fn delete_id_tag(&self, operator: &OperatorId, key: &str) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::id_tag(operator, key))))
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(())
    }
}
