//! Energy accounting from the chargers' session counters.
//!
//! A sample reports `energy_delivered`, the session's running total. The
//! energy of a sample is its rise over the previous in-order sample; a
//! counter that falls starts a new session. Out-of-order and duplicate
//! samples never reach here, so nothing is counted twice.

use crate::ids::{DeviceId, OperatorId, SiteId};
use crate::model::{ConnectorState, Peaks};
use crate::store::{EnergyAdd, EnergyScope, Granularity};
use chrono::{DateTime, Utc};

/// Energy (kWh) between the previous counter value and the new one.
pub fn counter_delta(previous: Option<f64>, current: f64) -> f64 {
    match previous {
        Some(prev) if current >= prev => current - prev,
        // A fresh connector or a reset counter: the new session so far.
        _ => current,
    }
}

pub fn hour_bucket(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%dT%H").to_string()
}

pub fn day_bucket(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%d").to_string()
}

/// Where a sample's energy goes and whose it is.
pub struct Attribution<'a> {
    pub device_id: DeviceId,
    pub site_id: Option<SiteId>,
    pub operator_id: &'a OperatorId,
}

/// The bucket additions for one in-order sample, and the connector's peaks
/// after it. `max_power` is raised only when this connector's own peak in
/// the bucket rises, which keeps conditional max writes rare.
pub fn plan(
    who: &Attribution<'_>,
    ts: DateTime<Utc>,
    state: ConnectorState,
    power_kw: f64,
    delta_kwh: f64,
    peaks: &Peaks,
) -> (Vec<EnergyAdd>, Peaks) {
    let (hour, day) = (hour_bucket(ts), day_bucket(ts));
    let hour_peak = if peaks.hour == hour {
        peaks.hour_kw
    } else {
        0.0
    };
    let day_peak = if peaks.day == day { peaks.day_kw } else { 0.0 };
    let next = Peaks {
        hour: hour.clone(),
        hour_kw: hour_peak.max(power_kw),
        day: day.clone(),
        day_kw: day_peak.max(power_kw),
    };
    let (charge, discharge) = if state == ConnectorState::Discharging {
        (0.0, delta_kwh)
    } else {
        (delta_kwh, 0.0)
    };
    let raises_hour = power_kw > hour_peak;
    let raises_day = power_kw > day_peak;
    if delta_kwh <= 0.0 && !raises_hour && !raises_day {
        return (Vec::new(), next);
    }
    let mut scopes = vec![EnergyScope::Device(who.device_id)];
    if let Some(site) = who.site_id {
        scopes.push(EnergyScope::Site(site));
    }
    let mut adds = Vec::new();
    for scope in scopes {
        for (granularity, bucket, raises) in [
            (Granularity::Hour, &hour, raises_hour),
            (Granularity::Day, &day, raises_day),
        ] {
            adds.push(EnergyAdd {
                scope: scope.clone(),
                operator_id: who.operator_id.clone(),
                granularity,
                bucket: bucket.clone(),
                charge_kwh: charge,
                discharge_kwh: discharge,
                raise_max_kw: raises.then_some(power_kw),
            });
        }
    }
    (adds, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_delta_is_the_rise_of_the_session_counter() {
        assert_eq!(counter_delta(Some(1.5), 2.0), 0.5);
        assert_eq!(counter_delta(Some(2.0), 2.0), 0.0);
    }

    #[test]
    fn a_counter_that_falls_starts_a_new_session() {
        assert_eq!(counter_delta(Some(12.0), 0.4), 0.4);
        assert_eq!(counter_delta(None, 1.5), 1.5);
    }

    #[test]
    fn discharging_energy_is_counted_as_discharge() {
        let op = OperatorId::parse("acme").unwrap();
        let who = Attribution {
            device_id: DeviceId::random(),
            site_id: Some(SiteId::random()),
            operator_id: &op,
        };
        let (adds, _) = plan(
            &who,
            at("2026-05-10T14:05:00Z"),
            ConnectorState::Discharging,
            11.0,
            0.25,
            &Peaks::default(),
        );
        assert_eq!(adds.len(), 4, "device and site, hour and day");
        assert!(
            adds.iter()
                .all(|a| a.discharge_kwh == 0.25 && a.charge_kwh == 0.0)
        );
        assert_eq!(adds[0].bucket, "2026-05-10T14");
        assert_eq!(adds[1].bucket, "2026-05-10");
    }

    #[test]
    fn max_power_is_only_raised_when_the_connector_peak_rises() {
        let op = OperatorId::parse("acme").unwrap();
        let who = Attribution {
            device_id: DeviceId::random(),
            site_id: None,
            operator_id: &op,
        };
        let ts = at("2026-05-10T14:05:00Z");
        let (first, peaks) = plan(
            &who,
            ts,
            ConnectorState::Charging,
            50.0,
            0.1,
            &Peaks::default(),
        );
        assert!(first.iter().all(|a| a.raise_max_kw == Some(50.0)));
        let (lower, _) = plan(&who, ts, ConnectorState::Charging, 40.0, 0.1, &peaks);
        assert!(lower.iter().all(|a| a.raise_max_kw.is_none()));
        let next_hour = at("2026-05-10T15:00:00Z");
        let (fresh, _) = plan(&who, next_hour, ConnectorState::Charging, 40.0, 0.1, &peaks);
        assert_eq!(fresh[0].raise_max_kw, Some(40.0), "new hour bucket");
        assert_eq!(
            fresh[1].raise_max_kw, None,
            "same day, lower than the day peak"
        );
    }

    #[test]
    fn an_idle_sample_below_the_peak_adds_nothing() {
        let op = OperatorId::parse("acme").unwrap();
        let who = Attribution {
            device_id: DeviceId::random(),
            site_id: None,
            operator_id: &op,
        };
        let ts = at("2026-05-10T14:05:00Z");
        let (_, peaks) = plan(
            &who,
            ts,
            ConnectorState::Charging,
            50.0,
            0.1,
            &Peaks::default(),
        );
        let (adds, _) = plan(&who, ts, ConnectorState::Idle, 0.0, 0.0, &peaks);
        assert!(adds.is_empty());
    }
}
