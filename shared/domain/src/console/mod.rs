//! Console reads, each scoped to the caller's operators: lists query the
//! operator's own partitions; by-id reads answer 404 for what the caller
//! may not see, exactly as for what does not exist.

pub mod energy;
mod firmware;
mod models;
pub mod paging;
pub mod revenue;
pub mod views;

pub use energy::{EnergyQuery, EnergyTarget};
pub use paging::Paging;
pub use revenue::{RevenuePoint, RevenueQuery, RevenueSeries, RevenueTotal};
pub use views::Granularity;

use crate::access::Access;
use crate::commands::CommandStore;
use crate::devices::DeviceStore;
use crate::loads::{LoadStore, load_view};
use crate::records::RecordStore;
use crate::sites::SiteStore;
use crate::sites::capacity;
use crate::telemetry::TelemetryStore;
use chrono::{DateTime, Duration, Utc};
use futures_util::future::try_join_all;
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::{CommandId, DeviceId, RecordId, SiteId};
use kernel::model::{CommandStatus, Device, DeviceStatus, HistoryEntry};
use kernel::{Clock, Settings};
use std::sync::Arc;
use views::*;

/// `GET /v1/devices` filters, parsed.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    pub site_id: Option<SiteId>,
    pub status: Option<DeviceStatus>,
    pub model: Option<String>,
}

/// `GET /v1/charging-records` filters, parsed; `from <= to` holds.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    pub site_id: Option<SiteId>,
    pub device_id: Option<DeviceId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Sessions started with this driver token (case-insensitive).
    pub id_tag: Option<String>,
}

/// The positions `start..end` a page covers in its list.
fn window(paging: Paging) -> (usize, usize) {
    let size = paging.size as usize;
    let start = (paging.page.saturating_sub(1) as usize).saturating_mul(size);
    (start, start.saturating_add(size))
}

/// Devices in serial-number order, positions `start..end`.
fn in_order(mut devices: Vec<Device>, start: usize, end: usize) -> Vec<Device> {
    devices.sort_by(|a, b| a.sn.cmp(&b.sn).then(a.device_id.cmp(&b.device_id)));
    devices
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect()
}

ports!(
    /// The ports the console's reads use.
    ConsolePorts: DeviceStore, SiteStore, RecordStore, CommandStore, TelemetryStore, LoadStore
);

/// The operators' reads.
#[derive(Clone)]
pub struct Console {
    store: Arc<dyn ConsolePorts>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    access: Access,
}

/// What `Console` is built on.
pub(crate) struct ConsoleParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) access: Access,
}

impl Console {
    pub(crate) fn new(store: Arc<dyn ConsolePorts>, parts: ConsoleParts) -> Self {
        let ConsoleParts {
            settings,
            clock,
            access,
        } = parts;
        Self {
            store,
            settings,
            clock,
            access,
        }
    }
}

impl Console {
    fn offline_after(&self) -> Duration {
        self.settings.offline_after()
    }

    /// A page of sites in name order: each operator's first `page * size`
    /// sites merged, then the members of the page's sites only; the total
    /// from the counters.
    pub async fn list_sites(
        &self,
        caller: &Caller,
        paging: Paging,
    ) -> Result<ListPage<SiteView>, Error> {
        let now = self.clock.now();
        let (start, end) = window(paging);
        let mut total = 0;
        let mut sites = Vec::new();
        for op in self.access.scope(caller).await? {
            total += self.store.fleet_counts(&op).await?.site_count();
            sites.extend(self.store.first_sites(&op, end).await?);
        }
        sites.sort_by(|a, b| a.name.cmp(&b.name).then(a.site_id.cmp(&b.site_id)));
        // The page's sites are read at once: a page of 20 is 20 Queries and
        // BatchGets, one round trip deep instead of twenty.
        let page = &sites[start.min(sites.len())..end.min(sites.len())];
        let members = try_join_all(page.iter().map(|site| self.access.site_members(site))).await?;
        let items = page
            .iter()
            .zip(&members)
            .map(|(site, devices)| {
                let refs: Vec<&Device> = devices.iter().collect();
                site_view(site, &refs, now, self.offline_after())
            })
            .collect();
        Ok(ListPage {
            items,
            total,
            page: paging.page,
            size: paging.size,
        })
    }

    pub async fn site_detail(&self, caller: &Caller, id: SiteId) -> Result<SiteDetail, Error> {
        let site = self.access.visible_site(caller, id).await?;
        let now = self.clock.now();
        let devices = self.access.site_members(&site).await?;
        let refs: Vec<&Device> = devices.iter().collect();
        let current_power = capacity::load(&site, &devices, now, self.offline_after(), None);
        // The allocation is read only where load management was set.
        let load_management = match &site.load_management {
            Some(lm) => {
                let allocation = self.store.get_allocation(site.site_id).await?;
                Some(load_view(&site, lm, allocation.as_ref(), &devices))
            }
            None => None,
        };
        Ok(SiteDetail {
            load_management,
            site: site_view(&site, &refs, now, self.offline_after()),
            current_power,
            utilisation_percentage: (current_power.max(0.0) * 1000.0 / site.power_capacity).round()
                / 10.0,
            devices: devices
                .iter()
                .map(|d| device_view(d, now, self.offline_after()))
                .collect(),
        })
    }

    /// A page of devices in serial-number order. Unfiltered, it reads each
    /// operator's first `page * size` listing entries and the page's devices,
    /// the total from the counters. A model filter reads devices in order
    /// until the page is full (the total from the counters); a status filter
    /// (derived from `last_seen` at read time) reads the whole fleet.
    pub async fn list_devices(
        &self,
        caller: &Caller,
        filter: DeviceFilter,
        paging: Paging,
    ) -> Result<ListPage<DeviceView>, Error> {
        let now = self.clock.now();
        let keep = |d: &Device| {
            filter.model.as_ref().is_none_or(|m| &d.model == m)
                && filter
                    .status
                    .is_none_or(|s| d.status(now, self.offline_after()) == s)
        };
        let (start, end) = window(paging);
        let (devices, total) = match (filter.site_id, &filter.model, filter.status) {
            (Some(id), _, _) => {
                let site = self.access.visible_site(caller, id).await?;
                let members: Vec<Device> = self
                    .access
                    .site_members(&site)
                    .await?
                    .into_iter()
                    .filter(|d| keep(d))
                    .collect();
                let total = members.len();
                (in_order(members, start, end), total)
            }
            (None, None, None) => self.device_page(caller, start, end).await?,
            (None, Some(model), None) => {
                let mut found = Vec::new();
                let mut total = 0;
                for op in self.access.scope(caller).await? {
                    total += self
                        .store
                        .fleet_counts(&op)
                        .await?
                        .builds()
                        .filter(|((m, _, _), _)| m == model)
                        .map(|(_, n)| n as usize)
                        .sum::<usize>();
                    found.extend(self.access.devices_where(&op, end, &keep).await?);
                }
                (in_order(found, start, end), total)
            }
            (None, _, Some(_)) => {
                let mut found = Vec::new();
                for op in self.access.scope(caller).await? {
                    found.extend(self.access.devices_where(&op, usize::MAX, &keep).await?);
                }
                let total = found.len();
                (in_order(found, start, end), total)
            }
        };
        Ok(ListPage {
            items: devices
                .iter()
                .map(|d| device_view(d, now, self.offline_after()))
                .collect(),
            total,
            page: paging.page,
            size: paging.size,
        })
    }

    /// The page `start..end` of the caller's devices in serial-number
    /// order, reading only listing entries up to `end` and the page's
    /// devices, and how many devices there are in all.
    async fn device_page(
        &self,
        caller: &Caller,
        start: usize,
        end: usize,
    ) -> Result<(Vec<Device>, usize), Error> {
        let mut listed = Vec::new();
        let mut total = 0;
        for op in self.access.scope(caller).await? {
            total += self.store.fleet_counts(&op).await?.devices();
            listed.extend(self.store.operator_listing(&op, end).await?);
        }
        listed.sort();
        let ids: Vec<DeviceId> = listed
            .iter()
            .skip(start)
            .take(end - start)
            .map(|l| l.device_id)
            .collect();
        let devices = self.store.get_devices(&ids).await?;
        Ok((in_order(devices, 0, usize::MAX), total))
    }

    pub async fn device_detail(&self, caller: &Caller, id: DeviceId) -> Result<DeviceView, Error> {
        let d = self.access.visible_device(caller, id).await?;
        Ok(device_view(&d, self.clock.now(), self.offline_after()))
    }

    pub async fn device_connectors(
        &self,
        caller: &Caller,
        id: DeviceId,
    ) -> Result<ListPage<ConnectorView>, Error> {
        let d = self.access.visible_device(caller, id).await?;
        let now = self.clock.now();
        let schedules = self.store.device_schedules(d.device_id).await?;
        let mut items = connectors_of(&d);
        for c in &mut items {
            c.schedule = schedules
                .iter()
                .find(|(cid, s)| *cid == c.connector_id && s.active_at(now))
                .map(|(_, s)| s.clone());
        }
        let size = u32::try_from(items.len().max(1)).unwrap_or(u32::MAX);
        Ok(ListPage::slice(items, 1, size))
    }

    pub async fn list_records(
        &self,
        caller: &Caller,
        filter: RecordFilter,
        paging: Paging,
    ) -> Result<ListPage<RecordView>, Error> {
        let from = filter.from.unwrap_or(DateTime::<Utc>::MIN_UTC);
        let to = filter
            .to
            .unwrap_or_else(|| self.clock.now() + Duration::days(1));
        if from > to {
            // Only `from` was given, past everything recorded.
            return Ok(ListPage::slice(Vec::new(), paging.page, paging.size));
        }
        let mut records = Vec::new();
        for op in self.access.scope(caller).await? {
            records.extend(
                self.store
                    .operator_records(&op, from, to)
                    .await?
                    .into_iter()
                    .filter(|r| filter.site_id.is_none_or(|s| r.site_id == Some(s)))
                    .filter(|r| filter.device_id.is_none_or(|d| r.device_id == d))
                    .filter(|r| {
                        filter.id_tag.as_deref().is_none_or(|t| {
                            r.id_tag
                                .as_deref()
                                .is_some_and(|r| r.eq_ignore_ascii_case(t))
                        })
                    }),
            );
        }
        records.sort_by(|a, b| {
            b.start_time
                .cmp(&a.start_time)
                .then(b.record_id.cmp(&a.record_id))
        });
        let records = records.into_iter().map(RecordView::from).collect();
        Ok(ListPage::slice(records, paging.page, paging.size))
    }

    pub async fn record_detail(&self, caller: &Caller, id: RecordId) -> Result<RecordView, Error> {
        let found = self.store.get_record(id).await?;
        caller
            .visible(found, |r| &r.operator_id, &format!("charging record {id}"))
            .map(RecordView::from)
    }

    pub async fn command_detail(
        &self,
        caller: &Caller,
        id: CommandId,
    ) -> Result<CommandDetail, Error> {
        let found = self.store.get_command(id).await?;
        let mut cmd = caller.visible(found, |c| &c.operator_id, &format!("command {id}"))?;
        // Expiry is derived, not swept: an open command past its time is
        // expired even before any delivery attempt records it.
        if cmd.status.is_open() && self.clock.now() >= cmd.expires_at {
            cmd.status = CommandStatus::Expired;
            cmd.history.push(HistoryEntry {
                status: CommandStatus::Expired,
                at: cmd.expires_at,
                message: None,
            });
        }
        Ok(CommandDetail {
            command: cmd.view(),
            history: cmd.history,
        })
    }
}
