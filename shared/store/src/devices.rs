//! Chargers: the device item (no index keys, so heartbeats rewrite one
//! item), its serial-number claim and its small listing item, which the
//! operator's and site's indexes hold instead; registration and a changed
//! profile keep the operator's counters in the same transaction.

use crate::core::{
    DynamoStore, MAX_BATCH_GET, decode_cursor, encode_cursor, invalid_request, n, s,
    unless_condition_failed,
};
use crate::counters::{Deltas, device_moves};
use crate::errors::map_sdk;
use crate::items::{
    Attrs, Item, ListingItem, SerialClaim, from_attrs, from_item, key_attrs, to_value,
};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{KeysAndAttributes, ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use domain::devices::{DeviceStore, FleetCounts, Listed, Profile};
use kernel::ids::{DeviceId, OperatorId, SiteId};
use kernel::model::{Activity, Device};
use kernel::storage::{Page, StoreError, StoreResult, WriteOutcome};
use std::time::Duration;

/// Unprocessed keys of a batch read are retried this often, with a pause.
const BATCH_RETRIES: usize = 5;

pub(crate) fn device_item(device: &Device) -> Item<&Device> {
    Item::new(keys::device(device.device_id), device)
}

fn listing_item(device: &Device) -> Item<ListingItem> {
    let mut item = Item::new(
        keys::listing(device.device_id),
        ListingItem {
            device_id: device.device_id,
        },
    )
    .gsi1(
        keys::operator_devices(&device.operator_id),
        device.sn.to_string(),
    );
    if let Some(site) = device.site_id {
        item = item.gsi2(keys::site_devices(site), device.device_id.to_string());
    }
    item
}

impl DynamoStore {
    /// The writes that create a device: its serial claim, the device, its
    /// listing item, the activity line and the operator's counters.
    pub(crate) fn device_insert(
        &self,
        device: &Device,
        activity: &Activity,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let claim = Item::new(
            keys::serial(device.sn.as_str()),
            SerialClaim {
                device_id: device.device_id,
            },
        );
        let mut deltas = Deltas::new();
        device_moves(
            &mut deltas,
            None,
            Some((&device.operator_id, build_of(device))),
        );
        let mut items = vec![
            self.put_new_item(&claim)?,
            self.put_new_item(&device_item(device))?,
            self.put_new_item(&listing_item(device))?,
            self.activity_put(activity)?,
        ];
        items.extend(self.counter_updates(&deltas)?);
        Ok(items)
    }

    /// Devices of listing items, in the listing's order.
    async fn listed_devices(&self, listing: Vec<ListingItem>) -> StoreResult<Vec<Device>> {
        let ids: Vec<DeviceId> = listing.iter().map(|m| m.device_id).collect();
        let mut found = self.get_devices(&ids).await?;
        found.sort_by_key(|d| ids.iter().position(|id| *id == d.device_id));
        Ok(found)
    }
}

#[async_trait]
impl DeviceStore for DynamoStore {
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
        // The device as it was: its old `last_seen` shows an outage.
        let out = update.return_values(ReturnValue::AllOld).send().await;
        match unless_condition_failed(out)? {
            Some(out) => out.attributes.map(from_attrs).transpose(),
            None => Ok(None),
        }
    }

    async fn insert_device(
        &self,
        device: &Device,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome> {
        let items = self.device_insert(device, activity)?;
        self.transact_contended(items).await
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
                    .map_err(invalid_request)?,
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
        let listing = page
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_attrs)
            .collect::<StoreResult<Vec<ListingItem>>>()?;
        let items = self.listed_devices(listing).await?;
        let next = page
            .last_evaluated_key
            .filter(|k| !k.is_empty())
            .map(|k| encode_cursor(&k));
        Ok(Page { items, next })
    }

    async fn operator_listing(
        &self,
        operator: &OperatorId,
        limit: usize,
    ) -> StoreResult<Vec<Listed>> {
        self.query_first(
            keys::GSI1,
            "GSI1PK = :p",
            vec![(":p", s(keys::operator_devices(operator)))],
            limit,
        )
        .await?
        .into_iter()
        .map(|attrs| {
            let item = from_item::<ListingItem>(attrs)?;
            Ok(Listed {
                sn: item.gsi1sk.unwrap_or_default(),
                device_id: item.body.device_id,
            })
        })
        .collect()
    }

    async fn site_devices(&self, site: SiteId) -> StoreResult<Vec<Device>> {
        let listing = self
            .query_all(
                Some(keys::GSI2),
                "GSI2PK = :p",
                vec![(":p", s(keys::site_devices(site)))],
                false,
            )
            .await?;
        self.listed_devices(listing).await
    }

    async fn rotate_secret(
        &self,
        before: &Device,
        new_hash: &str,
        revoked_before: i64,
        profile: Profile<'_>,
    ) -> StoreResult<WriteOutcome> {
        let new_build = (
            profile.model,
            profile.manufacturer,
            profile.firmware_version,
        );
        let changed = build_of(before) != new_build;
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(before.device_id))))
            .update_expression(
                "SET secret_hash = :new, revoked_before = :rb, model = :m, manufacturer = :mf, \
                 firmware_version = :fw",
            )
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(&before.secret_hash))
            .expression_attribute_values(":rb", n(revoked_before))
            .expression_attribute_values(":m", s(profile.model))
            .expression_attribute_values(":mf", s(profile.manufacturer))
            .expression_attribute_values(":fw", s(profile.firmware_version));
        let mut deltas = Deltas::new();
        if changed {
            // Counted out of the build it was read with, so it must still be it.
            update = update
                .condition_expression(
                    "secret_hash = :old AND operator_id = :op AND model = :om \
                     AND manufacturer = :omf AND firmware_version = :ofw",
                )
                .expression_attribute_values(":op", s(before.operator_id.as_str()))
                .expression_attribute_values(":om", s(&before.model))
                .expression_attribute_values(":omf", s(&before.manufacturer))
                .expression_attribute_values(":ofw", s(before.firmware_version.as_str()));
            device_moves(
                &mut deltas,
                Some((&before.operator_id, build_of(before))),
                Some((&before.operator_id, new_build)),
            );
        } else {
            update = update.condition_expression("secret_hash = :old");
        }
        let mut items = vec![
            TransactWriteItem::builder()
                .update(update.build().map_err(invalid_request)?)
                .build(),
        ];
        items.extend(self.counter_updates(&deltas)?);
        self.transact_contended(items).await
    }

    async fn fleet_counts(&self, operator: &OperatorId) -> StoreResult<FleetCounts> {
        self.read_counts(operator).await
    }

    async fn replace_fleet_counts(
        &self,
        operator: &OperatorId,
        counts: &FleetCounts,
    ) -> StoreResult<()> {
        self.write_counts(operator, counts).await
    }
}

/// What the counters count a device by.
pub(crate) fn build_of(d: &Device) -> (&str, &str, &str) {
    (&d.model, &d.manufacturer, d.firmware_version.as_str())
}
