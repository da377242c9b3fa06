//! Console reads, each scoped to the caller's operators: lists query the
//! operator's own partitions; by-id reads answer 404 for what the caller
//! may not see, exactly as for what does not exist.

use crate::Domain;
use crate::energy::hour_bucket;
use crate::error::Error;
use crate::ids::{CommandId, DeviceId, OperatorId, RecordId, SiteId};
use crate::model::{ChargingRecord, Device, EnergyBucket, RequestLogEntry, Role, Site};
use crate::operators::Caller;
use crate::store::EnergyScope;
use crate::validate::Problems;
use crate::views::*;
use chrono::{DateTime, Datelike, Duration, DurationRound, NaiveDate, TimeZone, Utc};
use std::collections::BTreeMap;

/// `?page=&size=` after validation.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub page: u32,
    pub size: u32,
}

impl Paging {
    pub fn parse(page: Option<i64>, size: Option<i64>) -> Result<Self, Error> {
        let (page, size) = (page.unwrap_or(1), size.unwrap_or(20));
        let mut p = Problems::default();
        p.check(page >= 1, "page", "must be 1 or more");
        p.check((1..=100).contains(&size), "size", "must be 1..100");
        p.finish()?;
        Ok(Self {
            page: page as u32,
            size: size as u32,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    pub site_id: Option<String>,
    pub status: Option<String>,
    pub model: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    pub site_id: Option<String>,
    pub device_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EnergyQuery {
    pub granularity: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub site_id: Option<String>,
    pub device_id: Option<String>,
}

fn parse_time(p: &mut Problems, raw: &Option<String>, field: &str) -> Option<DateTime<Utc>> {
    raw.as_deref()
        .and_then(|r| match DateTime::parse_from_rfc3339(r) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => {
                p.add(
                    field,
                    "must be an RFC 3339 time such as 2026-05-10T14:00:00Z",
                );
                None
            }
        })
}

fn parse_id<T>(
    p: &mut Problems,
    raw: &Option<String>,
    field: &str,
    parse: fn(&str) -> Option<T>,
) -> Option<T> {
    raw.as_deref().and_then(|r| {
        let id = parse(r);
        if id.is_none() {
            p.add(field, "must be a UUID");
        }
        id
    })
}

fn month_start(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(t)
}

fn next_month(t: DateTime<Utc>) -> DateTime<Utc> {
    let (y, m) = if t.month() == 12 {
        (t.year() + 1, 1)
    } else {
        (t.year(), t.month() + 1)
    };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single().unwrap_or(t)
}

fn bucket_start(key: &str) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(key.get(..10)?, "%Y-%m-%d").ok()?;
    day.and_hms_opt(key.get(11..)?.parse().ok()?, 0, 0)
        .map(|t| t.and_utc())
}

impl Domain {
    fn offline_after(&self) -> Duration {
        self.settings.offline_after()
    }

    async fn visible_device(&self, caller: &Caller, id: &str) -> Result<Device, Error> {
        let not_found = || Error::NotFound(format!("device {id} not found"));
        let id = DeviceId::parse(id).ok_or_else(not_found)?;
        self.store
            .get_device(id)
            .await?
            .filter(|d| caller.sees(&d.operator_id))
            .ok_or_else(not_found)
    }

    async fn visible_site(&self, caller: &Caller, id: &str) -> Result<Site, Error> {
        let not_found = || Error::NotFound(format!("site {id} not found"));
        let id = SiteId::parse(id).ok_or_else(not_found)?;
        self.store
            .get_site(id)
            .await?
            .filter(|s| caller.sees(&s.operator_id))
            .ok_or_else(not_found)
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

    async fn devices_in_scope(&self, scope: &[OperatorId]) -> Result<Vec<Device>, Error> {
        let mut out = Vec::new();
        for op in scope {
            out.extend(self.operator_devices(op).await?);
        }
        Ok(out)
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

    pub async fn site_detail(&self, caller: &Caller, id: &str) -> Result<SiteDetail, Error> {
        let site = self.visible_site(caller, id).await?;
        let now = self.clock.now();
        let devices: Vec<Device> = self
            .store
            .site_devices(site.site_id)
            .await?
            .into_iter()
            .filter(|d| d.operator_id == site.operator_id)
            .collect();
        let refs: Vec<&Device> = devices.iter().collect();
        let current_power: f64 = devices
            .iter()
            .filter(|d| device_status(d, now, self.offline_after()) != DeviceStatus::Offline)
            .flat_map(|d| d.connectors.values())
            .map(|c| match c.state {
                crate::model::ConnectorState::Discharging => -c.power,
                _ => c.power,
            })
            .sum();
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
        let mut p = Problems::default();
        let status = filter.status.as_deref().and_then(|s| {
            let parsed = DeviceStatus::parse(s);
            if parsed.is_none() {
                p.add("status", "must be online, offline or fault");
            }
            parsed
        });
        let site_id = parse_id(&mut p, &filter.site_id, "site_id", SiteId::parse);
        p.finish()?;
        let devices = match site_id {
            Some(site) => {
                let site = self.visible_site(caller, &site.to_string()).await?;
                self.store
                    .site_devices(site.site_id)
                    .await?
                    .into_iter()
                    .filter(|d| d.operator_id == site.operator_id)
                    .collect()
            }
            None => self.devices_in_scope(&self.scope(caller).await?).await?,
        };
        let now = self.clock.now();
        let mut views: Vec<DeviceView> = devices
            .iter()
            .filter(|d| filter.model.as_ref().is_none_or(|m| &d.model == m))
            .map(|d| device_view(d, now, self.offline_after()))
            .filter(|v| status.is_none_or(|s| v.status == s))
            .collect();
        views.sort_by(|a, b| a.sn.cmp(&b.sn));
        Ok(ListPage::slice(views, paging.page, paging.size))
    }

    pub async fn device_detail(&self, caller: &Caller, id: &str) -> Result<DeviceView, Error> {
        let d = self.visible_device(caller, id).await?;
        Ok(device_view(&d, self.clock.now(), self.offline_after()))
    }

    pub async fn device_connectors(
        &self,
        caller: &Caller,
        id: &str,
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
        let size = items.len().max(1) as u32;
        Ok(ListPage::slice(items, 1, size))
    }

    pub async fn list_records(
        &self,
        caller: &Caller,
        filter: RecordFilter,
        paging: Paging,
    ) -> Result<ListPage<ChargingRecord>, Error> {
        let mut p = Problems::default();
        let from = parse_time(&mut p, &filter.from, "from");
        let to = parse_time(&mut p, &filter.to, "to");
        if let (Some(f), Some(t)) = (from, to) {
            p.check(f <= t, "to", "must not be before from");
        }
        let site = parse_id(&mut p, &filter.site_id, "site_id", SiteId::parse);
        let device = parse_id(&mut p, &filter.device_id, "device_id", DeviceId::parse);
        p.finish()?;
        let from = from.unwrap_or(DateTime::<Utc>::MIN_UTC);
        let to = to.unwrap_or_else(|| self.clock.now() + Duration::days(1));
        let mut records = Vec::new();
        for op in self.scope(caller).await? {
            records.extend(
                self.store
                    .operator_records(&op, from, to)
                    .await?
                    .into_iter()
                    .filter(|r| site.is_none_or(|s| r.site_id == Some(s)))
                    .filter(|r| device.is_none_or(|d| r.device_id == d)),
            );
        }
        records.sort_by(|a, b| {
            b.start_time
                .cmp(&a.start_time)
                .then(b.record_id.cmp(&a.record_id))
        });
        Ok(ListPage::slice(records, paging.page, paging.size))
    }

    pub async fn record_detail(&self, caller: &Caller, id: &str) -> Result<ChargingRecord, Error> {
        let not_found = || Error::NotFound(format!("charging record {id} not found"));
        let rid = RecordId::parse(id).ok_or_else(not_found)?;
        self.store
            .get_record(rid)
            .await?
            .filter(|r| caller.sees(&r.operator_id))
            .ok_or_else(not_found)
    }

    pub async fn command_detail(&self, caller: &Caller, id: &str) -> Result<CommandDetail, Error> {
        let not_found = || Error::NotFound(format!("command {id} not found"));
        let cid = CommandId::parse(id).ok_or_else(not_found)?;
        let cmd = self
            .store
            .get_command(cid)
            .await?
            .filter(|c| caller.sees(&c.operator_id))
            .ok_or_else(not_found)?;
        // Expiry is derived, not swept: an open command past its time is
        // expired even before any delivery attempt records it.
        let mut cmd = cmd;
        if cmd.status.is_open() && self.clock.now() >= cmd.expires_at {
            cmd.status = crate::model::CommandStatus::Expired;
            cmd.history.push(crate::model::HistoryEntry {
                status: crate::model::CommandStatus::Expired,
                at: cmd.expires_at,
                message: None,
            });
        }
        Ok(CommandDetail {
            command: cmd.view(),
            history: cmd.history,
        })
    }

    /// The energy series of one site or device from the pre-aggregated hour
    /// buckets (days and months are sums of hours): one paginated Query per
    /// call, never the samples.
    pub async fn energy(&self, caller: &Caller, q: EnergyQuery) -> Result<EnergySeries, Error> {
        let mut p = Problems::default();
        let granularity = q.granularity.clone().unwrap_or_else(|| "hour".into());
        let (span, cap, cap_text) = match granularity.as_str() {
            "hour" => (Duration::hours(24), Duration::days(31), "31 days"),
            "day" => (Duration::days(30), Duration::days(366), "366 days"),
            "month" => (Duration::days(365), Duration::days(60 * 31), "60 months"),
            _ => {
                p.add("granularity", "must be hour, day or month");
                (Duration::zero(), Duration::zero(), "")
            }
        };
        let from = parse_time(&mut p, &q.from, "from");
        let to = parse_time(&mut p, &q.to, "to");
        let site = parse_id(&mut p, &q.site_id, "site_id", SiteId::parse);
        let device = parse_id(&mut p, &q.device_id, "device_id", DeviceId::parse);
        if q.site_id.is_some() == q.device_id.is_some() {
            p.add("site_id", "give exactly one of site_id or device_id");
        }
        p.finish()?;
        let to = to.unwrap_or_else(|| self.clock.now());
        let from = from.unwrap_or(to - span);
        let (from, to) = match granularity.as_str() {
            "hour" => (
                trunc(from, Duration::hours(1)),
                ceil(to, Duration::hours(1)),
            ),
            "day" => (trunc(from, Duration::days(1)), ceil(to, Duration::days(1))),
            _ => (
                month_start(from),
                if month_start(to) == to {
                    to
                } else {
                    next_month(to)
                },
            ),
        };
        let mut p = Problems::default();
        p.check(from < to, "to", "must be after from");
        let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
        let too_long = if granularity == "month" {
            months > 60
        } else {
            to - from > cap
        };
        if too_long {
            p.add(
                "to",
                format!("the range may span at most {cap_text} at {granularity} granularity"),
            );
        }
        p.finish()?;

        let (scope, operator) = match (site, device) {
            (Some(s), _) => {
                let site = self.visible_site(caller, &s.to_string()).await?;
                (EnergyScope::Site(site.site_id), site.operator_id)
            }
            (_, Some(d)) => {
                let dev = self.visible_device(caller, &d.to_string()).await?;
                (EnergyScope::Device(dev.device_id), dev.operator_id)
            }
            _ => return Err(Error::Internal("validated energy scope missing".into())),
        };
        let last = to - Duration::seconds(1);
        let buckets = self
            .store
            .energy_buckets(&operator, &scope, &hour_bucket(from), &hour_bucket(last))
            .await?;
        let series = fill_series(&granularity, from, to, &buckets);
        let total = series
            .iter()
            .fold(EnergyTotal::default(), |t, p| EnergyTotal {
                charge_energy: t.charge_energy + p.charge_energy,
                discharge_energy: t.discharge_energy + p.discharge_energy,
                max_power: t.max_power.max(p.max_power),
            });
        Ok(EnergySeries {
            granularity,
            from,
            to,
            site_id: site,
            device_id: device,
            series,
            total,
        })
    }

    pub async fn firmware_versions(
        &self,
        caller: &Caller,
        paging: Paging,
    ) -> Result<FirmwarePage, Error> {
        let devices = self.devices_in_scope(&self.scope(caller).await?).await?;
        let mut by_model: BTreeMap<(String, String), Vec<&Device>> = BTreeMap::new();
        for d in &devices {
            by_model
                .entry((d.model.clone(), d.manufacturer.clone()))
                .or_default()
                .push(d);
        }
        let mut items = Vec::new();
        for ((model, manufacturer), ds) in by_model {
            let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
            for d in &ds {
                *counts.entry(d.firmware_version.as_str()).or_default() += 1;
            }
            let seen_latest = counts
                .keys()
                .copied()
                .max_by(|a, b| version_cmp(a, b))
                .unwrap_or_default()
                .to_owned();
            // The catalogue's release where it knows one, else the newest seen.
            let latest = match crate::catalogue::spec(&model) {
                Some(known) if version_cmp(&known.latest_firmware, &seen_latest).is_ge() => {
                    known.latest_firmware.clone()
                }
                _ => seen_latest,
            };
            let on_latest = counts.get(latest.as_str()).copied().unwrap_or(0);
            let mut versions: Vec<VersionCount> = counts
                .into_iter()
                .map(|(v, count)| VersionCount {
                    version: v.to_owned(),
                    count,
                })
                .collect();
            versions.sort_by(|a, b| version_cmp(&b.version, &a.version));
            let total = ds.len() as u32;
            items.push(FirmwareModel {
                model,
                manufacturer,
                latest_version: latest,
                total_devices: total,
                on_latest,
                adoption_percentage: percentage(on_latest, total),
                versions,
            });
        }
        let total_devices: u32 = items.iter().map(|m| m.total_devices).sum();
        let on_latest: u32 = items.iter().map(|m| m.on_latest).sum();
        let page = ListPage::slice(items, paging.page, paging.size);
        Ok(FirmwarePage {
            items: page.items,
            total: page.total,
            page: page.page,
            size: page.size,
            summary: FirmwareSummary {
                total_devices,
                on_latest,
                adoption_percentage: percentage(on_latest, total_devices),
            },
        })
    }

    pub async fn request_log(&self, caller: &Caller) -> Result<Vec<RequestLogEntry>, Error> {
        caller.require(Role::Admin)?;
        Ok(self.store.recent_requests(200, self.clock.now()).await?)
    }
}

fn trunc(t: DateTime<Utc>, unit: Duration) -> DateTime<Utc> {
    t.duration_trunc(unit).unwrap_or(t)
}

fn ceil(t: DateTime<Utc>, unit: Duration) -> DateTime<Utc> {
    let down = trunc(t, unit);
    if down == t { t } else { down + unit }
}

/// Every bucket of `[from, to)` in order, zeros where nothing was recorded.
fn fill_series(
    granularity: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    buckets: &[EnergyBucket],
) -> Vec<EnergyPoint> {
    let step = |t: DateTime<Utc>| match granularity {
        "hour" => t + Duration::hours(1),
        "day" => t + Duration::days(1),
        _ => next_month(t),
    };
    let slot = |t: DateTime<Utc>| match granularity {
        "hour" => t,
        "day" => trunc(t, Duration::days(1)),
        _ => month_start(t),
    };
    let mut points: BTreeMap<DateTime<Utc>, EnergyPoint> = BTreeMap::new();
    let mut t = from;
    while t < to {
        points.insert(
            t,
            EnergyPoint {
                timestamp: t,
                ..Default::default()
            },
        );
        t = step(t);
    }
    for b in buckets {
        let Some(start) = bucket_start(&b.bucket) else {
            continue;
        };
        if let Some(p) = points.get_mut(&slot(start)) {
            p.charge_energy += b.charge_energy;
            p.discharge_energy += b.discharge_energy;
            p.max_power = p.max_power.max(b.max_power.unwrap_or(0.0));
        }
    }
    points.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn bucket(key: &str, charge: f64, max: f64) -> EnergyBucket {
        EnergyBucket {
            bucket: key.into(),
            charge_energy: charge,
            discharge_energy: 0.0,
            max_power: Some(max),
        }
    }

    #[test]
    fn every_hour_of_the_range_is_in_the_series_with_zeros() {
        let series = fill_series(
            "hour",
            at("2026-05-10T12:00:00Z"),
            at("2026-05-10T16:00:00Z"),
            &[bucket("2026-05-10T14", 2.5, 22.0)],
        );
        assert_eq!(series.len(), 4);
        assert_eq!(series[2].charge_energy, 2.5);
        assert_eq!(series[0].charge_energy, 0.0);
        assert_eq!(series[2].timestamp, at("2026-05-10T14:00:00Z"));
    }

    #[test]
    fn months_add_up_their_hours_and_keep_the_highest_power() {
        let series = fill_series(
            "month",
            at("2026-04-01T00:00:00Z"),
            at("2026-06-01T00:00:00Z"),
            &[
                bucket("2026-05-01T00", 1.0, 11.0),
                bucket("2026-05-31T23", 2.0, 7.0),
            ],
        );
        assert_eq!(series.len(), 2);
        assert_eq!(series[1].charge_energy, 3.0);
        assert_eq!(series[1].max_power, 11.0);
    }

    #[test]
    fn paging_is_validated() {
        assert!(Paging::parse(Some(0), None).is_err());
        assert!(Paging::parse(None, Some(101)).is_err());
        let p = Paging::parse(None, None).unwrap();
        assert_eq!((p.page, p.size), (1, 20));
    }
}
