//! Storage of configuration profiles and of what devices applied.

use super::Profile;
use async_trait::async_trait;
use kernel::ids::{CommandId, DeviceId, OperatorId, ProfileId};
use kernel::model::Activity;
use kernel::model::{AppliedConfiguration, PendingConfiguration};
use kernel::storage::{StoreResult, WriteOutcome};

#[async_trait]
pub trait ProfileStore: Send + Sync {
    async fn insert_profile(&self, profile: &Profile, activity: &Activity) -> StoreResult<()>;
    async fn get_profile(&self, id: ProfileId) -> StoreResult<Option<Profile>>;
    /// An operator's profiles, oldest first.
    async fn operator_profiles(&self, operator: &OperatorId) -> StoreResult<Vec<Profile>>;
    /// Writes `profile` if its stored version is still `expected_version`.
    async fn update_profile(
        &self,
        profile: &Profile,
        expected_version: u32,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome>;
    /// Notes on the device the profile version just queued for it.
    async fn set_configuration_pending(
        &self,
        device: DeviceId,
        pending: &PendingConfiguration,
    ) -> StoreResult<()>;
    /// The device answered `command`: records what it applied, if it did,
    /// and forgets the pending version when it was this command's.
    async fn settle_configuration(
        &self,
        device: DeviceId,
        command: CommandId,
        applied: Option<&AppliedConfiguration>,
    ) -> StoreResult<()>;
}
