//! Sites, and devices moving into them: each device and its listing item
//! move in the same transaction as a part of the site's save, with the
//! counters of the operators they leave and join. A save too large for one
//! transaction is written in several and undone if one of them fails.

use crate::core::{DynamoStore, MAX_TRANSACTION_ITEMS, invalid_request, s};
use crate::counters::{Deltas, device_moves};
use crate::errors::map_sdk;
use crate::items::{Item, from_attrs, key_attrs, to_attrs, to_value};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use domain::sites::{SiteMember, SiteStore};
use kernel::ids::{OperatorId, SiteId};
use kernel::model::{Activity, Site};
use kernel::storage::{StoreResult, WriteOutcome};
use std::collections::BTreeSet;

/// Items of every part of a save besides its members: the site and the
/// activity line (each in one part only).
const PART_OVERHEAD: usize = 2;

fn site_item(site: &Site) -> Item<&Site> {
    Item::new(keys::site(site.site_id), site).gsi1(
        keys::operator_sites(&site.operator_id),
        keys::site_order(&site.name, site.site_id),
    )
}

/// The members in parts that each fit one transaction with the site, the
/// activity line and one counters item per operator involved.
fn parts<'a>(site_operator: &OperatorId, members: &'a [SiteMember]) -> Vec<&'a [SiteMember]> {
    let mut parts = Vec::new();
    let mut begin = 0;
    let mut operators = BTreeSet::from([site_operator]);
    for (i, m) in members.iter().enumerate() {
        let with = operators.len() + usize::from(!operators.contains(&m.previous_operator));
        if PART_OVERHEAD + 2 * (i + 1 - begin) + with > MAX_TRANSACTION_ITEMS {
            parts.push(&members[begin..i]);
            begin = i;
            operators = BTreeSet::from([site_operator]);
        }
        operators.insert(&m.previous_operator);
    }
    parts.push(&members[begin..]);
    parts
}

impl DynamoStore {
    /// The member's device and listing item into the site, checked to be
    /// where (and, when it changes operator, what) they were read.
    fn move_in(
        &self,
        site: &Site,
        m: &SiteMember,
        deltas: &mut Deltas,
    ) -> StoreResult<[TransactWriteItem; 2]> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(m.device_id))))
            .update_expression("SET site_id = :site, operator_id = :op")
            .expression_attribute_values(":site", s(site.site_id.to_string()))
            .expression_attribute_values(":op", s(site.operator_id.as_str()))
            .expression_attribute_values(":prevop", s(m.previous_operator.as_str()));
        let mut condition = match m.previous_site {
            None => {
                update = update.expression_attribute_values(":null", s("NULL"));
                "attribute_exists(PK) AND (attribute_not_exists(site_id) OR attribute_type(site_id, :null))"
                    .to_owned()
            }
            Some(prev) => {
                update = update.expression_attribute_values(":prev", s(prev.to_string()));
                "site_id = :prev".to_owned()
            }
        };
        condition.push_str(" AND operator_id = :prevop");
        if m.previous_operator != site.operator_id {
            // Counted out of its old operator by the build it was read with.
            condition.push_str(" AND model = :m AND manufacturer = :mf AND firmware_version = :fw");
            update = update
                .expression_attribute_values(":m", s(&m.model))
                .expression_attribute_values(":mf", s(&m.manufacturer))
                .expression_attribute_values(":fw", s(m.firmware_version.as_str()));
            let build = (
                m.model.as_str(),
                m.manufacturer.as_str(),
                m.firmware_version.as_str(),
            );
            device_moves(
                deltas,
                Some((&m.previous_operator, build)),
                Some((&site.operator_id, build)),
            );
        }
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
        Ok([
            TransactWriteItem::builder()
                .update(
                    update
                        .condition_expression(condition)
                        .build()
                        .map_err(invalid_request)?,
                )
                .build(),
            TransactWriteItem::builder().update(listing).build(),
        ])
    }

    /// The site put: a new site must still be new; an existing one
    /// unchanged since read (a flexibility cap set meanwhile is not
    /// overwritten) and its operator's.
    fn site_put(&self, site: &Site, previous: Option<&Site>) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&site_item(site))?));
        let put = match previous {
            None => put.condition_expression("attribute_not_exists(PK)"),
            Some(read) => put
                .condition_expression("operator_id = :op AND updated_at = :read")
                .expression_attribute_values(":op", s(site.operator_id.as_str()))
                .expression_attribute_values(":read", to_value(&read.updated_at)?),
        };
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(invalid_request)?)
            .build())
    }

    /// The member's device and listing item back where they were read,
    /// only if still where the save put them.
    fn move_back(
        &self,
        site: &Site,
        m: &SiteMember,
        deltas: &mut Deltas,
    ) -> StoreResult<[TransactWriteItem; 2]> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(m.device_id))))
            .update_expression("SET site_id = :prev, operator_id = :prevop")
            .expression_attribute_values(":prev", to_value(&m.previous_site)?)
            .expression_attribute_values(":prevop", s(m.previous_operator.as_str()))
            .expression_attribute_values(":site", s(site.site_id.to_string()))
            .expression_attribute_values(":op", s(site.operator_id.as_str()));
        let mut condition = "site_id = :site AND operator_id = :op".to_owned();
        if m.previous_operator != site.operator_id {
            let build = (
                m.model.as_str(),
                m.manufacturer.as_str(),
                m.firmware_version.as_str(),
            );
            device_moves(
                deltas,
                Some((&site.operator_id, build)),
                Some((&m.previous_operator, build)),
            );
            // Counted back by the build it moved with.
            condition.push_str(" AND model = :m AND manufacturer = :mf AND firmware_version = :fw");
            update = update
                .expression_attribute_values(":m", s(&m.model))
                .expression_attribute_values(":mf", s(&m.manufacturer))
                .expression_attribute_values(":fw", s(m.firmware_version.as_str()));
        }
        let listing = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::listing(m.device_id))))
            .expression_attribute_values(":g1", s(keys::operator_devices(&m.previous_operator)));
        let listing = match m.previous_site {
            Some(prev) => listing
                .update_expression("SET GSI1PK = :g1, GSI2PK = :g2")
                .expression_attribute_values(":g2", s(keys::site_devices(prev))),
            None => listing.update_expression("SET GSI1PK = :g1 REMOVE GSI2PK, GSI2SK"),
        };
        Ok([
            TransactWriteItem::builder()
                .update(
                    update
                        .condition_expression(condition)
                        .build()
                        .map_err(invalid_request)?,
                )
                .build(),
            TransactWriteItem::builder()
                .update(listing.build().map_err(invalid_request)?)
                .build(),
        ])
    }

    /// Moving the members back, with their counters, as one transaction.
    fn all_back(&self, site: &Site, members: &[SiteMember]) -> StoreResult<Vec<TransactWriteItem>> {
        let mut deltas = Deltas::new();
        let mut items = Vec::new();
        for m in members {
            items.extend(self.move_back(site, m, &mut deltas)?);
        }
        items.extend(self.counter_updates(&deltas)?);
        Ok(items)
    }

    /// Moves the members back in one transaction, or each in its own when
    /// one of them moved again since (that one stays where it went).
    async fn move_all_back(&self, site: &Site, members: &[SiteMember]) -> StoreResult<()> {
        let together = self
            .transact_contended(self.all_back(site, members)?)
            .await?;
        if together == WriteOutcome::Conflict {
            for m in members {
                let one = std::slice::from_ref(m);
                self.transact_contended(self.all_back(site, one)?).await?;
            }
        }
        Ok(())
    }

    /// Undoes the parts of a save already written, newest first, then
    /// restores the site as read.
    async fn undo_save(
        &self,
        site: &Site,
        previous: Option<&Site>,
        written: &[&[SiteMember]],
    ) -> StoreResult<()> {
        for part in written.iter().rev() {
            self.move_all_back(site, part).await?;
        }
        // The site as read, unless it changed again after this save.
        let ours = to_value(&site.updated_at)?;
        let restore = match previous {
            Some(read) => TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_attrs(&site_item(read))?))
                        .condition_expression("updated_at = :ours")
                        .expression_attribute_values(":ours", ours)
                        .build()
                        .map_err(invalid_request)?,
                )
                .build(),
            None => TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(keys::site(site.site_id))))
                        .condition_expression("updated_at = :ours")
                        .expression_attribute_values(":ours", ours)
                        .build()
                        .map_err(invalid_request)?,
                )
                .build(),
        };
        let mut items = vec![restore];
        if previous.is_none() {
            let mut deltas = Deltas::new();
            deltas.entry(site.operator_id.clone()).or_default().sites = -1;
            items.extend(self.counter_updates(&deltas)?);
        }
        self.transact_contended(items).await?;
        Ok(())
    }
}

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
            .expression_attribute_values(":l", crate::core::n(limit_kw))
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

    async fn first_sites(&self, operator: &OperatorId, limit: usize) -> StoreResult<Vec<Site>> {
        self.query_first(
            keys::GSI1,
            "GSI1PK = :p",
            vec![(":p", s(keys::operator_sites(operator)))],
            limit,
        )
        .await?
        .into_iter()
        .map(from_attrs)
        .collect()
    }

    async fn save_site(
        &self,
        site: &Site,
        previous: Option<&Site>,
        members: &[SiteMember],
        activity: &Activity,
    ) -> StoreResult<WriteOutcome> {
        let parts = parts(&site.operator_id, members);
        let last = parts.len() - 1;
        for (i, part) in parts.iter().enumerate() {
            let mut deltas = Deltas::new();
            let mut items = Vec::new();
            // The site first, so that a stale read fails before anything moves.
            if i == 0 {
                items.push(self.site_put(site, previous)?);
                if previous.is_none() {
                    deltas.entry(site.operator_id.clone()).or_default().sites = 1;
                }
            }
            // The activity line last, written only with the whole save.
            if i == last {
                items.push(self.activity_put(activity)?);
            }
            for m in *part {
                items.extend(self.move_in(site, m, &mut deltas)?);
            }
            items.extend(self.counter_updates(&deltas)?);
            let outcome = self.transact_contended(items).await;
            if !matches!(outcome, Ok(WriteOutcome::Written)) {
                if i > 0 {
                    self.undo_save(site, previous, &parts[..i]).await?;
                }
                return outcome;
            }
        }
        Ok(WriteOutcome::Written)
    }

    async fn rewrite_site(&self, site: &Site) -> StoreResult<WriteOutcome> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&site_item(site))?))
            .condition_expression("updated_at = :read")
            .expression_attribute_values(":read", to_value(&site.updated_at)?)
            .send()
            .await;
        Ok(match crate::core::unless_condition_failed(out)? {
            Some(_) => WriteOutcome::Written,
            None => WriteOutcome::Conflict,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::ids::DeviceId;

    fn member(op: &str) -> SiteMember {
        SiteMember {
            device_id: DeviceId::random(),
            previous_site: None,
            previous_operator: OperatorId::parse(op).unwrap(),
            model: "M".into(),
            manufacturer: "F".into(),
            firmware_version: kernel::version::FirmwareVersion::parse("1").unwrap(),
        }
    }

    #[test]
    fn parts_fit_one_transaction_each_and_keep_every_member_once() {
        let site_op = OperatorId::parse("acme").unwrap();
        let same: Vec<SiteMember> = (0..500).map(|_| member("acme")).collect();
        let split = parts(&site_op, &same);
        assert_eq!(split.iter().map(|p| p.len()).sum::<usize>(), 500);
        // Strictly below 100: the site operator's counters take one more.
        assert!(split.iter().all(|p| PART_OVERHEAD + 2 * p.len() < 100));
        assert_eq!(split.len(), 11, "48 members a part");

        let mixed: Vec<SiteMember> = (0..120).map(|i| member(&format!("op-{i}"))).collect();
        let split = parts(&site_op, &mixed);
        assert_eq!(split.iter().map(|p| p.len()).sum::<usize>(), 120);
        // Each member brings its own operator's counters: three items each.
        assert!(split.iter().all(|p| PART_OVERHEAD + 3 * p.len() < 100));

        let none = parts(&site_op, &[]);
        assert!(
            none.len() == 1 && none[0].is_empty(),
            "one part: the site alone"
        );
    }
}
