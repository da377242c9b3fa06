//! Storage of firmware campaigns: the campaign item with its counters and
//! one member item per eligible device.

use super::{Campaign, CampaignMember, MemberState};
use async_trait::async_trait;
use kernel::ids::{CampaignId, DeviceId, OperatorId};
use kernel::model::Activity;
use kernel::model::CampaignLink;
use kernel::storage::{StoreResult, WriteOutcome};

/// What a member's move does to its device's link to the campaign.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkChange {
    /// The campaign sends the device its update.
    Set(CampaignLink),
    /// The device reported an outcome: its reports concern no campaign.
    Clear,
    /// Timed out: a late report may still count.
    Keep,
}

#[async_trait]
pub trait CampaignStore: Send + Sync {
    /// Writes the members, then the campaign.
    async fn insert_campaign(
        &self,
        campaign: &Campaign,
        members: &[CampaignMember],
        activity: &Activity,
    ) -> StoreResult<()>;
    async fn get_campaign(&self, id: CampaignId) -> StoreResult<Option<Campaign>>;
    /// An operator's campaigns, newest first.
    async fn operator_campaigns(&self, operator: &OperatorId) -> StoreResult<Vec<Campaign>>;
    /// Running and paused campaigns of every operator (for the sweep).
    async fn active_campaigns(&self) -> StoreResult<Vec<Campaign>>;
    async fn campaign_members(&self, id: CampaignId) -> StoreResult<Vec<CampaignMember>>;
    async fn get_member(
        &self,
        id: CampaignId,
        device: DeviceId,
    ) -> StoreResult<Option<CampaignMember>>;
    /// Writes status, wave and reason if the campaign's revision is still
    /// `expected` (every write, counters included, bumps it).
    async fn update_campaign(
        &self,
        campaign: &Campaign,
        expected: u64,
        activity: Option<&Activity>,
    ) -> StoreResult<WriteOutcome>;
    /// Moves a member from `from` to its new state, moving the campaign's
    /// counters with it; `Conflict` when the member has moved meanwhile.
    async fn move_member(
        &self,
        id: CampaignId,
        member: &CampaignMember,
        from: MemberState,
        link: LinkChange,
    ) -> StoreResult<WriteOutcome>;
}
