//! How a campaign moves: the firmware report that finishes a wave sends
//! the next one (or pauses the campaign), and a scheduled sweep fails the
//! devices that stayed silent for an hour and then does the same.

use super::waves::{Step, next_step};
use super::{Campaign, CampaignMember, CampaignStatus, Campaigns, LinkChange, MemberState};
use crate::commands::params::UpdateFirmware;
use crate::commands::{CommandParams, NewCommand};
use crate::telemetry::FirmwareReported;
use async_trait::async_trait;
use chrono::Duration;
use kernel::error::Error;
use kernel::ids::DeviceId;
use kernel::model::CampaignLink;
use kernel::model::{Device, FirmwareStatus};
use kernel::storage::WriteOutcome;
use kernel::version::FirmwareVersion;

/// A device sent an update that has not reported an outcome after this
/// long counts as failed.
pub const UPDATE_TIMEOUT: Duration = Duration::hours(1);
/// Steps taken in one go: a wave to start and its devices to send, a
/// few times over for conflicting writers.
const MAX_STEPS: usize = 16;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    pub campaigns: usize,
    pub timed_out: usize,
}

impl Campaigns {
    /// Counts a device's firmware outcome in the campaign that sent it the
    /// update, and moves the campaign on if that finished a wave. Devices in
    /// no campaign never get here: the link rides on the device item.
    async fn campaign_report(
        &self,
        device: &Device,
        link: &CampaignLink,
        status: FirmwareStatus,
        version: &FirmwareVersion,
    ) -> Result<(), Error> {
        let to = match status {
            FirmwareStatus::Installed if *version == link.target_version => MemberState::Installed,
            FirmwareStatus::Installed => return Ok(()),
            s if s.is_outcome() => MemberState::Failed,
            _ => return Ok(()),
        };
        let Some(member) = self
            .store
            .get_member(link.campaign_id, device.device_id)
            .await?
        else {
            return Ok(());
        };
        // A timed-out device that installs after all counts as installed;
        // any other settled device stays as it is.
        let moves = match member.state {
            MemberState::Updating => true,
            MemberState::Failed => member.timed_out && to == MemberState::Installed,
            _ => false,
        };
        if !moves {
            return Ok(());
        }
        let from = member.state;
        let next = CampaignMember {
            state: to,
            timed_out: false,
            updated_at: self.clock.now(),
            ..member
        };
        let moved = self
            .store
            .move_member(link.campaign_id, &next, from, LinkChange::Clear)
            .await?;
        if moved == WriteOutcome::Written && from == MemberState::Updating {
            let campaign = self.reread_campaign(link.campaign_id).await?;
            self.advance_campaign(campaign).await?;
        }
        Ok(())
    }

    /// Takes a running campaign as far as it can go now: sends what its
    /// current wave still owes, then, once the wave has finished, pauses
    /// it, completes it or starts the next wave.
    pub(crate) async fn advance_campaign(&self, mut c: Campaign) -> Result<Campaign, Error> {
        for _ in 0..MAX_STEPS {
            if c.status != CampaignStatus::Running {
                return Ok(c);
            }
            let read = c.revision;
            let mut next = c.clone();
            match next_step(&c) {
                Step::Wait => return Ok(c),
                Step::Send(n) => {
                    self.send_updates(&c, n).await?;
                    c = self.reread_campaign(c.campaign_id).await?;
                    continue;
                }
                Step::NextWave => next.wave += 1,
                Step::Pause(reason) => {
                    next.status = CampaignStatus::Paused;
                    next.paused_reason = Some(reason);
                }
                Step::Complete => next.status = CampaignStatus::Completed,
            }
            next.revision += 1;
            next.updated_at = self.clock.now();
            let activity = (next.status != CampaignStatus::Running).then(|| {
                self.feeds
                    .activity(
                        &format!("campaign.{}", next.status.as_str()),
                        &next.operator_id,
                        next.paused_reason.clone().unwrap_or_else(|| {
                            format!("firmware campaign {} completed", next.target_version)
                        }),
                    )
                    .done()
            });
            // Another writer moved it first: read it again and go on from there.
            c = match self
                .store
                .update_campaign(&next, read, activity.as_ref())
                .await?
            {
                WriteOutcome::Written => next,
                WriteOutcome::Conflict => self.reread_campaign(c.campaign_id).await?,
            };
        }
        Ok(c)
    }

    /// Sends the update to `n` pending devices. Each member moves to
    /// `updating` first, conditionally, so two writers never send one
    /// device the update twice.
    async fn send_updates(&self, c: &Campaign, n: u32) -> Result<(), Error> {
        let members = self.store.campaign_members(c.campaign_id).await?;
        let chosen: Vec<CampaignMember> = members
            .into_iter()
            .filter(|m| m.state == MemberState::Pending)
            .take(n as usize)
            .collect();
        let ids: Vec<DeviceId> = chosen.iter().map(|m| m.device_id).collect();
        let devices = self.store.get_devices(&ids).await?;
        let now = self.clock.now();
        let link = CampaignLink {
            campaign_id: c.campaign_id,
            target_version: c.target_version.clone(),
        };
        for member in chosen {
            let device = devices.iter().find(|d| d.device_id == member.device_id);
            let sent = CampaignMember {
                state: match device {
                    Some(_) => MemberState::Updating,
                    // Deleted since the campaign began: nothing to update.
                    None => MemberState::Failed,
                },
                wave: Some(c.wave),
                sent_at: Some(now),
                updated_at: now,
                ..member
            };
            let change = match device {
                Some(_) => LinkChange::Set(link.clone()),
                None => LinkChange::Keep,
            };
            let moved = self
                .store
                .move_member(c.campaign_id, &sent, MemberState::Pending, change)
                .await?;
            let (Some(device), WriteOutcome::Written) = (device, moved) else {
                continue;
            };
            let new = NewCommand {
                connector_id: None,
                params: CommandParams::UpdateFirmware(UpdateFirmware {
                    location: c.firmware_url.clone(),
                    version: c.target_version.to_string(),
                    campaign_id: Some(c.campaign_id),
                }),
                origin: None,
            };
            self.commands.queue_command(device, new, None).await?;
        }
        Ok(())
    }

    /// The scheduled sweep: fails the devices of active campaigns that have
    /// not reported an outcome within the time-out, then moves each
    /// campaign on as a report would have.
    pub async fn sweep_campaigns(&self) -> Result<Sweep, Error> {
        let now = self.clock.now();
        let mut sweep = Sweep::default();
        for campaign in self.store.active_campaigns().await? {
            sweep.campaigns += 1;
            let members = self.store.campaign_members(campaign.campaign_id).await?;
            for member in members {
                let silent = member.state == MemberState::Updating
                    && member.sent_at.is_some_and(|at| at + UPDATE_TIMEOUT <= now);
                if !silent {
                    continue;
                }
                let failed = CampaignMember {
                    state: MemberState::Failed,
                    timed_out: true,
                    updated_at: now,
                    ..member
                };
                let moved = self
                    .store
                    .move_member(
                        campaign.campaign_id,
                        &failed,
                        MemberState::Updating,
                        LinkChange::Keep,
                    )
                    .await?;
                if moved == WriteOutcome::Written {
                    sweep.timed_out += 1;
                }
            }
            let fresh = self.reread_campaign(campaign.campaign_id).await?;
            self.advance_campaign(fresh).await?;
        }
        Ok(sweep)
    }
}

#[async_trait]
impl FirmwareReported for Campaigns {
    async fn firmware_reported(
        &self,
        device: &Device,
        link: &CampaignLink,
        status: FirmwareStatus,
        version: &FirmwareVersion,
    ) -> Result<(), Error> {
        self.campaign_report(device, link, status, version).await
    }
}
