//! Sites, and devices moving into them (the device and its listing item
//! move in the same transaction as the site is saved).

use crate::core::{DynamoStore, MAX_TRANSACTION_ITEMS, invalid_request, n, s};
use crate::errors::map_sdk;
use crate::items::{Item, key_attrs, to_attrs, to_value};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use domain::ids::{OperatorId, SiteId};
use domain::model::{Activity, Site};
use domain::sites::{SiteMember, SiteStore};
use domain::storage::{StoreError, StoreResult, WriteOutcome};

#[async_trait]
impl SiteStore for DynamoStore {
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
        let put = put.build().map_err(invalid_request)?;
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
                .set_key(Some(key_attrs(keys::listing(m.device_id))))
                .update_expression("SET GSI1PK = :g1, GSI2PK = :g2, GSI2SK = :id")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_values(":g1", s(keys::operator_devices(&site.operator_id)))
                .expression_attribute_values(":g2", s(keys::site_devices(site.site_id)))
                .expression_attribute_values(":id", s(m.device_id.to_string()))
                .build()
                .map_err(invalid_request)?;
            items.push(
                TransactWriteItem::builder()
                    .update(update.build().map_err(invalid_request)?)
                    .build(),
            );
            items.push(TransactWriteItem::builder().update(listing).build());
        }
        if items.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::internal(format!(
                "a site save of {} items exceeds one transaction",
                items.len()
            )));
        }
        self.transact(items).await
    }
}
