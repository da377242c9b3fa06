//! Energy accounting from the chargers' session counters.
//!
//! A sample reports `energy_delivered`, the session's running total. The
//! energy of a sample is its rise over the previous in-order sample; a
//! counter that falls starts a new session. Out-of-order and duplicate
//! samples never reach here, so nothing is counted twice. Energy is rolled
//! up into hour buckets only: days and months are sums of hours at read
//! time, which keeps every sample to two bucket writes.

use super::port::{EnergyAdd, EnergyScope};
use crate::ids::{DeviceId, OperatorId, SiteId};
use crate::model::{ConnectorState, Peaks};
use chrono::{DateTime, Duration, DurationRound, Utc};

/// Energy (kWh) between the previous counter value and the new one.
pub fn counter_delta(previous: Option<f64>, current: f64) -> f64 {
    match previous {
        Some(prev) if current >= prev => current - prev,
        // A fresh connector or a reset counter: the new session so far.
        _ => current,
    }
}

/// The start of the hour `ts` falls in.
pub fn hour_of(ts: DateTime<Utc>) -> DateTime<Utc> {
    ts.duration_trunc(Duration::hours(1)).unwrap_or(ts)
}

/// Where a sample's energy goes and whose it is.
pub struct Attribution<'a> {
    pub device_id: DeviceId,
    pub site_id: Option<SiteId>,
    pub operator_id: &'a OperatorId,
}

/// The bucket additions for one in-order sample, and the connector's peak
/// after it. `max_power` is raised only when this connector's own peak in
/// the hour rises, which keeps conditional max writes rare.
pub fn plan(
    who: &Attribution<'_>,
    ts: DateTime<Utc>,
    state: ConnectorState,
    power_kw: f64,
    delta_kwh: f64,
    peaks: &Peaks,
) -> (Vec<EnergyAdd>, Peaks) {
    let hour = hour_of(ts);
    let peak = if peaks.hour == Some(hour) {
        peaks.hour_kw
    } else {
        0.0
    };
    let next = Peaks {
        hour: Some(hour),
        hour_kw: peak.max(power_kw),
    };
    let (charge, discharge) = if state == ConnectorState::Discharging {
        (0.0, delta_kwh)
    } else {
        (delta_kwh, 0.0)
    };
    let raises = power_kw > peak;
    if delta_kwh <= 0.0 && !raises {
        return (Vec::new(), next);
    }
    let mut scopes = vec![EnergyScope::Device(who.device_id)];
    if let Some(site) = who.site_id {
        scopes.push(EnergyScope::Site(site));
    }
    let adds = scopes
        .into_iter()
        .map(|scope| EnergyAdd {
            scope,
            operator_id: who.operator_id.clone(),
            hour,
            charge_kwh: charge,
            discharge_kwh: discharge,
            raise_max_kw: raises.then_some(power_kw),
        })
        .collect();
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
    fn discharging_energy_is_counted_as_discharge_for_device_and_site() {
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
        assert_eq!(adds.len(), 2, "device and site");
        assert!(
            adds.iter()
                .all(|a| a.discharge_kwh == 0.25 && a.charge_kwh == 0.0)
        );
        assert!(adds.iter().all(|a| a.hour == at("2026-05-10T14:00:00Z")));
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
        assert_eq!(first[0].raise_max_kw, Some(50.0));
        let (lower, _) = plan(&who, ts, ConnectorState::Charging, 40.0, 0.1, &peaks);
        assert_eq!(lower[0].raise_max_kw, None);
        let next_hour = at("2026-05-10T15:00:00Z");
        let (fresh, _) = plan(&who, next_hour, ConnectorState::Charging, 40.0, 0.1, &peaks);
        assert_eq!(fresh[0].raise_max_kw, Some(40.0), "a new hour bucket");
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
