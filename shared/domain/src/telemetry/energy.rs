//! Energy accounting from the chargers' session counters.
//!
//! A sample reports `energy_delivered`, the session's running total. The
//! energy of a sample is its rise over the previous in-order sample; a
//! counter that falls starts a new session. Out-of-order and duplicate
//! samples never reach here, so nothing is counted twice. Energy is rolled
//! up into the device's hour buckets only: a site's hours are the sum of
//! its devices' (an index on the buckets), and days and months are sums of
//! hours at read time, which keeps every sample to one bucket write.

use super::port::EnergyAdd;
use chrono::{DateTime, Utc};
pub use kernel::clock::hour_of;
use kernel::ids::{ConnectorId, DeviceId, OperatorId, SiteId};
use kernel::model::{ConnectorState, Peaks};

/// Energy (kWh) between the previous counter value and the new one.
pub fn counter_delta(previous: Option<f64>, current: f64) -> f64 {
    match previous {
        Some(prev) if current >= prev => current - prev,
        // A fresh connector or a reset counter: the new session so far.
        _ => current,
    }
}

/// Where a sample's energy goes and whose it is.
pub struct Attribution<'a> {
    pub device_id: DeviceId,
    pub connector_id: ConnectorId,
    pub site_id: Option<SiteId>,
    pub operator_id: &'a OperatorId,
}

/// The connector before this sample, as far as the roll-up cares.
#[derive(Debug, Clone, Copy, Default)]
pub struct Before<'a> {
    pub peaks: Option<&'a Peaks>,
    /// The last sample counted into a bucket.
    pub bucket_mark: Option<DateTime<Utc>>,
}

/// The device's hour bucket addition for one in-order sample (`None` when
/// it adds nothing), and the connector's peak after it. `max_power` is
/// raised only when this connector's own peak in the hour rises, which
/// keeps conditional max writes rare. The site's hours are the sum of its
/// devices' buckets (an index on them), so a sample writes one bucket.
pub fn plan(
    who: &Attribution<'_>,
    ts: DateTime<Utc>,
    state: ConnectorState,
    power_kw: f64,
    delta_kwh: f64,
    before: Before<'_>,
) -> (Option<EnergyAdd>, Peaks) {
    let hour = hour_of(ts);
    let peak = match before.peaks {
        Some(p) if p.hour == Some(hour) => p.hour_kw,
        _ => 0.0,
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
        return (None, next);
    }
    let add = EnergyAdd {
        device_id: who.device_id,
        connector_id: who.connector_id,
        site_id: who.site_id,
        operator_id: who.operator_id.clone(),
        hour,
        charge_kwh: charge,
        discharge_kwh: discharge,
        raise_max_kw: raises.then_some(power_kw),
        mark: ts,
        after: before.bucket_mark.filter(|m| hour_of(*m) == hour),
    };
    (Some(add), next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

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

    fn who(op: &OperatorId, site: Option<SiteId>) -> Attribution<'_> {
        Attribution {
            device_id: DeviceId::random(),
            connector_id: ConnectorId::new(1).unwrap(),
            site_id: site,
            operator_id: op,
        }
    }

    #[test]
    fn discharging_energy_is_counted_as_discharge_in_the_devices_bucket() {
        let op = OperatorId::parse("acme").unwrap();
        let site = SiteId::random();
        let (add, _) = plan(
            &who(&op, Some(site)),
            at("2026-05-10T14:05:00Z"),
            ConnectorState::Discharging,
            11.0,
            0.25,
            Before::default(),
        );
        let add = add.expect("an addition");
        assert_eq!((add.charge_kwh, add.discharge_kwh), (0.0, 0.25));
        assert_eq!(add.hour, at("2026-05-10T14:00:00Z"));
        assert_eq!(add.site_id, Some(site), "the site's hours index it");
    }

    #[test]
    fn max_power_is_only_raised_when_the_connector_peak_rises() {
        let op = OperatorId::parse("acme").unwrap();
        let who = who(&op, None);
        let ts = at("2026-05-10T14:05:00Z");
        let (first, peaks) = plan(
            &who,
            ts,
            ConnectorState::Charging,
            50.0,
            0.1,
            Before::default(),
        );
        assert_eq!(first.unwrap().raise_max_kw, Some(50.0));
        let before = Before {
            peaks: Some(&peaks),
            bucket_mark: Some(ts),
        };
        let (lower, _) = plan(&who, ts, ConnectorState::Charging, 40.0, 0.1, before);
        assert_eq!(lower.unwrap().raise_max_kw, None);
        let next_hour = at("2026-05-10T15:00:00Z");
        let (fresh, _) = plan(&who, next_hour, ConnectorState::Charging, 40.0, 0.1, before);
        let fresh = fresh.unwrap();
        assert_eq!(fresh.raise_max_kw, Some(40.0), "a new hour bucket");
        assert_eq!(fresh.after, None, "nothing counted in the new hour yet");
    }

    #[test]
    fn a_sample_follows_the_last_one_counted_in_its_hour() {
        let op = OperatorId::parse("acme").unwrap();
        let mark = at("2026-05-10T14:05:00Z");
        let before = Before {
            peaks: None,
            bucket_mark: Some(mark),
        };
        let (add, _) = plan(
            &who(&op, None),
            mark + Duration::seconds(30),
            ConnectorState::Charging,
            7.0,
            0.1,
            before,
        );
        let add = add.unwrap();
        assert_eq!(add.after, Some(mark));
        assert_eq!(add.mark, mark + Duration::seconds(30));
    }

    #[test]
    fn an_idle_sample_below_the_peak_adds_nothing() {
        let op = OperatorId::parse("acme").unwrap();
        let who = who(&op, None);
        let ts = at("2026-05-10T14:05:00Z");
        let (_, peaks) = plan(
            &who,
            ts,
            ConnectorState::Charging,
            50.0,
            0.1,
            Before::default(),
        );
        let before = Before {
            peaks: Some(&peaks),
            bucket_mark: Some(ts),
        };
        let (add, _) = plan(&who, ts, ConnectorState::Idle, 0.0, 0.0, before);
        assert!(add.is_none());
    }
}
