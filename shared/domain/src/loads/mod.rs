//! Site load management (contract §16): a site's grid connection shared
//! among the sessions plugged in, recomputed as they come and go, and
//! sent as power limits to the connectors whose share changed.

mod allocate;
mod port;

pub use allocate::{Budget, Session, Share, allocate};
pub use port::LoadStore;

use crate::commands::params::SetPowerLimit;
use crate::commands::{Command, CommandParams, Commands, NewCommand, Settled};
use crate::devices::DeviceStore;
use crate::sites::SiteStore;
use crate::sites::capacity::{cap, live_connectors};
use chrono::{DateTime, Duration, Utc};
use kernel::catalogue::rating;
use kernel::error::Error;
use kernel::ids::{ConnectorId, DeviceId, SiteId};
use kernel::model::{CommandStatus, ConnectorState, Device, LoadManagement, Site};
use kernel::storage::WriteOutcome;
use kernel::{Clock, Settings};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a session needs at least where the site says nothing, kW.
pub const DEFAULT_MIN_SESSION_KW: f64 = 1.4;
/// While only draws move, a site is recomputed at most this often.
const RECOMPUTE_EVERY: Duration = Duration::seconds(30);
/// A site's settings are read at most this often per process.
const SITE_KEPT_FOR: Duration = Duration::seconds(30);
/// Recomputations that lost a race are run again this often.
const ATTEMPTS: usize = 5;

/// A site's shares as last computed, with the version writes check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteAllocation {
    pub site_id: SiteId,
    pub version: u64,
    pub computed_at: DateTime<Utc>,
    pub shares: Vec<Share>,
}

/// A connector's part of the site, as `GET /v1/sites/:id` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectorShare {
    pub device_id: DeviceId,
    pub connector_id: ConnectorId,
    pub limit_kw: f64,
    /// kW drawn now.
    pub power: f64,
}

/// A site's load management and its live allocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoadView {
    pub enabled: bool,
    pub capacity_kw: f64,
    pub min_session_kw: f64,
    pub reserve_kw: f64,
    /// The sum of the limits handed out.
    pub allocated_kw: f64,
    pub connectors: Vec<ConnectorShare>,
}

/// The load management view of a site from its devices and allocation.
pub fn load_view(
    site: &Site,
    lm: &LoadManagement,
    allocation: Option<&SiteAllocation>,
    devices: &[Device],
) -> LoadView {
    let shares = allocation.map_or(&[][..], |a| &a.shares[..]);
    let power = |s: &Share| {
        devices
            .iter()
            .find(|d| d.device_id == s.device_id)
            .and_then(|d| d.connectors.get(&s.connector_id))
            .map_or(0.0, |c| c.power)
    };
    LoadView {
        enabled: lm.enabled,
        capacity_kw: lm.capacity_kw.unwrap_or(site.power_capacity),
        min_session_kw: lm.min_session_kw.unwrap_or(DEFAULT_MIN_SESSION_KW),
        reserve_kw: lm.reserve_kw.unwrap_or(0.0),
        // `+ 0.0`: an empty sum is -0.0.
        allocated_kw: (shares.iter().map(|s| s.limit_kw).sum::<f64>() * 10.0).round() / 10.0 + 0.0,
        connectors: shares
            .iter()
            .map(|s| ConnectorShare {
                device_id: s.device_id,
                connector_id: s.connector_id,
                limit_kw: s.limit_kw,
                power: power(s),
            })
            .collect(),
    }
}

/// What the site may hand out now: its capacity less the reserve, and
/// less what an active flexibility cap takes away.
fn budget(site: &Site, lm: &LoadManagement, now: DateTime<Utc>) -> Budget {
    let capacity = lm.capacity_kw.unwrap_or(site.power_capacity);
    let capped = capacity.min(cap(site, now));
    Budget {
        available_kw: capped - lm.reserve_kw.unwrap_or(0.0),
        min_session_kw: lm.min_session_kw.unwrap_or(DEFAULT_MIN_SESSION_KW),
    }
}

/// Connectors with a session charging or about to.
fn in_session(state: ConnectorState) -> bool {
    matches!(
        state,
        ConnectorState::Charging | ConnectorState::Suspended | ConnectorState::Preparing
    )
}

ports!(
    /// The ports load management uses.
    LoadsPorts: LoadStore, SiteStore, DeviceStore
);

/// What `Loads` is built on.
pub(crate) struct LoadsParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) commands: Commands,
}

type KeptSites = Mutex<HashMap<SiteId, (DateTime<Utc>, Option<Site>)>>;

/// Site load management.
#[derive(Clone)]
pub struct Loads {
    store: Arc<dyn LoadsPorts>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    commands: Commands,
    /// Sites with load management on, as read (per process, briefly).
    sites: Arc<KeptSites>,
}

impl Loads {
    pub(crate) fn new(store: Arc<dyn LoadsPorts>, parts: LoadsParts) -> Self {
        let LoadsParts {
            settings,
            clock,
            commands,
        } = parts;
        Self {
            store,
            settings,
            clock,
            commands,
            sites: Arc::default(),
        }
    }

    /// The site when its load is managed, read at most every 30 s.
    async fn managed_site(&self, id: SiteId) -> Result<Option<Site>, Error> {
        let now = self.clock.now();
        {
            let kept = self.sites.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, site)) = kept.get(&id)
                && now - *at < SITE_KEPT_FOR
                && *at <= now
            {
                return Ok(site.clone());
            }
        }
        let site = self
            .store
            .get_site(id)
            .await?
            .filter(|s| s.load_management.is_some_and(|lm| lm.enabled));
        let mut kept = self.sites.lock().unwrap_or_else(|e| e.into_inner());
        kept.insert(id, (now, site.clone()));
        Ok(site)
    }

    /// A connector of `device` moved (`changed`: its state did) or drew
    /// anew: its site's shares follow. Never fails what reported it.
    pub(crate) async fn connector_moved(&self, device: &Device, changed: bool) {
        let Some(site) = device.site_id else {
            return;
        };
        let result = match self.managed_site(site).await {
            Ok(Some(site)) => self.recompute(&site, !changed).await,
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::warn!(site_id = %site, error = %e, "load management not recomputed");
        }
    }

    /// A site's settings changed: its shares are computed again now, or,
    /// where load management was turned off, the limits it sent lifted to
    /// each model's rating and the shares dropped.
    pub async fn site_changed(&self, site: &Site) -> Result<(), Error> {
        self.sites
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&site.site_id);
        if site.load_management.is_some_and(|lm| lm.enabled) {
            return self.recompute(site, false).await;
        }
        for _ in 0..ATTEMPTS {
            let Some(before) = self
                .store
                .get_allocation(site.site_id)
                .await?
                .filter(|a| !a.shares.is_empty())
            else {
                return Ok(());
            };
            let devices = self.store.site_devices(site.site_id).await?;
            let cleared = SiteAllocation {
                version: before.version + 1,
                computed_at: self.clock.now(),
                shares: Vec::new(),
                ..before.clone()
            };
            if self
                .store
                .save_allocation(&cleared, Some(before.version))
                .await?
                == WriteOutcome::Written
            {
                let lifted: Vec<Share> = before
                    .shares
                    .iter()
                    .filter_map(|s| {
                        let d = devices.iter().find(|d| d.device_id == s.device_id)?;
                        Some(Share {
                            limit_kw: rating(&d.model).max_power_kw,
                            ..s.clone()
                        })
                    })
                    .collect();
                self.send(&devices, &before.shares, &lifted).await;
                return Ok(());
            }
        }
        Err(Error::Conflict(format!(
            "site {}'s allocation is being changed concurrently",
            site.site_id
        )))
    }

    /// Shares the site's power among its sessions and sends the limits
    /// that changed. `throttled`: skipped within 30 s of the last
    /// computation when the same sessions run.
    pub async fn recompute(&self, site: &Site, throttled: bool) -> Result<(), Error> {
        let Some(lm) = site.load_management.filter(|lm| lm.enabled) else {
            return Ok(());
        };
        for _ in 0..ATTEMPTS {
            let before = self.store.get_allocation(site.site_id).await?;
            let now = self.clock.now();
            let devices = self.store.site_devices(site.site_id).await?;
            let sessions: Vec<Session> =
                live_connectors(site, &devices, now, self.settings.offline_after())
                    .filter(|(_, _, c)| in_session(c.state))
                    .map(|(d, id, c)| Session {
                        device_id: d.device_id,
                        connector_id: id,
                        since: c
                            .session
                            .as_ref()
                            .map(|t| t.started_at)
                            .or(c.since)
                            .unwrap_or(now),
                        rating_kw: rating(&d.model).max_power_kw,
                        power_kw: c.power,
                        sampled_at: c.sample_ts,
                    })
                    .collect();
            let previous = before.as_ref().map_or(&[][..], |b| &b.shares[..]);
            let same = previous.len() == sessions.len()
                && sessions.iter().all(|s| {
                    previous
                        .iter()
                        .any(|p| p.device_id == s.device_id && p.connector_id == s.connector_id)
                });
            if throttled
                && same
                && before
                    .as_ref()
                    .is_some_and(|b| now - b.computed_at < RECOMPUTE_EVERY)
            {
                return Ok(());
            }
            let next = SiteAllocation {
                site_id: site.site_id,
                version: before.as_ref().map_or(1, |b| b.version + 1),
                computed_at: now,
                shares: allocate(budget(site, &lm, now), &sessions, previous),
            };
            match self
                .store
                .save_allocation(&next, before.as_ref().map(|b| b.version))
                .await?
            {
                WriteOutcome::Written => {
                    self.send(&devices, previous, &next.shares).await;
                    return Ok(());
                }
                WriteOutcome::Conflict => continue,
            }
        }
        Err(Error::Conflict(format!(
            "site {}'s allocation is being changed concurrently",
            site.site_id
        )))
    }

    /// Queues a power limit for each share that changed.
    async fn send(&self, devices: &[Device], before: &[Share], after: &[Share]) {
        for share in after {
            let unchanged = before.iter().any(|p| {
                p.device_id == share.device_id
                    && p.connector_id == share.connector_id
                    && p.limit_kw == share.limit_kw
            });
            let Some(device) = devices.iter().find(|d| d.device_id == share.device_id) else {
                continue;
            };
            if unchanged || !share.steerable {
                continue;
            }
            let new = NewCommand {
                connector_id: Some(share.connector_id),
                params: CommandParams::SetPowerLimit(SetPowerLimit {
                    limit_kw: share.limit_kw,
                    duration_s: None,
                }),
                origin: None,
            };
            if let Err(e) = self.commands.queue_command(device, new, None).await {
                tracing::warn!(device_id = %device.device_id, error = %e, "power limit not queued");
            }
        }
    }
}

/// A charger that refused or failed a power limit cannot be steered: its
/// share counts at its rating until its session ends (contract §16).
pub(crate) struct LimitRefusals {
    store: Arc<dyn LoadsPorts>,
}

impl LimitRefusals {
    pub(crate) fn new(store: Arc<dyn LoadsPorts>) -> Self {
        Self { store }
    }
}

#[async_trait::async_trait]
impl Settled for LimitRefusals {
    async fn settled(&self, cmd: &Command, _: DateTime<Utc>) -> Result<(), Error> {
        let refused = matches!(
            cmd.status,
            CommandStatus::Failed | CommandStatus::Rejected | CommandStatus::Expired
        );
        let (CommandParams::SetPowerLimit(_), Some(connector), true) =
            (&cmd.params, cmd.connector_id, refused)
        else {
            return Ok(());
        };
        let Some(site) = self
            .store
            .get_device(cmd.device_id)
            .await?
            .and_then(|d| d.site_id)
        else {
            return Ok(());
        };
        for _ in 0..ATTEMPTS {
            let Some(mut allocation) = self.store.get_allocation(site).await? else {
                return Ok(());
            };
            let Some(share) = allocation.shares.iter_mut().find(|s| {
                s.device_id == cmd.device_id && s.connector_id == connector && s.steerable
            }) else {
                return Ok(());
            };
            share.steerable = false;
            let expected = allocation.version;
            allocation.version += 1;
            if self
                .store
                .save_allocation(&allocation, Some(expected))
                .await?
                == WriteOutcome::Written
            {
                tracing::info!(device_id = %cmd.device_id, "a refused power limit: counted at its rating");
                return Ok(());
            }
        }
        Err(Error::Conflict(format!(
            "site {site}'s allocation is being changed concurrently"
        )))
    }
}
