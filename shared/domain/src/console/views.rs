//! What the console sees: read models built from stored entities, with
//! derived values (online status, status summaries) computed at read time.

use chrono::{DateTime, Duration, Utc};
use kernel::command::CommandView;
use kernel::ids::{ConnectorId, DeviceId, OperatorId, RecordId, SiteId, TariffId};
use kernel::model::{
    ChargingRecord, ConnectorState, Device, DeviceStatus, FirmwareProgress, FirmwareStatus,
    HistoryEntry, RecordPrice, Site,
};
pub use kernel::paging::ListPage;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectorView {
    pub connector_id: ConnectorId,
    pub status: ConnectorState,
    pub power: f64,
    pub soc: Option<f64>,
    pub voltage: f64,
    pub current: f64,
    pub energy_delivered: f64,
    pub updated_at: DateTime<Utc>,
    /// The charging schedule in force, where one was sent and is valid now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<crate::commands::schedule::Schedule>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirmwareUpdateView {
    pub firmware_version: String,
    pub status: FirmwareStatus,
    pub progress: Option<u8>,
    pub message: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<&FirmwareProgress> for FirmwareUpdateView {
    fn from(f: &FirmwareProgress) -> Self {
        Self {
            firmware_version: f.firmware_version.to_string(),
            status: f.status,
            progress: f.progress,
            message: f.message.clone(),
            at: f.at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceView {
    pub device_id: DeviceId,
    pub sn: String,
    pub model: String,
    pub manufacturer: String,
    pub firmware_version: String,
    pub status: DeviceStatus,
    pub last_seen: Option<DateTime<Utc>>,
    pub connectors: Vec<ConnectorView>,
    pub site_id: Option<SiteId>,
    pub operator_id: String,
    pub created_at: DateTime<Utc>,
    pub firmware_update: Option<FirmwareUpdateView>,
    /// The configuration profile version the device last applied.
    pub configuration: Option<kernel::model::AppliedConfiguration>,
    /// Its OCPP charge point id, for a charger that speaks OCPP
    /// (`GET /v1/ocpp/charge-points/{charge_point_id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_point_id: Option<String>,
}

pub fn connectors_of(d: &Device) -> Vec<ConnectorView> {
    d.connectors
        .iter()
        .map(|(id, c)| ConnectorView {
            connector_id: *id,
            status: c.state,
            power: c.power,
            soc: c.soc,
            voltage: c.voltage,
            current: c.current,
            energy_delivered: c.energy_delivered,
            updated_at: c.ts,
            schedule: None,
        })
        .collect()
}

pub fn device_view(d: &Device, now: DateTime<Utc>, offline_after: Duration) -> DeviceView {
    DeviceView {
        device_id: d.device_id,
        sn: d.sn.to_string(),
        model: d.model.clone(),
        manufacturer: d.manufacturer.clone(),
        firmware_version: d.firmware_version.to_string(),
        status: d.status(now, offline_after),
        last_seen: d.last_seen,
        connectors: connectors_of(d),
        site_id: d.site_id,
        operator_id: d.operator_id.to_string(),
        created_at: d.created_at,
        firmware_update: d.firmware_update.as_ref().map(Into::into),
        configuration: d.configuration.clone(),
        charge_point_id: d.charge_point_id.clone(),
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusSummary {
    pub idle: u32,
    pub charging: u32,
    pub discharging: u32,
    pub fault: u32,
    pub offline: u32,
}

impl StatusSummary {
    /// Counts each connector of the devices: an offline device's connectors
    /// are offline; occupied states (preparing, suspended, finishing) count
    /// as charging; unavailable counts as fault.
    pub fn of<'a>(
        devices: impl Iterator<Item = &'a Device>,
        now: DateTime<Utc>,
        offline_after: Duration,
    ) -> Self {
        let mut s = Self::default();
        for d in devices {
            let offline = d.status(now, offline_after) == DeviceStatus::Offline;
            for c in d.connectors.values() {
                let slot = match c.state {
                    _ if offline => &mut s.offline,
                    ConnectorState::Idle => &mut s.idle,
                    ConnectorState::Discharging => &mut s.discharging,
                    ConnectorState::Fault | ConnectorState::Unavailable => &mut s.fault,
                    ConnectorState::Charging
                    | ConnectorState::Preparing
                    | ConnectorState::Suspended
                    | ConnectorState::Finishing => &mut s.charging,
                };
                *slot += 1;
            }
        }
        s
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteView {
    pub site_id: SiteId,
    pub name: String,
    pub address: String,
    pub postcode: String,
    pub location: Location,
    pub total_connectors: u32,
    pub status_summary: StatusSummary,
    pub power_capacity: f64,
    pub operator_id: String,
    pub created_at: DateTime<Utc>,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-3.
    pub country: Option<String>,
    /// IANA; `UTC` unless set.
    pub time_zone: String,
    pub updated_at: DateTime<Utc>,
}

pub fn site_view(
    site: &Site,
    devices: &[&Device],
    now: DateTime<Utc>,
    offline_after: Duration,
) -> SiteView {
    SiteView {
        site_id: site.site_id,
        name: site.name.clone(),
        address: site.address.clone(),
        postcode: site.postcode.clone(),
        location: Location {
            lat: site.lat,
            lng: site.lng,
        },
        total_connectors: devices.iter().map(|d| d.connectors.len() as u32).sum(),
        status_summary: StatusSummary::of(devices.iter().copied(), now, offline_after),
        power_capacity: site.power_capacity,
        operator_id: site.operator_id.to_string(),
        created_at: site.created_at,
        city: site.city.clone(),
        country: site.country.clone(),
        time_zone: site.time_zone.clone().unwrap_or_else(|| "UTC".into()),
        updated_at: site.updated_at,
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteDetail {
    #[serde(flatten)]
    pub site: SiteView,
    /// kW drawn now (charging minus discharging) by online devices.
    pub current_power: f64,
    /// Share of `power_capacity` in use, in %.
    pub utilisation_percentage: f64,
    pub devices: Vec<DeviceView>,
    /// Shown once load management was set for the site (contract §16).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_management: Option<crate::loads::LoadView>,
}

/// A charging record as the routes answer with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ChargingRecord))]
pub struct RecordView {
    pub record_id: RecordId,
    pub device_id: DeviceId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub operator_id: OperatorId,
    pub site_id: Option<SiteId>,
    pub connector_id: ConnectorId,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    /// kWh.
    pub energy: f64,
    /// kW.
    pub max_power: Option<f64>,
    pub cost: Option<f64>,
    pub currency: Option<String>,
    pub stop_reason: Option<String>,
    pub received_at: DateTime<Utc>,
    /// The driver's card or app token the session started with (OCPP);
    /// null for sessions started otherwise.
    pub id_tag: Option<String>,
    /// The price by the tariff in force at the session's start; null
    /// where none was.
    pub price: Option<PriceView>,
    /// Seconds connected but not charging.
    pub parking_time_s: i64,
    /// How the platform answered the session's token (`accepted`,
    /// `blocked`, `expired`, `invalid`); null where none was asked. A
    /// refused one is not counted in revenue.
    pub authorization: Option<String>,
}

/// A record's price (contract §14): totals to the cent, the dimensions'
/// amounts excluding VAT to 4 decimals.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecordPrice))]
pub struct PriceView {
    pub tariff_id: TariffId,
    pub currency: String,
    pub excl_vat: f64,
    pub incl_vat: f64,
    pub vat_percent: f64,
    pub energy: f64,
    pub time: f64,
    pub parking_time: f64,
    pub flat: f64,
}

fn amount(d: rust_decimal::Decimal, dp: u32) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_f64()
        .unwrap_or_default()
}

impl From<&RecordPrice> for PriceView {
    fn from(p: &RecordPrice) -> Self {
        Self {
            tariff_id: p.tariff_id,
            currency: p.currency.clone(),
            excl_vat: amount(p.excl_vat, 2),
            incl_vat: amount(p.incl_vat, 2),
            vat_percent: amount(p.vat_percent, 4),
            energy: amount(p.energy, 4),
            time: amount(p.time, 4),
            parking_time: amount(p.parking_time, 4),
            flat: amount(p.flat, 4),
        }
    }
}

impl From<ChargingRecord> for RecordView {
    fn from(r: ChargingRecord) -> Self {
        let price = r.price.as_ref().map(PriceView::from);
        // What the charger reported stands; else the price says it.
        let (cost, currency) = match (&r.cost, &price) {
            (None, Some(p)) => (Some(p.incl_vat), Some(p.currency.clone())),
            _ => (r.cost, r.currency),
        };
        Self {
            record_id: r.record_id,
            device_id: r.device_id,
            operator_id: r.operator_id,
            site_id: r.site_id,
            connector_id: r.connector_id,
            start_time: r.start_time,
            end_time: r.end_time,
            energy: r.energy,
            max_power: r.max_power,
            cost,
            currency,
            stop_reason: r.stop_reason,
            received_at: r.received_at,
            id_tag: r.id_tag,
            price,
            parking_time_s: r.parking_time_s,
            authorization: r.authorization,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandDetail {
    #[serde(flatten)]
    pub command: CommandView,
    pub history: Vec<HistoryEntry>,
}

kernel::wire_enum! {
    /// The width of one point of an energy series.
    #[derive(Default)]
    pub enum Granularity {
        #[default]
        Hour,
        Day,
        Month,
}
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnergyPoint {
    pub timestamp: DateTime<Utc>,
    pub charge_energy: f64,
    pub discharge_energy: f64,
    pub max_power: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnergyTotal {
    pub charge_energy: f64,
    pub discharge_energy: f64,
    pub max_power: f64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnergySeries {
    pub granularity: Granularity,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub site_id: Option<SiteId>,
    pub device_id: Option<DeviceId>,
    pub series: Vec<EnergyPoint>,
    pub total: EnergyTotal,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionCount {
    pub version: String,
    pub count: u32,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirmwareModel {
    pub model: String,
    pub manufacturer: String,
    pub latest_version: String,
    pub total_devices: u32,
    pub on_latest: u32,
    pub adoption_percentage: f64,
    pub versions: Vec<VersionCount>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirmwareSummary {
    pub total_devices: u32,
    pub on_latest: u32,
    pub adoption_percentage: f64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirmwarePage {
    pub items: Vec<FirmwareModel>,
    pub total: usize,
    pub page: u32,
    pub size: u32,
    pub summary: FirmwareSummary,
}

/// Rounds a percentage to one decimal.
pub fn percentage(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (f64::from(part) * 1000.0 / f64::from(whole)).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_a_slice_with_the_total() {
        let p = ListPage::slice((1..=45).collect::<Vec<_>>(), 3, 20);
        assert_eq!(p.items, (41..=45).collect::<Vec<_>>());
        assert_eq!(p.total, 45);
        let empty = ListPage::slice((1..=5).collect::<Vec<_>>(), 9, 20);
        assert!(empty.items.is_empty());
    }

    #[test]
    fn percentages_have_one_decimal() {
        assert_eq!(percentage(1, 3), 33.3);
        assert_eq!(percentage(5, 5), 100.0);
        assert_eq!(percentage(0, 0), 0.0);
    }
}
