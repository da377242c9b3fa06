//! `query_station_info` and `query_station_status`: our sites, devices and
//! connectors in the standard's shape, only of the partner's tenant.

use super::Partner;
use super::Partners;
use chrono::{Duration, NaiveDateTime};
use kernel::catalogue::{CurrentType, rating, spec};
use kernel::error::Error;
use kernel::ids::{ConnectorId, SiteId};
use kernel::model::{ConnectorState, Device, Site};
use serde::Serialize;

/// `query_station_info`'s Data, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct StationQuery {
    /// Only stations changed at or after this time, in the partner's offset.
    pub changed_since: Option<NaiveDateTime>,
    pub page_no: u32,
    pub page_size: u32,
}

/// `query_station_status`'s Data, checked (1..50 ids; ids that are not
/// ours are simply left out of the answer).
#[derive(Debug, Clone, PartialEq)]
pub struct StationStatusQuery {
    pub station_ids: Vec<SiteId>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StationPage {
    pub page_no: u32,
    pub page_count: u32,
    pub item_size: u32,
    pub station_infos: Vec<StationInfo>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StationInfo {
    #[serde(rename = "StationID")]
    pub station_id: SiteId,
    #[serde(rename = "OperatorID")]
    pub operator_id: String,
    #[serde(rename = "EquipmentOwnerID")]
    pub equipment_owner_id: String,
    pub station_name: String,
    pub country_code: String,
    pub area_code: String,
    pub address: String,
    pub service_tel: String,
    pub station_type: u32,
    pub station_status: u32,
    pub park_nums: u32,
    pub station_lng: f64,
    pub station_lat: f64,
    pub construction: u32,
    pub equipment_infos: Vec<EquipmentInfo>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EquipmentInfo {
    #[serde(rename = "EquipmentID")]
    pub equipment_id: String,
    pub manufacturer_name: String,
    pub equipment_model: String,
    pub equipment_type: u32,
    pub power: f64,
    pub connector_infos: Vec<ConnectorInfo>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectorInfo {
    #[serde(rename = "ConnectorID")]
    pub connector_id: String,
    pub connector_type: u32,
    pub voltage_upper_limits: u32,
    pub voltage_lower_limits: u32,
    pub current: f64,
    pub power: f64,
    pub national_standard: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StationStatuses {
    pub total: u32,
    pub station_status_infos: Vec<StationStatus>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StationStatus {
    #[serde(rename = "StationID")]
    pub station_id: SiteId,
    pub connector_status_infos: Vec<ConnectorStatus>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectorStatus {
    #[serde(rename = "ConnectorID")]
    pub connector_id: String,
    pub status: u32,
    pub park_status: u32,
    pub lock_status: u32,
}

/// `<device_id>-<connector number>`.
pub fn wire_connector_id(device: &Device, connector: ConnectorId) -> String {
    format!("{}-{}", device.device_id, connector.get())
}

/// The standard's connector status: 0 offline, 1 idle, 2 preparing,
/// suspended or finishing, 3 charging or discharging, 255 fault or
/// unavailable (4, reserved, is never ours).
pub fn wire_status(online: bool, state: ConnectorState) -> u32 {
    if !online {
        return 0;
    }
    match state {
        ConnectorState::Idle => 1,
        ConnectorState::Preparing | ConnectorState::Suspended | ConnectorState::Finishing => 2,
        ConnectorState::Charging | ConnectorState::Discharging => 3,
        ConnectorState::Fault | ConnectorState::Unavailable => 255,
    }
}

/// Every connector of a device: those of its model and those it reported.
fn connectors(device: &Device) -> Vec<ConnectorId> {
    let mut ids: Vec<ConnectorId> = (1..=rating(&device.model).connectors)
        .filter_map(ConnectorId::new)
        .collect();
    ids.extend(device.connectors.keys().copied());
    ids.sort();
    ids.dedup();
    ids
}

fn is_dc(device: &Device) -> bool {
    spec(&device.model).is_some_and(|m| m.current_type == CurrentType::DC)
}

fn equipment(device: &Device) -> EquipmentInfo {
    let r = rating(&device.model);
    let dc = is_dc(device);
    let per_connector = r.max_power_kw;
    EquipmentInfo {
        equipment_id: device.device_id.to_string(),
        manufacturer_name: device.manufacturer.clone(),
        equipment_model: device.model.clone(),
        equipment_type: if dc { 1 } else { 2 },
        power: r.max_power_kw,
        connector_infos: connectors(device)
            .into_iter()
            .map(|c| ConnectorInfo {
                connector_id: wire_connector_id(device, c),
                connector_type: if dc { 4 } else { 3 },
                voltage_upper_limits: if dc { 1000 } else { 253 },
                voltage_lower_limits: if dc { 200 } else { 207 },
                current: r.max_current_a,
                power: per_connector,
                national_standard: 2,
            })
            .collect(),
    }
}

fn station(site: &Site, devices: &[Device]) -> StationInfo {
    let equipment_infos: Vec<EquipmentInfo> = devices.iter().map(equipment).collect();
    let park_nums = equipment_infos
        .iter()
        .map(|e| e.connector_infos.len())
        .sum::<usize>();
    StationInfo {
        station_id: site.site_id,
        operator_id: site.operator_id.to_string(),
        equipment_owner_id: site.operator_id.to_string(),
        station_name: site.name.clone(),
        country_code: String::new(),
        area_code: site.postcode.clone(),
        address: site.address.clone(),
        service_tel: String::new(),
        station_type: 1,
        station_status: 50,
        park_nums: u32::try_from(park_nums).unwrap_or(u32::MAX),
        station_lng: site.lng,
        station_lat: site.lat,
        construction: 255,
        equipment_infos,
    }
}

impl Partners {
    /// `/customer/query_station_info`.
    pub async fn partner_stations(
        &self,
        partner: &Partner,
        q: StationQuery,
    ) -> Result<StationPage, Error> {
        let country = self
            .store
            .get_operator(&partner.operator_id)
            .await?
            .map(|o| o.country)
            .unwrap_or_default();
        let since = q
            .changed_since
            .map(|t| t.and_utc() - Duration::minutes(i64::from(partner.utc_offset_minutes)));
        let mut sites: Vec<Site> = self
            .store
            .operator_sites(&partner.operator_id)
            .await?
            .into_iter()
            .filter(|s| since.is_none_or(|t| s.updated_at >= t))
            .collect();
        sites.sort_by_key(|s| (s.created_at, s.site_id));
        let total = u32::try_from(sites.len()).unwrap_or(u32::MAX);
        let skip = (q.page_no.saturating_sub(1) as usize).saturating_mul(q.page_size as usize);
        let mut station_infos = Vec::new();
        for site in sites.iter().skip(skip).take(q.page_size as usize) {
            let devices = self.store.site_devices(site.site_id).await?;
            let mut info = station(site, &devices);
            info.country_code.clone_from(&country);
            station_infos.push(info);
        }
        Ok(StationPage {
            page_no: q.page_no,
            page_count: total.div_ceil(q.page_size),
            item_size: total,
            station_infos,
        })
    }

    /// `/cp/query_station_status`.
    pub async fn partner_station_status(
        &self,
        partner: &Partner,
        q: StationStatusQuery,
    ) -> Result<StationStatuses, Error> {
        let now = self.clock.now();
        let mut infos = Vec::new();
        for id in q.station_ids {
            let site = self.store.get_site(id).await?;
            if site.is_none_or(|s| s.operator_id != partner.operator_id) {
                continue;
            }
            let devices = self.store.site_devices(id).await?;
            let connector_status_infos = devices
                .iter()
                .flat_map(|d| {
                    let online = d.is_online(now, self.settings.offline_after());
                    connectors(d).into_iter().map(move |c| ConnectorStatus {
                        connector_id: wire_connector_id(d, c),
                        status: wire_status(
                            online,
                            d.connectors
                                .get(&c)
                                .map_or(ConnectorState::Idle, |s| s.state),
                        ),
                        park_status: 0,
                        lock_status: 0,
                    })
                })
                .collect();
            infos.push(StationStatus {
                station_id: id,
                connector_status_infos,
            });
        }
        Ok(StationStatuses {
            total: u32::try_from(infos.len()).unwrap_or(u32::MAX),
            station_status_infos: infos,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_standard() {
        assert_eq!(wire_status(false, ConnectorState::Charging), 0);
        assert_eq!(wire_status(true, ConnectorState::Idle), 1);
        assert_eq!(wire_status(true, ConnectorState::Suspended), 2);
        assert_eq!(wire_status(true, ConnectorState::Discharging), 3);
        assert_eq!(wire_status(true, ConnectorState::Unavailable), 255);
    }
}
