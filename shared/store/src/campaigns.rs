//! Firmware campaigns: the campaign item (on its operator's index, and on
//! the sparse index of active campaigns while running or paused) with its
//! counters, and one member item per device in the campaign's partition.
//! A member's move and its counters change in one transaction.

use crate::core::{DynamoStore, invalid_request, n, s, unless_condition_failed};
use crate::items::{Item, key_attrs, to_attrs, to_value};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use domain::campaigns::{Campaign, CampaignMember, CampaignStore, LinkChange, MemberState};
use kernel::ids::{CampaignId, DeviceId, OperatorId};
use kernel::model::Activity;
use kernel::storage::{StoreError, StoreResult, WriteOutcome};

fn campaign_item(c: &Campaign) -> Item<&Campaign> {
    let item = Item::new(keys::campaign(c.campaign_id), c).gsi1(
        keys::operator_campaigns(&c.operator_id),
        c.campaign_id.to_string(),
    );
    if c.status.is_active() {
        item.gsi2(keys::ACTIVE_CAMPAIGNS.to_owned(), c.campaign_id.to_string())
    } else {
        item
    }
}

fn member_item(id: CampaignId, m: &CampaignMember) -> Item<&CampaignMember> {
    Item::new(keys::campaign_member(id, m.device_id), m)
}

impl DynamoStore {
    fn device_update(&self, device: DeviceId) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(device))))
    }
}

#[async_trait]
impl CampaignStore for DynamoStore {
    async fn insert_campaign(
        &self,
        campaign: &Campaign,
        members: &[CampaignMember],
        activity: &Activity,
    ) -> StoreResult<()> {
        let items: Vec<_> = members
            .iter()
            .map(|m| member_item(campaign.campaign_id, m))
            .collect();
        self.put_all(&items).await?;
        let outcome = self
            .transact(vec![
                self.put_new_item(&campaign_item(campaign))?,
                self.activity_put(activity)?,
            ])
            .await?;
        match outcome {
            WriteOutcome::Written => Ok(()),
            WriteOutcome::Conflict => Err(StoreError::internal(format!(
                "campaign id {} taken",
                campaign.campaign_id
            ))),
        }
    }

    async fn get_campaign(&self, id: CampaignId) -> StoreResult<Option<Campaign>> {
        self.get(keys::campaign(id)).await
    }

    async fn operator_campaigns(&self, operator: &OperatorId) -> StoreResult<Vec<Campaign>> {
        self.query_all(
            Some(keys::GSI1),
            "GSI1PK = :p",
            vec![(":p", s(keys::operator_campaigns(operator)))],
            true,
        )
        .await
    }

    async fn active_campaigns(&self) -> StoreResult<Vec<Campaign>> {
        self.query_all(
            Some(keys::GSI2),
            "GSI2PK = :p",
            vec![(":p", s(keys::ACTIVE_CAMPAIGNS))],
            false,
        )
        .await
    }

    async fn campaign_members(&self, id: CampaignId) -> StoreResult<Vec<CampaignMember>> {
        self.query_all(
            None,
            "PK = :p AND begins_with(SK, :m)",
            vec![
                (":p", s(keys::campaign(id).0)),
                (":m", s(keys::MEMBER_PREFIX)),
            ],
            false,
        )
        .await
    }

    async fn get_member(
        &self,
        id: CampaignId,
        device: DeviceId,
    ) -> StoreResult<Option<CampaignMember>> {
        self.get(keys::campaign_member(id, device)).await
    }

    async fn update_campaign(
        &self,
        campaign: &Campaign,
        expected: u64,
        activity: Option<&Activity>,
    ) -> StoreResult<WriteOutcome> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&campaign_item(campaign))?))
            .condition_expression("revision = :rev")
            .expression_attribute_values(":rev", n(expected))
            .build()
            .map_err(invalid_request)?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        if let Some(activity) = activity {
            items.push(self.activity_put(activity)?);
        }
        self.transact_contended(items).await
    }

    async fn move_member(
        &self,
        id: CampaignId,
        member: &CampaignMember,
        from: MemberState,
        link: LinkChange,
    ) -> StoreResult<WriteOutcome> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&member_item(id, member))?))
            .condition_expression("#state = :from")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":from", to_value(&from)?)
            .build()
            .map_err(invalid_request)?;
        let counters = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::campaign(id))))
            .update_expression("ADD #from :minus, #to :one, revision :one")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#from", from.counter())
            .expression_attribute_names("#to", member.state.counter())
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(invalid_request)?;
        let mut items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(counters).build(),
        ];
        if let LinkChange::Set(l) = &link {
            let update = self
                .device_update(member.device_id)
                .update_expression("SET campaign = :l")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_values(":l", to_value(l)?)
                .build()
                .map_err(invalid_request)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        let outcome = self.transact_contended(items).await?;
        if outcome == WriteOutcome::Written && link == LinkChange::Clear {
            // Only this campaign's link: a newer campaign may have taken
            // the device since.
            let out = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_attrs(keys::device(member.device_id))))
                .update_expression("REMOVE campaign")
                .condition_expression("campaign.campaign_id = :c")
                .expression_attribute_values(":c", s(id.to_string()))
                .send()
                .await;
            unless_condition_failed(out)?;
        }
        Ok(outcome)
    }
}
