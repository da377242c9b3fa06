//! Firmware campaigns: staged waves of `update_firmware` over the eligible
//! devices of a model (optionally of one site). A campaign moves forward
//! from the chargers' own firmware reports (see [`progress`]) and from a
//! scheduled sweep that times out silent devices; nothing polls it.

mod port;
pub mod progress;
pub mod waves;

pub use port::{CampaignStore, LinkChange};

use crate::access::Access;
use crate::commands::Commands;
use crate::devices::DeviceStore;
use crate::feeds::Feeds;
use chrono::{DateTime, Utc};
use kernel::Clock;
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::{CampaignId, DeviceId, OperatorId, SiteId};
use kernel::model::Role;
use kernel::storage::WriteOutcome;
use kernel::version::FirmwareVersion;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Status writes retried this often when a report moved the campaign
/// between the read and the write.
const WRITE_ATTEMPTS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CampaignStatus {
    Running,
    Paused,
    Completed,
    Cancelled,
}

impl CampaignStatus {
    /// Still able to send updates (after a resume, for a paused one).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Running | Self::Paused)
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where the campaign's devices stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignCounts {
    pub eligible: u32,
    /// Not sent the update yet.
    pub pending: u32,
    /// Sent it, no outcome yet.
    pub updating: u32,
    pub installed: u32,
    /// Reported a failure or timed out.
    pub failed: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub campaign_id: CampaignId,
    pub operator_id: OperatorId,
    pub model: String,
    pub target_version: FirmwareVersion,
    pub firmware_url: String,
    pub site_id: Option<SiteId>,
    /// Cumulative percentages of the eligible devices.
    pub waves: Vec<u8>,
    pub failure_threshold_pct: u8,
    pub status: CampaignStatus,
    /// The wave sent last (1-based; 0 before the first).
    pub wave: u32,
    pub paused_reason: Option<String>,
    #[serde(flatten)]
    pub counts: CampaignCounts,
    /// A resume accepts the failures of the wave it was paused after.
    pub resumed_wave: Option<u32>,
    /// Bumped by every write; status writes are conditional on it.
    pub revision: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where one device stands in a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum MemberState {
    Pending,
    Updating,
    Installed,
    Failed,
}

impl MemberState {
    /// The name of the campaign's counter of this state.
    pub fn counter(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignMember {
    pub device_id: DeviceId,
    pub state: MemberState,
    pub wave: Option<u32>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Failed for silence rather than by report.
    #[serde(default)]
    pub timed_out: bool,
    pub updated_at: DateTime<Utc>,
}

/// A campaign as asked for, parsed (waves and threshold in range).
#[derive(Debug, Clone)]
pub struct CampaignDraft {
    pub model: String,
    pub target_version: FirmwareVersion,
    pub firmware_url: String,
    pub site_id: Option<SiteId>,
    pub waves: Vec<u8>,
    pub failure_threshold_pct: u8,
    pub operator_id: Option<OperatorId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignAction {
    Pause,
    Resume,
    Cancel,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignView {
    pub campaign_id: CampaignId,
    pub operator_id: String,
    pub model: String,
    pub target_version: String,
    pub firmware_url: String,
    pub site_id: Option<SiteId>,
    pub waves: Vec<u8>,
    pub failure_threshold_pct: u8,
    pub status: CampaignStatus,
    /// The wave sent last (0 before the first).
    pub wave: u32,
    pub counts: CampaignCounts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Campaign> for CampaignView {
    fn from(c: Campaign) -> Self {
        Self {
            campaign_id: c.campaign_id,
            operator_id: c.operator_id.to_string(),
            model: c.model,
            target_version: c.target_version.to_string(),
            firmware_url: c.firmware_url,
            site_id: c.site_id,
            waves: c.waves,
            failure_threshold_pct: c.failure_threshold_pct,
            status: c.status,
            wave: c.wave,
            counts: c.counts,
            paused_reason: c.paused_reason,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

ports!(
    /// The ports campaigns use.
    CampaignsPorts: CampaignStore, DeviceStore
);

/// Firmware campaigns and their waves.
#[derive(Clone)]
pub struct Campaigns {
    store: Arc<dyn CampaignsPorts>,
    clock: Arc<dyn Clock>,
    access: Access,
    commands: Commands,
    feeds: Feeds,
}

/// What `Campaigns` is built on.
pub(crate) struct CampaignsParts {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) access: Access,
    pub(crate) commands: Commands,
    pub(crate) feeds: Feeds,
}

impl Campaigns {
    pub(crate) fn new(store: Arc<dyn CampaignsPorts>, parts: CampaignsParts) -> Self {
        let CampaignsParts {
            clock,
            access,
            commands,
            feeds,
        } = parts;
        Self {
            store,
            clock,
            access,
            commands,
            feeds,
        }
    }
}

impl Campaigns {
    async fn visible_campaign(&self, caller: &Caller, id: CampaignId) -> Result<Campaign, Error> {
        let found = self.store.get_campaign(id).await?;
        caller.visible(
            found,
            |c| &c.operator_id,
            &format!("firmware campaign {id}"),
        )
    }

    pub async fn list_campaigns(&self, caller: &Caller) -> Result<Vec<CampaignView>, Error> {
        let mut out = Vec::new();
        for op in self.access.scope(caller).await? {
            out.extend(
                self.store
                    .operator_campaigns(&op)
                    .await?
                    .into_iter()
                    .map(CampaignView::from),
            );
        }
        out.sort_by_key(|c| std::cmp::Reverse(c.campaign_id));
        Ok(out)
    }

    pub async fn campaign_detail(
        &self,
        caller: &Caller,
        id: CampaignId,
    ) -> Result<CampaignView, Error> {
        Ok(self.visible_campaign(caller, id).await?.into())
    }

    /// Creates a campaign over the devices that need the target version
    /// and sends its first wave.
    pub async fn create_campaign(
        &self,
        caller: &Caller,
        draft: CampaignDraft,
    ) -> Result<CampaignView, Error> {
        caller.require(Role::Operator)?;
        let (operator_id, devices) = match draft.site_id {
            Some(site) => {
                let site = self.access.visible_site(caller, site).await?;
                if draft
                    .operator_id
                    .as_ref()
                    .is_some_and(|op| *op != site.operator_id)
                {
                    return Err(Error::invalid(
                        "operator_id",
                        "is not the operator of site_id",
                    ));
                }
                let members = self.access.site_members(&site).await?;
                (site.operator_id, members)
            }
            None => {
                let op = self
                    .access
                    .owning_operator(caller, draft.operator_id.clone())?;
                let devices = self.access.operator_devices(&op).await?;
                (op, devices)
            }
        };
        let now = self.clock.now();
        let mut eligible: Vec<DeviceId> = devices
            .iter()
            .filter(|d| d.model == draft.model && d.firmware_version != draft.target_version)
            .map(|d| d.device_id)
            .collect();
        if eligible.is_empty() {
            return Err(Error::invalid(
                "model",
                format!(
                    "no device of model {} needs firmware {}",
                    draft.model, draft.target_version
                ),
            ));
        }
        eligible.sort();
        self.refuse_overlap(&operator_id, &draft.model, &eligible)
            .await?;
        let count = u32::try_from(eligible.len()).unwrap_or(u32::MAX);
        let campaign = Campaign {
            campaign_id: CampaignId::time_ordered(),
            operator_id,
            model: draft.model,
            target_version: draft.target_version,
            firmware_url: draft.firmware_url,
            site_id: draft.site_id,
            waves: draft.waves,
            failure_threshold_pct: draft.failure_threshold_pct,
            status: CampaignStatus::Running,
            wave: 0,
            paused_reason: None,
            counts: CampaignCounts {
                eligible: count,
                pending: count,
                ..CampaignCounts::default()
            },
            resumed_wave: None,
            revision: 0,
            created_at: now,
            updated_at: now,
        };
        let members: Vec<CampaignMember> = eligible
            .into_iter()
            .map(|device_id| CampaignMember {
                device_id,
                state: MemberState::Pending,
                wave: None,
                sent_at: None,
                timed_out: false,
                updated_at: now,
            })
            .collect();
        let activity = self
            .feeds
            .activity(
                "campaign.created",
                &campaign.operator_id,
                format!(
                    "firmware {} for {} {} devices",
                    campaign.target_version, count, campaign.model
                ),
            )
            .with_site(campaign.site_id)
            .done();
        self.store
            .insert_campaign(&campaign, &members, &activity)
            .await?;
        Ok(self.advance_campaign(campaign).await?.into())
    }

    /// A device belongs to at most one running (or paused) campaign until
    /// it has its outcome: two campaigns sending it updates would each wait
    /// for the version the other installs. Only campaigns of the same
    /// model can share devices, and creation is rare, so this reads the
    /// operator's campaigns and the members of those few.
    async fn refuse_overlap(
        &self,
        operator: &OperatorId,
        model: &str,
        eligible: &[DeviceId],
    ) -> Result<(), Error> {
        let wanted: std::collections::HashSet<&DeviceId> = eligible.iter().collect();
        for other in self.store.operator_campaigns(operator).await? {
            if !other.status.is_active() || other.model != model {
                continue;
            }
            let shared = self
                .store
                .campaign_members(other.campaign_id)
                .await?
                .into_iter()
                .filter(|m| matches!(m.state, MemberState::Pending | MemberState::Updating))
                .filter(|m| wanted.contains(&m.device_id))
                .count();
            if shared > 0 {
                return Err(Error::Conflict(format!(
                    "{shared} of these devices belong to {} firmware campaign {} (to {}); \
                     cancel it or wait until it ends",
                    other.status.as_str(),
                    other.campaign_id,
                    other.target_version
                )));
            }
        }
        Ok(())
    }

    /// Pause, resume or cancel (operator role).
    pub async fn campaign_action(
        &self,
        caller: &Caller,
        id: CampaignId,
        action: CampaignAction,
    ) -> Result<CampaignView, Error> {
        let mut campaign = self.visible_campaign(caller, id).await?;
        caller.require(Role::Operator)?;
        for _ in 0..WRITE_ATTEMPTS {
            let read = campaign.revision;
            let mut next = campaign.clone();
            match (action, campaign.status) {
                (CampaignAction::Pause, CampaignStatus::Running) => {
                    next.status = CampaignStatus::Paused;
                    next.paused_reason = Some(format!("paused by {}", caller.client_id));
                }
                (CampaignAction::Resume, CampaignStatus::Paused) => {
                    next.status = CampaignStatus::Running;
                    next.paused_reason = None;
                    next.resumed_wave = Some(next.wave);
                }
                (CampaignAction::Cancel, s) if s.is_active() => {
                    next.status = CampaignStatus::Cancelled;
                    next.paused_reason = None;
                }
                (_, status) => {
                    return Err(Error::Conflict(format!(
                        "firmware campaign {id} is {}",
                        status.as_str()
                    )));
                }
            }
            next.revision += 1;
            next.updated_at = self.clock.now();
            let activity = self
                .feeds
                .activity(
                    &format!("campaign.{}", next.status.as_str()),
                    &next.operator_id,
                    format!(
                        "firmware campaign {} {}",
                        next.target_version,
                        next.status.as_str()
                    ),
                )
                .done();
            match self
                .store
                .update_campaign(&next, read, Some(&activity))
                .await?
            {
                WriteOutcome::Written if next.status == CampaignStatus::Running => {
                    return Ok(self.advance_campaign(next).await?.into());
                }
                WriteOutcome::Written => return Ok(next.into()),
                WriteOutcome::Conflict => campaign = self.reread_campaign(id).await?,
            }
        }
        Err(Error::Conflict(format!(
            "firmware campaign {id} is changing; retry"
        )))
    }

    pub(crate) async fn reread_campaign(&self, id: CampaignId) -> Result<Campaign, Error> {
        self.store
            .get_campaign(id)
            .await?
            .ok_or_else(|| Error::internal(format!("firmware campaign {id} vanished")))
    }
}
