//! Wire shapes of the decrypted `Data` of each legacy route and of the
//! admin's partner request, with one `TryFrom` each into the domain's
//! typed inputs. A bad legacy field is Ret 4004 naming the field.

use chrono::NaiveDateTime;
use domain::partners::{
    ConnectorPush, DEFAULT_UTC_OFFSET_MINUTES, START_CHARGE_SEQ_LEN, STATUSES, SessionPush,
    StationQuery, StationStatusQuery, SteerKind, SteerRequest, TokenLogin, partner_code_ok,
};
use kernel::Error;
use kernel::ids::{ConnectorId, DeviceId, OperatorId, SiteId};
use kernel::input::Problems;
use kernel::input::bounds::{MAX_COST, MAX_CURRENT_A, MAX_ENERGY_KWH, MAX_VOLTAGE_V};
use kernel::secret::Secret;
use serde::Deserialize;
use tcec::secrets::{wire_secret_ok, wire_secret_weakness};
use tcec::{PartnerDraft, Refusal, Ret};
use utoipa::ToSchema;

/// Most items a page or a status query may ask for.
const MAX_PAGE_SIZE: i64 = 50;
/// The furthest page a query may name (50 million stations at 50 a page).
const MAX_PAGE_NO: i64 = 1_000_000;
const MAX_STATION_IDS: usize = 50;
/// Longest id a partner may give its own connectors.
const MAX_PARTNER_CONNECTOR_ID: usize = 64;

fn bad(field: &str, problem: &str) -> Refusal {
    Refusal::new(Ret::Parameter, format!("{field} {problem}"))
}

#[derive(Debug, Deserialize)]
pub struct TokenData {
    #[serde(rename = "OperatorID")]
    operator_id: String,
    #[serde(rename = "OperatorSecret")]
    operator_secret: Secret<String>,
}

impl TryFrom<TokenData> for TokenLogin {
    type Error = Refusal;

    fn try_from(d: TokenData) -> Result<Self, Refusal> {
        Ok(Self {
            operator_id: d.operator_id,
            operator_secret: d.operator_secret,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StationInfoData {
    last_query_time: Option<String>,
    page_no: Option<i64>,
    page_size: Option<i64>,
}

impl TryFrom<StationInfoData> for StationQuery {
    type Error = Refusal;

    fn try_from(d: StationInfoData) -> Result<Self, Refusal> {
        let changed_since = match d.last_query_time.filter(|t| !t.is_empty()) {
            Some(raw) => Some(
                NaiveDateTime::parse_from_str(&raw, "%Y-%m-%d %H:%M:%S")
                    .map_err(|_| bad("LastQueryTime", "must be yyyy-MM-dd HH:mm:ss"))?,
            ),
            None => None,
        };
        let page_no = d.page_no.unwrap_or(1);
        let page_size = d.page_size.unwrap_or(10);
        let page_no = u32::try_from(page_no)
            .ok()
            .filter(|n| (1..=MAX_PAGE_NO).contains(&i64::from(*n)))
            .ok_or_else(|| bad("PageNo", "must be 1..1000000"))?;
        let page_size = u32::try_from(page_size)
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(&i64::from(*n)))
            .ok_or_else(|| bad("PageSize", "must be 1..50"))?;
        Ok(Self {
            changed_since,
            page_no,
            page_size,
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct StationStatusData {
    #[serde(rename = "StationIDs")]
    station_ids: Vec<String>,
}

impl TryFrom<StationStatusData> for StationStatusQuery {
    type Error = Refusal;

    fn try_from(d: StationStatusData) -> Result<Self, Refusal> {
        if d.station_ids.is_empty() || d.station_ids.len() > MAX_STATION_IDS {
            return Err(bad("StationIDs", "must list 1..50 station ids"));
        }
        // An id that is not ours, malformed or not, is left out.
        Ok(Self {
            station_ids: d
                .station_ids
                .iter()
                .filter_map(|raw| SiteId::parse(raw))
                .collect(),
        })
    }
}

/// `<device_id>-<connector number>`.
fn connector_parts(raw: &str) -> Result<(DeviceId, ConnectorId), Refusal> {
    raw.rsplit_once('-')
        .and_then(|(device, n)| {
            let connector = n.parse::<u32>().ok().and_then(ConnectorId::new)?;
            Some((DeviceId::parse(device)?, connector))
        })
        .ok_or_else(|| bad("ConnectorID", "must be <EquipmentID>-<connector number>"))
}

fn start_charge_seq(raw: String) -> Result<String, Refusal> {
    if raw.len() == START_CHARGE_SEQ_LEN && raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(raw)
    } else {
        Err(bad(
            "StartChargeSeq",
            "must be 27 letters or digits: your OperatorID and 18 more",
        ))
    }
}

fn steer(seq: String, connector: String, kind: SteerKind) -> Result<SteerRequest, Refusal> {
    let (device_id, connector_id) = connector_parts(&connector)?;
    Ok(SteerRequest {
        start_charge_seq: start_charge_seq(seq)?,
        connector_wire_id: connector,
        device_id,
        connector_id,
        kind,
    })
}

#[derive(Debug, Deserialize)]
pub struct StartChargeData {
    #[serde(rename = "StartChargeSeq")]
    start_charge_seq: String,
    #[serde(rename = "ConnectorID")]
    connector_id: String,
}

/// `start_charging`'s Data.
pub struct StartCharging(pub SteerRequest);

impl TryFrom<StartChargeData> for StartCharging {
    type Error = Refusal;

    fn try_from(d: StartChargeData) -> Result<Self, Refusal> {
        steer(d.start_charge_seq, d.connector_id, SteerKind::StartCharging).map(Self)
    }
}

#[derive(Debug, Deserialize)]
pub struct StopData {
    #[serde(rename = "StartChargeSeq")]
    start_charge_seq: String,
    #[serde(rename = "ConnectorID")]
    connector_id: String,
}

/// `stop_charging`'s Data.
pub struct StopCharging(pub SteerRequest);

impl TryFrom<StopData> for StopCharging {
    type Error = Refusal;

    fn try_from(d: StopData) -> Result<Self, Refusal> {
        steer(d.start_charge_seq, d.connector_id, SteerKind::StopCharging).map(Self)
    }
}

/// `stop_discharging`'s Data.
pub struct StopDischarging(pub SteerRequest);

impl TryFrom<StopData> for StopDischarging {
    type Error = Refusal;

    fn try_from(d: StopData) -> Result<Self, Refusal> {
        steer(
            d.start_charge_seq,
            d.connector_id,
            SteerKind::StopDischarging,
        )
        .map(Self)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DischargeData {
    start_charge_seq: String,
    #[serde(rename = "ConnectorID")]
    connector_id: String,
    discharge_power: f64,
    duration: i64,
    min_soc: f64,
}

/// `start_discharging`'s Data; the values are checked against the model
/// with the console's rules.
pub struct StartDischarging(pub SteerRequest);

impl TryFrom<DischargeData> for StartDischarging {
    type Error = Refusal;

    fn try_from(d: DischargeData) -> Result<Self, Refusal> {
        let kind = SteerKind::StartDischarging {
            discharge_power: d.discharge_power,
            duration: d.duration,
            min_soc: d.min_soc,
        };
        steer(d.start_charge_seq, d.connector_id, kind).map(Self)
    }
}

fn partner_connector(raw: String) -> Result<String, Refusal> {
    if (1..=MAX_PARTNER_CONNECTOR_ID).contains(&raw.len()) && !raw.contains('#') {
        Ok(raw)
    } else {
        Err(bad("ConnectorID", "must be 1..64 characters without #"))
    }
}

fn status(raw: u32, field: &str) -> Result<u32, Refusal> {
    if STATUSES.contains(&raw) {
        Ok(raw)
    } else {
        Err(bad(field, "must be 0, 1, 2, 3, 4 or 255"))
    }
}

/// `ParkStatus` and `LockStatus`: 0 unknown, 10 and 50 the two states.
fn lock_or_park(raw: Option<u32>, field: &str) -> Result<Option<u32>, Refusal> {
    match raw {
        Some(v) if ![0, 10, 50].contains(&v) => Err(bad(field, "must be 0, 10 or 50")),
        other => Ok(other),
    }
}

#[derive(Debug, Deserialize)]
pub struct StationStatusPushData {
    #[serde(rename = "ConnectorStatusInfo")]
    info: ConnectorStatusInfoData,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConnectorStatusInfoData {
    #[serde(rename = "ConnectorID")]
    connector_id: String,
    status: u32,
    park_status: Option<u32>,
    lock_status: Option<u32>,
}

impl TryFrom<StationStatusPushData> for ConnectorPush {
    type Error = Refusal;

    fn try_from(d: StationStatusPushData) -> Result<Self, Refusal> {
        Ok(Self {
            connector_id: partner_connector(d.info.connector_id)?,
            status: status(d.info.status, "ConnectorStatusInfo.Status")?,
            park_status: lock_or_park(d.info.park_status, "ConnectorStatusInfo.ParkStatus")?,
            lock_status: lock_or_park(d.info.lock_status, "ConnectorStatusInfo.LockStatus")?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WorkStatusData {
    start_charge_seq: String,
    start_charge_seq_stat: u32,
    #[serde(rename = "ConnectorID")]
    connector_id: String,
    connector_status: u32,
    current_a: Option<f64>,
    voltage_a: Option<f64>,
    soc: Option<f64>,
    start_time: Option<String>,
    end_time: Option<String>,
    total_power: Option<f64>,
    elec_money: Option<f64>,
    /// The standard's own spelling; `ServiceMoney` is accepted too.
    sevice_money: Option<f64>,
    service_money: Option<f64>,
    total_money: Option<f64>,
}

/// An optional reading within `lo..=hi` (finite), else Ret 4004.
fn reading(value: Option<f64>, lo: f64, hi: f64, field: &str) -> Result<Option<f64>, Refusal> {
    match value {
        Some(v) if !(v.is_finite() && (lo..=hi).contains(&v)) => {
            Err(bad(field, &format!("must be {lo}..{hi}")))
        }
        other => Ok(other),
    }
}

/// An optional `yyyy-MM-dd HH:mm:ss` time: as the partner wrote it, and read.
fn wire_time(
    value: Option<String>,
    field: &str,
) -> Result<Option<(String, NaiveDateTime)>, Refusal> {
    match value.filter(|t| !t.is_empty()) {
        Some(t) => NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S")
            .map(|at| Some((t, at)))
            .map_err(|_| bad(field, "must be yyyy-MM-dd HH:mm:ss")),
        None => Ok(None),
    }
}

/// `StartChargeSeqStat`: 1 starting, 2 charging, 3 stopping, 4 ended, 5 unknown.
const SEQ_STATS: std::ops::RangeInclusive<u32> = 1..=5;

impl TryFrom<WorkStatusData> for SessionPush {
    type Error = Refusal;

    fn try_from(d: WorkStatusData) -> Result<Self, Refusal> {
        let seq = d.start_charge_seq;
        if seq.is_empty() || seq.len() > 64 || seq.contains('#') {
            return Err(bad("StartChargeSeq", "must be 1..64 characters without #"));
        }
        if !SEQ_STATS.contains(&d.start_charge_seq_stat) {
            return Err(bad("StartChargeSeqStat", "must be 1..5"));
        }
        let start_time = wire_time(d.start_time, "StartTime")?;
        let end_time = wire_time(d.end_time, "EndTime")?;
        if let (Some((_, start)), Some((_, end))) = (&start_time, &end_time)
            && end < start
        {
            return Err(bad("EndTime", "must not be before StartTime"));
        }
        Ok(Self {
            start_charge_seq: seq,
            start_charge_seq_stat: d.start_charge_seq_stat,
            connector_id: partner_connector(d.connector_id)?,
            connector_status: status(d.connector_status, "ConnectorStatus")?,
            current_a: reading(d.current_a, 0.0, MAX_CURRENT_A, "CurrentA")?,
            voltage_a: reading(d.voltage_a, 0.0, MAX_VOLTAGE_V, "VoltageA")?,
            soc: reading(d.soc, 0.0, 100.0, "Soc")?,
            start_time: start_time.map(|(text, _)| text),
            end_time: end_time.map(|(text, _)| text),
            total_power: reading(d.total_power, 0.0, MAX_ENERGY_KWH, "TotalPower")?,
            elec_money: reading(d.elec_money, 0.0, MAX_COST, "ElecMoney")?,
            service_money: reading(
                d.service_money.or(d.sevice_money),
                0.0,
                MAX_COST,
                "ServiceMoney",
            )?,
            total_money: reading(d.total_money, 0.0, MAX_COST, "TotalMoney")?,
        })
    }
}

/// `POST /admin/partners`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PartnerRequest {
    /// The 9 upper-case letters or digits the partner signs with.
    #[schema(example = "MA1234567")]
    pub partner_operator_id: String,
    pub name: String,
    /// Our tenant whose fleet the partner sees and steers.
    #[schema(example = "acme-charging-uk")]
    pub operator_id: String,
    /// Each secret is 16 characters; generated when omitted.
    #[schema(value_type = Option<String>)]
    pub operator_secret: Option<Secret<String>>,
    #[schema(value_type = Option<String>)]
    pub data_secret: Option<Secret<String>>,
    #[schema(value_type = Option<String>)]
    pub data_secret_iv: Option<Secret<String>>,
    #[schema(value_type = Option<String>)]
    pub sig_secret: Option<Secret<String>>,
    /// Base URL of the partner's push routes.
    pub notify_url: Option<String>,
    /// The partner's time zone, for `TimeStamp` (default 480: UTC+8).
    pub utc_offset_minutes: Option<i32>,
}

impl TryFrom<PartnerRequest> for PartnerDraft {
    type Error = Error;

    fn try_from(r: PartnerRequest) -> Result<Self, Error> {
        let mut p = Problems::default();
        p.check(
            partner_code_ok(&r.partner_operator_id),
            "partner_operator_id",
            "must be 9 upper-case letters or digits",
        );
        p.check(
            kernel::input::text_ok(&r.name, 128),
            "name",
            "must be 1..128 characters",
        );
        let operator_id = OperatorId::parse(&r.operator_id);
        p.check(
            operator_id.is_some(),
            "operator_id",
            "must be an operator slug",
        );
        for (field, secret) in [
            ("operator_secret", &r.operator_secret),
            ("data_secret", &r.data_secret),
            ("data_secret_iv", &r.data_secret_iv),
            ("sig_secret", &r.sig_secret),
        ] {
            match secret.as_ref().map(|s| s.expose()) {
                Some(s) if !wire_secret_ok(s) => {
                    p.add(field, "must be 16 printable ASCII characters")
                }
                Some(s) => {
                    if let Some(weakness) = wire_secret_weakness(s) {
                        p.add(field, weakness);
                    }
                }
                None => {}
            }
        }
        if let Some(url) = &r.notify_url {
            p.check(
                kernel::input::web_url(url).is_some(),
                "notify_url",
                "must be an absolute http(s) URL with a host, at most 512 characters (https unless local pushes are allowed)",
            );
        }
        let offset = r.utc_offset_minutes.unwrap_or(DEFAULT_UTC_OFFSET_MINUTES);
        p.check(
            (-720..=840).contains(&offset),
            "utc_offset_minutes",
            "must be -720..840",
        );
        p.finish()?;
        let operator_id =
            operator_id.ok_or_else(|| Error::invalid("operator_id", "must be an operator slug"))?;
        Ok(Self {
            partner_operator_id: r.partner_operator_id,
            name: r.name,
            operator_id,
            operator_secret: r.operator_secret,
            data_secret: r.data_secret,
            data_secret_iv: r.data_secret_iv,
            sig_secret: r.sig_secret,
            notify_url: r.notify_url.map(|u| u.trim_end_matches('/').to_owned()),
            utc_offset_minutes: offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connector_ids_are_the_device_and_the_number() {
        let device = DeviceId::random();
        let (d, c) = connector_parts(&format!("{device}-2")).unwrap();
        assert_eq!((d, c.get()), (device, 2));
        assert!(connector_parts(&format!("{device}-0")).is_err());
        assert!(connector_parts("nope-1").is_err());
        assert!(connector_parts(&device.to_string()).is_err());
    }

    #[test]
    fn paging_defaults_and_limits() {
        let q = StationQuery::try_from(StationInfoData {
            last_query_time: None,
            page_no: None,
            page_size: None,
        })
        .unwrap();
        assert_eq!((q.page_no, q.page_size), (1, 10));
        let over = StationInfoData {
            last_query_time: None,
            page_no: Some(1),
            page_size: Some(51),
        };
        assert_eq!(
            StationQuery::try_from(over).unwrap_err().ret,
            Ret::Parameter
        );
        let when = StationInfoData {
            last_query_time: Some("2026-05-10T14:00:00".into()),
            page_no: None,
            page_size: None,
        };
        assert!(StationQuery::try_from(when).is_err());
    }
}
