//! Pricing one session by the rules of contract §14: the session is cut
//! into periods wherever the connector's activity or a restriction's
//! outcome changes; in each period, per dimension, the first element whose
//! restrictions hold and that prices the dimension prices it; step sizes
//! round each dimension's total; VAT and rounding come once at the end.

use crate::tariff::{Dimension, Element, Restrictions, TariffContent};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};

/// What the connector was doing, for the time dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    Charging,
    /// Connected but not charging.
    Parking,
    /// Neither (idle, fault, unavailable inside a session).
    Neither,
}

/// A session as pricing sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Energy since the start (Wh) at moments of the session, in time
    /// order: between two, energy is spread evenly; from the start to the
    /// first it rises from 0; after the last none is added.
    pub energy: Vec<(DateTime<Utc>, Decimal)>,
    /// Activity changes, in time order; before the first, charging.
    pub activity: Vec<(DateTime<Utc>, Activity)>,
}

/// A session's price (contract §14).
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    pub excl_vat: Decimal,
    pub incl_vat: Decimal,
    /// The dimensions' amounts excluding VAT, step sizes included, not
    /// rounded.
    pub energy: Decimal,
    pub time: Decimal,
    pub parking_time: Decimal,
    pub flat: Decimal,
    /// Seconds connected but not charging.
    pub parking_time_s: i64,
}

/// One period of the session: when it starts and ends, and how much
/// energy it delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub activity: Activity,
    pub energy_wh: Decimal,
}

const WH_PER_KWH: Decimal = Decimal::from_parts(1000, 0, 0, false, 0);
const S_PER_HOUR: Decimal = Decimal::from_parts(3600, 0, 0, false, 0);
const HUNDRED: Decimal = Decimal::ONE_HUNDRED;
/// Decimal places of interpolated energy (Wh).
const ENERGY_DP: u32 = 12;

fn seconds(d: Duration) -> Decimal {
    let nanos = d.num_nanoseconds().unwrap_or(i64::MAX);
    Decimal::from_i128_with_scale(i128::from(nanos), 9)
}

fn at_seconds(base: DateTime<Utc>, s: Decimal) -> DateTime<Utc> {
    let nanos = (s * Decimal::from(1_000_000_000))
        .round()
        .try_into()
        .unwrap_or(i64::MAX);
    base + Duration::nanoseconds(nanos)
}

impl Session {
    /// The energy curve's points, from (start, 0) to the end.
    fn curve(&self) -> Vec<(DateTime<Utc>, Decimal)> {
        let mut points = vec![(self.start, Decimal::ZERO)];
        for &(at, wh) in &self.energy {
            if at > self.start && at <= self.end {
                points.push((at, wh));
            }
        }
        let last = points.last().map_or(Decimal::ZERO, |p| p.1);
        points.push((self.end, last));
        points
    }

    /// Seconds connected but not charging, whatever the tariff.
    pub fn parking_seconds(&self) -> i64 {
        let mut cuts = vec![self.start];
        cuts.extend(
            self.activity
                .iter()
                .map(|a| a.0)
                .filter(|t| *t > self.start && *t < self.end),
        );
        cuts.push(self.end);
        let parked: Duration = cuts
            .windows(2)
            .filter(|w| self.activity_at(w[0]) == Activity::Parking)
            .map(|w| w[1] - w[0])
            .sum();
        seconds(parked).round().try_into().unwrap_or(i64::MAX)
    }

    fn activity_at(&self, t: DateTime<Utc>) -> Activity {
        self.activity
            .iter()
            .take_while(|(at, _)| *at <= t)
            .last()
            .map_or(Activity::Charging, |(_, a)| *a)
    }
}

/// Energy since the start at `t` on the curve.
fn energy_at(curve: &[(DateTime<Utc>, Decimal)], t: DateTime<Utc>) -> Decimal {
    // The first point at or after `t`, and the one before it.
    let i = curve.partition_point(|p| p.0 < t);
    match (i.checked_sub(1).and_then(|j| curve.get(j)), curve.get(i)) {
        (Some(&(t0, e0)), Some(&(t1, e1))) if t1 > t0 => {
            // At a fixed scale, so the periods' energies add up to the
            // total exactly (a step size would bill a rounding error).
            (e0 + (e1 - e0) * seconds(t - t0) / seconds(t1 - t0)).round_dp(ENERGY_DP)
        }
        (_, Some(&(_, e))) | (Some(&(_, e)), None) => e,
        (None, None) => Decimal::ZERO,
    }
}

/// The moments the energy curve crosses `wh`.
fn crossings(curve: &[(DateTime<Utc>, Decimal)], wh: Decimal) -> Vec<DateTime<Utc>> {
    curve
        .windows(2)
        .filter(|p| p[0].1 < wh && wh < p[1].1)
        .map(|p| {
            let ((t0, e0), (t1, e1)) = (p[0], p[1]);
            at_seconds(t0, seconds(t1 - t0) * (wh - e0) / (e1 - e0))
        })
        .collect()
}

/// The instants a local wall-clock moment happens at: one, both of a
/// repeated hour, or for a moment a clock change skipped, the change itself
/// (where the clock jumps past it).
fn instants(tz: Tz, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => vec![t.to_utc()],
        chrono::LocalResult::Ambiguous(a, b) => vec![a.to_utc(), b.to_utc()],
        chrono::LocalResult::None => skipped(tz, local).into_iter().collect(),
    }
}

/// Where the clock lands past a local moment a change skipped.
fn skipped(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    // The first second whose local time is at or past `local`, within the
    // (at most a few hours') gap.
    let reached = |s: i64| {
        DateTime::from_timestamp(s, 0).is_some_and(|t| t.with_timezone(&tz).naive_local() >= local)
    };
    let mut after = tz
        .from_local_datetime(&(local + Duration::hours(3)))
        .earliest()?
        .timestamp();
    let mut before = after - 6 * 3600;
    while after - before > 1 {
        let middle = before + (after - before) / 2;
        if reached(middle) {
            after = middle;
        } else {
            before = middle;
        }
    }
    DateTime::from_timestamp(after, 0)
}

/// Where the zone's offset from UTC changes between `from` and `to`, to
/// the second.
fn offset_changes(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    use chrono::Offset;
    let offset = |s: i64| {
        DateTime::from_timestamp(s, 0).map(|t| tz.offset_from_utc_datetime(&t.naive_utc()).fix())
    };
    let mut changes = Vec::new();
    let (mut hour, end) = (from.timestamp(), to.timestamp());
    while hour < end {
        let next = (hour + 3600).min(end);
        if offset(hour) != offset(next) {
            let (mut before, mut after) = (hour, next);
            while after - before > 1 {
                let middle = before + (after - before) / 2;
                if offset(middle) == offset(hour) {
                    before = middle;
                } else {
                    after = middle;
                }
            }
            changes.extend(DateTime::from_timestamp(after, 0));
        }
        hour = next;
    }
    changes
}

/// Where any restriction of the tariff may change its outcome.
fn boundaries(
    tariff: &TariffContent,
    tz: Tz,
    session: &Session,
    curve: &[(DateTime<Utc>, Decimal)],
) -> Vec<DateTime<Utc>> {
    let mut cuts = Vec::new();
    let first_day = session.start.with_timezone(&tz).date_naive() - Duration::days(1);
    let last_day = session.end.with_timezone(&tz).date_naive() + Duration::days(1);
    let days: Vec<NaiveDate> = first_day
        .iter_days()
        .take_while(|d| *d <= last_day)
        .collect();
    let mut clock_matters = false;
    for r in tariff
        .elements
        .iter()
        .filter_map(|e| e.restrictions.as_ref())
    {
        let mut times = Vec::new();
        times.extend(r.start_time);
        times.extend(r.end_time);
        // A window open on one side, a date or a weekday changes at
        // midnight too.
        if !times.is_empty()
            || r.start_date.is_some()
            || r.end_date.is_some()
            || !r.day_of_week.is_empty()
        {
            times.push(chrono::NaiveTime::MIN);
        }
        for day in &days {
            for t in &times {
                cuts.extend(instants(tz, day.and_time(*t)));
            }
        }
        clock_matters |= !times.is_empty();
        for d in [r.min_duration, r.max_duration].into_iter().flatten() {
            cuts.push(session.start + Duration::seconds(d));
        }
        for kwh in [r.min_kwh, r.max_kwh].into_iter().flatten() {
            cuts.extend(crossings(curve, kwh * WH_PER_KWH));
        }
    }
    // Where the clock jumps, local time of day does too.
    if clock_matters {
        cuts.extend(offset_changes(tz, session.start, session.end));
    }
    cuts
}

/// The session cut into periods, each with one activity and one outcome
/// of every restriction.
pub fn periods(tariff: &TariffContent, tz: Tz, session: &Session) -> Vec<Period> {
    let curve = session.curve();
    let mut cuts = vec![session.start, session.end];
    cuts.extend(curve.iter().map(|p| p.0));
    cuts.extend(session.activity.iter().map(|a| a.0));
    cuts.extend(boundaries(tariff, tz, session, &curve));
    cuts.retain(|t| *t >= session.start && *t <= session.end);
    cuts.sort_unstable();
    cuts.dedup();
    let energy: Vec<Decimal> = cuts.iter().map(|t| energy_at(&curve, *t)).collect();
    cuts.windows(2)
        .zip(energy.windows(2))
        .map(|(t, e)| Period {
            start: t[0],
            end: t[1],
            activity: session.activity_at(t[0]),
            energy_wh: e[1] - e[0],
        })
        .collect()
}

/// Whether `r` holds at local moment `local` with `wh` and `elapsed_s`
/// of the session so far.
fn holds(r: &Restrictions, local: NaiveDateTime, wh: Decimal, elapsed_s: Decimal) -> bool {
    let time = local.time();
    let in_window = match (r.start_time, r.end_time) {
        (Some(s), Some(e)) if s <= e => s <= time && time < e,
        (Some(s), Some(e)) => time >= s || time < e,
        (Some(s), None) => time >= s,
        (None, Some(e)) => time < e,
        (None, None) => true,
    };
    let date = local.date();
    let kwh = wh / WH_PER_KWH;
    in_window
        && r.start_date.is_none_or(|d| date >= d)
        && r.end_date.is_none_or(|d| date < d)
        && (r.day_of_week.is_empty() || r.day_of_week.contains(&local.weekday()))
        && r.min_kwh.is_none_or(|m| kwh >= m)
        && r.max_kwh.is_none_or(|m| kwh < m)
        && r.min_duration.is_none_or(|m| elapsed_s >= Decimal::from(m))
        && r.max_duration.is_none_or(|m| elapsed_s < Decimal::from(m))
}

fn active(e: &Element, local: NaiveDateTime, wh: Decimal, elapsed_s: Decimal) -> bool {
    e.restrictions
        .as_ref()
        .is_none_or(|r| holds(r, local, wh, elapsed_s))
}

/// One dimension's running total: its volume (Wh or seconds), the sum of
/// volume × price (divided into units once, at the end, so that no
/// rounding comes before the cents), and the price and step of the element
/// that priced it last.
#[derive(Default)]
struct Total {
    volume: Decimal,
    priced: Decimal,
    last: Option<(Decimal, u32)>,
}

impl Total {
    /// A period this element prices, however little volume it has.
    fn add(&mut self, volume: Decimal, per_unit: Decimal, step: u32) {
        self.volume += volume;
        self.priced += volume * per_unit;
        self.last = Some((per_unit, step));
    }

    /// The total with its volume rounded up to the last step size, the
    /// added volume priced at the last price.
    fn stepped(&self, unit: Decimal) -> Decimal {
        let Some((price, step)) = self.last else {
            return self.priced / unit;
        };
        let step = Decimal::from(step.max(1));
        let rounded = (self.volume / step).ceil() * step;
        (self.priced + (rounded - self.volume) * price) / unit
    }
}

/// Half-up to cents.
fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The price of `session` by `tariff`, its restrictions read in `tz`.
pub fn price(tariff: &TariffContent, tz: Tz, session: &Session) -> Price {
    let curve = session.curve();
    let mut energy = Total::default();
    let mut time = Total::default();
    let mut parking = Total::default();
    let mut parking_s = Decimal::ZERO;
    for period in periods(tariff, tz, session) {
        // Every restriction's outcome is the same throughout the period:
        // it is judged at the period's middle, clear of its edges.
        let middle = period.start + (period.end - period.start) / 2;
        let local = middle.with_timezone(&tz).naive_local();
        let wh = energy_at(&curve, middle);
        let elapsed = seconds(middle - session.start);
        let length = seconds(period.end - period.start);
        let on: Vec<&Element> = tariff
            .elements
            .iter()
            .filter(|e| active(e, local, wh, elapsed))
            .collect();
        let first = |dimension: Dimension| on.iter().find_map(|e| e.component(dimension));
        if let Some(c) = first(Dimension::Energy) {
            energy.add(period.energy_wh, c.price, c.step_size);
        }
        match period.activity {
            Activity::Charging => {
                if let Some(c) = first(Dimension::Time) {
                    time.add(length, c.price, c.step_size);
                }
            }
            Activity::Parking => {
                parking_s += length;
                if let Some(c) = first(Dimension::ParkingTime) {
                    parking.add(length, c.price, c.step_size);
                }
            }
            Activity::Neither => {}
        }
    }
    let start_local = session.start.with_timezone(&tz).naive_local();
    let flat = tariff
        .elements
        .iter()
        .filter(|e| active(e, start_local, Decimal::ZERO, Decimal::ZERO))
        .find_map(|e| e.component(Dimension::Flat))
        .map_or(Decimal::ZERO, |c| c.price);
    let (energy, time, parking_time) = (
        energy.stepped(WH_PER_KWH),
        time.stepped(S_PER_HOUR),
        parking.stepped(S_PER_HOUR),
    );
    let sum = energy + time + parking_time + flat;
    Price {
        excl_vat: cents(sum),
        incl_vat: cents(sum * (Decimal::ONE + tariff.vat_percent / HUNDRED)),
        energy,
        time,
        parking_time,
        flat,
        parking_time_s: parking_s.round().try_into().unwrap_or(i64::MAX),
    }
}
