//! Configuration profiles (one item each, on the operator's index) and the
//! configuration state kept on the device item.

use crate::core::{DynamoStore, invalid_request, s, unless_condition_failed};
use crate::items::{Item, key_attrs, to_attrs, to_value};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use domain::profiles::{Profile, ProfileStore};
use kernel::ids::{CommandId, DeviceId, OperatorId, ProfileId};
use kernel::model::Activity;
use kernel::model::{AppliedConfiguration, PendingConfiguration};
use kernel::storage::{StoreError, StoreResult, WriteOutcome};

fn profile_item(profile: &Profile) -> Item<&Profile> {
    Item::new(keys::profile(profile.profile_id), profile).gsi1(
        keys::operator_profiles(&profile.operator_id),
        profile.profile_id.to_string(),
    )
}

#[async_trait]
impl ProfileStore for DynamoStore {
    async fn insert_profile(&self, profile: &Profile, activity: &Activity) -> StoreResult<()> {
        let outcome = self
            .transact(vec![
                self.put_new_item(&profile_item(profile))?,
                self.activity_put(activity)?,
            ])
            .await?;
        match outcome {
            WriteOutcome::Written => Ok(()),
            WriteOutcome::Conflict => Err(StoreError::internal(format!(
                "profile id {} taken",
                profile.profile_id
            ))),
        }
    }

    async fn get_profile(&self, id: ProfileId) -> StoreResult<Option<Profile>> {
        self.get(keys::profile(id)).await
    }

    async fn operator_profiles(&self, operator: &OperatorId) -> StoreResult<Vec<Profile>> {
        self.query_all(
            Some(keys::GSI1),
            "GSI1PK = :p",
            vec![(":p", s(keys::operator_profiles(operator)))],
            false,
        )
        .await
    }

    async fn update_profile(
        &self,
        profile: &Profile,
        expected_version: u32,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&profile_item(profile))?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", crate::core::n(expected_version))
            .build()
            .map_err(invalid_request)?;
        self.transact(vec![
            TransactWriteItem::builder().put(put).build(),
            self.activity_put(activity)?,
        ])
        .await
    }

    async fn set_configuration_pending(
        &self,
        device: DeviceId,
        pending: &PendingConfiguration,
    ) -> StoreResult<()> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(device))))
            .update_expression("SET configuration_pending = :p")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":p", to_value(pending)?)
            .send()
            .await;
        // A device deleted meanwhile has nothing pending.
        unless_condition_failed(out)?;
        Ok(())
    }

    async fn settle_configuration(
        &self,
        device: DeviceId,
        command: CommandId,
        applied: Option<&AppliedConfiguration>,
    ) -> StoreResult<()> {
        let update = |expr: &str, condition: &str| {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_attrs(keys::device(device))))
                .update_expression(expr)
                .condition_expression(condition)
        };
        let mine = "configuration_pending.command_id = :cmd";
        let cmd = s(command.to_string());
        let Some(applied) = applied else {
            unless_condition_failed(
                update("REMOVE configuration_pending", mine)
                    .expression_attribute_values(":cmd", cmd)
                    .send()
                    .await,
            )?;
            return Ok(());
        };
        let value = to_value(applied)?;
        let settled = unless_condition_failed(
            update("SET configuration = :c REMOVE configuration_pending", mine)
                .expression_attribute_values(":cmd", cmd)
                .expression_attribute_values(":c", value.clone())
                .send()
                .await,
        )?;
        // A newer version was queued since: record what was applied, keep
        // the newer one pending.
        if settled.is_none() {
            unless_condition_failed(
                update("SET configuration = :c", "attribute_exists(PK)")
                    .expression_attribute_values(":c", value)
                    .send()
                    .await,
            )?;
        }
        Ok(())
    }
}
