//! Which tariff prices a session (contract §14): the device's, else its
//! site's, else its operator's, with the content it had at the session's
//! start, and the site's time zone. An operator's tariffs and their past
//! versions are one query, kept for a minute, as is a site's time zone:
//! the end of a session costs at most those two reads.

use super::{Tariff, Tariffs};
use chrono::{DateTime, Duration, Utc};
use kernel::connector::SessionTrace;
use kernel::error::Error;
use kernel::ids::{OperatorId, SiteId, TariffId};
use kernel::model::Device;
use pricing::{Activity, Decimal, Session, TariffContent, Tz};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a read tariff or time zone is used before it is read again.
const KEPT_FOR: Duration = Duration::seconds(60);

/// How far a charger's session start may be from the start its connector
/// saw for the connector's trace to be taken as the same session.
const SAME_START: Duration = Duration::seconds(120);

/// One version of a tariff: it priced sessions started from its
/// `updated_at` (the first version: from whenever its validity starts, so
/// a charger whose clock is behind is priced all the same) until
/// `superseded_at` (a later version, or its deletion).
#[derive(Debug, Clone, PartialEq)]
pub struct TariffVersion {
    pub tariff: Tariff,
    pub superseded_at: Option<DateTime<Utc>>,
}

impl TariffVersion {
    /// Whether this version priced sessions started at `at`.
    fn in_force(&self, at: DateTime<Utc>) -> bool {
        let t = &self.tariff;
        (t.version == 1 || t.updated_at <= at)
            && self.superseded_at.is_none_or(|s| at < s)
            && t.valid_from.is_none_or(|f| f <= at)
            && t.valid_to.is_none_or(|to| at < to)
    }
}

/// What prices one session.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricer {
    pub tariff_id: TariffId,
    pub content: TariffContent,
    /// Where the restrictions are read: the site's time zone.
    pub tz: Tz,
}

struct Kept<T> {
    at: DateTime<Utc>,
    value: T,
}

/// Reads kept for a minute, per process.
#[derive(Default)]
pub(crate) struct TariffCache {
    versions: Mutex<HashMap<OperatorId, Kept<Arc<Vec<TariffVersion>>>>>,
    zones: Mutex<HashMap<SiteId, Kept<Tz>>>,
}

fn fresh<K: std::hash::Hash + Eq, T: Clone>(
    map: &Mutex<HashMap<K, Kept<T>>>,
    key: &K,
    now: DateTime<Utc>,
) -> Option<T> {
    let map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.get(key)
        .filter(|k| now - k.at < KEPT_FOR && k.at <= now)
        .map(|k| k.value.clone())
}

fn keep<K: std::hash::Hash + Eq, T>(
    map: &Mutex<HashMap<K, Kept<T>>>,
    key: K,
    now: DateTime<Utc>,
    value: T,
) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.insert(key, Kept { at: now, value });
}

impl TariffCache {
    /// A change made here is seen here at once.
    pub(crate) fn forget(&self, operator: &OperatorId) {
        let mut map = self.versions.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(operator);
    }
}

/// A site's time zone: `UTC` where it has none.
pub fn site_zone(time_zone: Option<&str>) -> Tz {
    time_zone.and_then(|z| z.parse().ok()).unwrap_or(Tz::UTC)
}

impl Tariffs {
    async fn versions(&self, operator: &OperatorId) -> Result<Arc<Vec<TariffVersion>>, Error> {
        let now = self.clock.now();
        if let Some(v) = fresh(&self.cache.versions, operator, now) {
            return Ok(v);
        }
        let read = Arc::new(self.store.tariff_versions(operator).await?);
        keep(&self.cache.versions, operator.clone(), now, read.clone());
        Ok(read)
    }

    async fn zone(&self, site: Option<SiteId>) -> Result<Tz, Error> {
        let Some(site) = site else {
            return Ok(Tz::UTC);
        };
        let now = self.clock.now();
        if let Some(tz) = fresh(&self.cache.zones, &site, now) {
            return Ok(tz);
        }
        let tz = site_zone(
            self.store
                .get_site(site)
                .await?
                .and_then(|s| s.time_zone)
                .as_deref(),
        );
        keep(&self.cache.zones, site, now, tz);
        Ok(tz)
    }

    /// What prices a session of `device` started at `start`; `None` where
    /// no tariff was in force.
    pub async fn pricer(
        &self,
        device: &Device,
        start: DateTime<Utc>,
    ) -> Result<Option<Pricer>, Error> {
        let versions = self.versions(&device.operator_id).await?;
        let in_force = |scope: &dyn Fn(&Tariff) -> bool| {
            versions
                .iter()
                .find(|v| scope(&v.tariff) && v.in_force(start))
        };
        let found = in_force(&|t| t.device_id == Some(device.device_id))
            .or_else(|| {
                in_force(&|t| {
                    t.device_id.is_none() && t.site_id.is_some() && t.site_id == device.site_id
                })
            })
            .or_else(|| in_force(&|t| t.device_id.is_none() && t.site_id.is_none()));
        let Some(version) = found else {
            return Ok(None);
        };
        Ok(Some(Pricer {
            tariff_id: version.tariff.tariff_id,
            content: version.tariff.content.clone(),
            tz: self.zone(device.site_id).await?,
        }))
    }
}

/// What pricing makes of a connector state inside a session.
fn activity(state: kernel::model::ConnectorState) -> Activity {
    use kernel::model::ConnectorState as S;
    match state {
        S::Charging => Activity::Charging,
        S::Suspended | S::Finishing | S::Preparing => Activity::Parking,
        // Feeding the grid is the driver's service, not parking.
        S::Idle | S::Fault | S::Unavailable | S::Discharging => Activity::Neither,
    }
}

fn wh(kwh: f64) -> Decimal {
    Decimal::try_from(kwh * 1000.0)
        .unwrap_or_default()
        .round_dp(3)
}

/// The session pricing sees: from `start` to `end` with `kwh` in all; its
/// readings and states from the connector's trace where the trace is this
/// session's, else its energy spread evenly over its time, charging.
pub fn session_of(
    trace: Option<&SessionTrace>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    kwh: f64,
) -> Session {
    let total = wh(kwh);
    let mut session = Session {
        start,
        end,
        energy: Vec::new(),
        activity: Vec::new(),
    };
    if let Some(trace) = trace.filter(|t| (t.started_at - start).abs() <= SAME_START) {
        // Energy never falls, and never passes what the session delivered.
        let mut so_far = Decimal::ZERO;
        for p in &trace.points {
            let state = activity(p.state);
            if session.activity.last().is_none_or(|a| a.1 != state) {
                session.activity.push((p.at.clamp(start, end), state));
            }
            if p.at > start && p.at < end {
                so_far = so_far.max(wh(p.kwh)).min(total);
                session.energy.push((p.at, so_far));
            }
        }
    }
    session.energy.push((end, total));
    session
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::connector::TracePoint;
    use kernel::model::ConnectorState;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .to_utc()
            + Duration::minutes(min)
    }

    #[test]
    fn a_trace_of_another_session_is_not_used() {
        let trace = SessionTrace::open(at(-60), 0.0, ConnectorState::Charging);
        let s = session_of(Some(&trace), at(0), at(30), 5.0);
        assert_eq!(s.energy, vec![(at(30), Decimal::from(5000))]);
        assert!(s.activity.is_empty());
    }

    #[test]
    fn the_trace_gives_readings_and_parking_never_above_the_total() {
        let mut trace = SessionTrace::open(at(0), 0.0, ConnectorState::Charging);
        trace.points.push(TracePoint {
            at: at(20),
            kwh: 7.5,
            state: ConnectorState::Suspended,
        });
        trace.points.push(TracePoint {
            at: at(25),
            kwh: 9.0,
            state: ConnectorState::Charging,
        });
        let s = session_of(Some(&trace), at(0), at(30), 8.0);
        assert_eq!(
            s.energy,
            vec![
                (at(20), Decimal::from(7500)),
                (at(25), Decimal::from(8000)),
                (at(30), Decimal::from(8000)),
            ]
        );
        assert_eq!(
            s.activity,
            vec![
                (at(0), Activity::Charging),
                (at(20), Activity::Parking),
                (at(25), Activity::Charging),
            ]
        );
    }
}
