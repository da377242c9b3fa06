//! Console reads, each scoped to the caller's operators: lists query the
//! operator's own partitions; by-id reads answer 404 for what the caller
//! may not see, exactly as for what does not exist.

pub mod energy;
mod firmware;
mod models;
pub mod paging;
pub mod views;

pub use energy::{EnergyQuery, EnergyTarget, Granularity};
pub use paging::Paging;

use crate::Domain;
use crate::access::Caller;
use crate::error::Error;
use crate::ids::{CommandId, DeviceId, OperatorId, RecordId, SiteId};
use crate::model::{ChargingRecord, CommandStatus, Device, HistoryEntry};
use crate::sites::capacity;
use chrono::{DateTime, Duration, Utc};
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
}

impl Domain {
    fn offline_after(&self) -> Duration {
        self.settings.offline_after()
    }

    /// Every device of an operator, a page (one Query and one BatchGet) at
    /// a time.
    pub(crate) async fn operator_devices(&self, op: &OperatorId) -> Result<Vec<Device>, Error> {
        const PAGE: u32 = 100;
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .store
                .operator_devices(op, PAGE, cursor.as_deref())
                .await?;
            out.extend(page.items);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(out),
            }
        }
    }

    pub(crate) async fn devices_in_scope(&self, caller: &Caller) -> Result<Vec<Device>, Error> {
        let mut out = Vec::new();
        for op in self.scope(caller).await? {
            out.extend(self.operator_devices(&op).await?);
        }
        Ok(out)
    }

    /// The devices of a site that belong to its operator.
    pub(crate) async fn site_members(
        &self,
        site: &crate::model::Site,
    ) -> Result<Vec<Device>, Error> {
        Ok(self
            .store
            .site_devices(site.site_id)
            .await?
            .into_iter()
            .filter(|d| d.operator_id == site.operator_id)
            .collect())
    }

    pub async fn list_sites(
        &self,
        caller: &Caller,
        paging: Paging,
    ) -> Result<ListPage<SiteView>, Error> {
        let now = self.clock.now();
        let mut views = Vec::new();
        for op in self.scope(caller).await? {
            let devices = self.operator_devices(&op).await?;
            for site in self.store.operator_sites(&op).await? {
                let members: Vec<&Device> = devices
                    .iter()
                    .filter(|d| d.site_id == Some(site.site_id))
                    .collect();
                views.push(site_view(&site, &members, now, self.offline_after()));
            }
        }
        views.sort_by(|a, b| a.name.cmp(&b.name).then(a.site_id.cmp(&b.site_id)));
        Ok(ListPage::slice(views, paging.page, paging.size))
    }

    pub async fn site_detail(&self, caller: &Caller, id: SiteId) -> Result<SiteDetail, Error> {
        let site = self.visible_site(caller, id).await?;
        let now = self.clock.now();
        let devices = self.site_members(&site).await?;
        let refs: Vec<&Device> = devices.iter().collect();
        let current_power = capacity::load(&site, &devices, now, self.offline_after(), None);
        Ok(SiteDetail {
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

    pub async fn list_devices(
        &self,
        caller: &Caller,
        filter: DeviceFilter,
        paging: Paging,
    ) -> Result<ListPage<DeviceView>, Error> {
        let devices = match filter.site_id {
            Some(id) => {
                let site = self.visible_site(caller, id).await?;
                self.site_members(&site).await?
            }
            None => self.devices_in_scope(caller).await?,
        };
        let now = self.clock.now();
        let mut views: Vec<DeviceView> = devices
            .iter()
            .filter(|d| filter.model.as_ref().is_none_or(|m| &d.model == m))
            .map(|d| device_view(d, now, self.offline_after()))
            .filter(|v| filter.status.is_none_or(|s| v.status == s))
            .collect();
        views.sort_by(|a, b| a.sn.cmp(&b.sn));
        Ok(ListPage::slice(views, paging.page, paging.size))
    }

    pub async fn device_detail(&self, caller: &Caller, id: DeviceId) -> Result<DeviceView, Error> {
        let d = self.visible_device(caller, id).await?;
        Ok(device_view(&d, self.clock.now(), self.offline_after()))
    }

    pub async fn device_connectors(
        &self,
        caller: &Caller,
        id: DeviceId,
    ) -> Result<ListPage<ConnectorView>, Error> {
        let d = self.visible_device(caller, id).await?;
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
    ) -> Result<ListPage<ChargingRecord>, Error> {
        let from = filter.from.unwrap_or(DateTime::<Utc>::MIN_UTC);
        let to = filter
            .to
            .unwrap_or_else(|| self.clock.now() + Duration::days(1));
        if from > to {
            // Only `from` was given, past everything recorded.
            return Ok(ListPage::slice(Vec::new(), paging.page, paging.size));
        }
        let mut records = Vec::new();
        for op in self.scope(caller).await? {
            records.extend(
                self.store
                    .operator_records(&op, from, to)
                    .await?
                    .into_iter()
                    .filter(|r| filter.site_id.is_none_or(|s| r.site_id == Some(s)))
                    .filter(|r| filter.device_id.is_none_or(|d| r.device_id == d)),
            );
        }
        records.sort_by(|a, b| {
            b.start_time
                .cmp(&a.start_time)
                .then(b.record_id.cmp(&a.record_id))
        });
        Ok(ListPage::slice(records, paging.page, paging.size))
    }

    pub async fn record_detail(
        &self,
        caller: &Caller,
        id: RecordId,
    ) -> Result<ChargingRecord, Error> {
        let found = self.store.get_record(id).await?;
        caller.visible(found, |r| &r.operator_id, &format!("charging record {id}"))
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
