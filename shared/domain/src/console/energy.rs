//! Energy time series from the pre-aggregated hour roll-ups: days and
//! months are sums of hours, read with one paginated Query per call.

use super::Console;
use super::views::{EnergyPoint, EnergySeries, EnergyTotal, Granularity};
use crate::telemetry::{EnergyHour, EnergyScope};
use chrono::{DateTime, Datelike, Duration, DurationRound, TimeZone, Utc};
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::{DeviceId, SiteId};
use std::collections::BTreeMap;

impl Granularity {
    /// The range shown when the caller names no `from`.
    fn default_span(self) -> Duration {
        match self {
            Self::Hour => Duration::hours(24),
            Self::Day => Duration::days(30),
            Self::Month => Duration::days(365),
        }
    }

    /// The start of the point `t` falls in.
    pub(super) fn floor(self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::Hour => trunc(t, Duration::hours(1)),
            Self::Day => trunc(t, Duration::days(1)),
            Self::Month => month_start(t),
        }
    }

    /// The start of the point after the one starting at `t`.
    fn next(self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::Hour => t + Duration::hours(1),
            Self::Day => t + Duration::days(1),
            Self::Month => next_month(t),
        }
    }

    /// A series' range from what the caller asked, whole points wide:
    /// `to` defaults to `now`, `from` to the default span before it.
    pub(super) fn range(
        self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), Error> {
        let to = to.unwrap_or(now);
        let from = from.unwrap_or(to - self.default_span());
        let (from, to) = (self.floor(from), ceil(self, to));
        if from >= to {
            return Err(Error::invalid("to", "must be after from"));
        }
        if let Some(most) = self.too_long(from, to) {
            return Err(Error::invalid(
                "to",
                format!(
                    "the range may span at most {most} at {} granularity",
                    self.as_str()
                ),
            ));
        }
        Ok((from, to))
    }

    /// The widest range a call may ask for (contract §6).
    fn too_long(self, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<&'static str> {
        let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
        match self {
            Self::Hour if to - from > Duration::days(31) => Some("31 days"),
            Self::Day if to - from > Duration::days(366) => Some("366 days"),
            Self::Month if months > 60 => Some("60 months"),
            _ => None,
        }
    }
}

/// Whose energy: one site or one device.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EnergyTarget {
    Site(SiteId),
    Device(DeviceId),
}

/// `GET /v1/aggregated/energy`, parsed.
#[derive(Debug, Clone)]
pub struct EnergyQuery {
    pub granularity: Granularity,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub target: EnergyTarget,
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

impl Console {
    /// The energy series of one site or device from the pre-aggregated hour
    /// buckets (days and months are sums of hours): one paginated Query per
    /// call, never the samples.
    pub async fn energy(&self, caller: &Caller, q: EnergyQuery) -> Result<EnergySeries, Error> {
        let g = q.granularity;
        let (from, to) = g.range(q.from, q.to, self.clock.now())?;
        let (scope, operator) = match q.target {
            EnergyTarget::Site(id) => {
                let site = self.access.visible_site(caller, id).await?;
                (EnergyScope::Site(site.site_id), site.operator_id)
            }
            EnergyTarget::Device(id) => {
                let dev = self.access.visible_device(caller, id).await?;
                (EnergyScope::Device(dev.device_id), dev.operator_id)
            }
        };
        let last_hour = to - Duration::hours(1);
        let hours = self
            .store
            .energy_hours(&operator, scope, from, last_hour)
            .await?;
        let series = fill_series(g, from, to, &hours);
        let total = series
            .iter()
            .fold(EnergyTotal::default(), |t, p| EnergyTotal {
                charge_energy: t.charge_energy + p.charge_energy,
                discharge_energy: t.discharge_energy + p.discharge_energy,
                max_power: t.max_power.max(p.max_power),
            });
        let (site_id, device_id) = match q.target {
            EnergyTarget::Site(id) => (Some(id), None),
            EnergyTarget::Device(id) => (None, Some(id)),
        };
        Ok(EnergySeries {
            granularity: g,
            from,
            to,
            site_id,
            device_id,
            series,
            total,
        })
    }
}

fn trunc(t: DateTime<Utc>, unit: Duration) -> DateTime<Utc> {
    t.duration_trunc(unit).unwrap_or(t)
}

/// The start of the first point at or after `t`.
fn ceil(g: Granularity, t: DateTime<Utc>) -> DateTime<Utc> {
    let down = g.floor(t);
    if down == t { t } else { g.next(down) }
}

/// Every bucket of `[from, to)` in order, zeros where nothing was recorded.
fn fill_series(
    g: Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    hours: &[EnergyHour],
) -> Vec<EnergyPoint> {
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
        t = g.next(t);
    }
    for b in hours {
        if let Some(p) = points.get_mut(&g.floor(b.hour)) {
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

    fn hour(start: &str, charge: f64, max: f64) -> EnergyHour {
        EnergyHour {
            hour: at(start),
            charge_energy: charge,
            discharge_energy: 0.0,
            max_power: Some(max),
        }
    }

    #[test]
    fn every_hour_of_the_range_is_in_the_series_with_zeros() {
        let series = fill_series(
            Granularity::Hour,
            at("2026-05-10T12:00:00Z"),
            at("2026-05-10T16:00:00Z"),
            &[hour("2026-05-10T14:00:00Z", 2.5, 22.0)],
        );
        assert_eq!(series.len(), 4);
        assert_eq!(series[2].charge_energy, 2.5);
        assert_eq!(series[0].charge_energy, 0.0);
        assert_eq!(series[2].timestamp, at("2026-05-10T14:00:00Z"));
    }

    #[test]
    fn months_add_up_their_hours_and_keep_the_highest_power() {
        let series = fill_series(
            Granularity::Month,
            at("2026-04-01T00:00:00Z"),
            at("2026-06-01T00:00:00Z"),
            &[
                hour("2026-05-01T00:00:00Z", 1.0, 11.0),
                hour("2026-05-31T23:00:00Z", 2.0, 7.0),
            ],
        );
        assert_eq!(series.len(), 2);
        assert_eq!(series[1].charge_energy, 3.0);
        assert_eq!(series[1].max_power, 11.0);
    }

    #[test]
    fn ranges_are_capped_per_granularity() {
        let from = at("2026-01-01T00:00:00Z");
        assert_eq!(
            Granularity::Hour.too_long(from, from + Duration::days(31)),
            None
        );
        assert!(
            Granularity::Hour
                .too_long(from, from + Duration::days(32))
                .is_some()
        );
        assert!(
            Granularity::Month
                .too_long(from, at("2031-02-01T00:00:00Z"))
                .is_some()
        );
        assert_eq!(
            Granularity::Month.too_long(from, at("2031-01-01T00:00:00Z")),
            None
        );
    }
}
