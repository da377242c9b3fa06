//! Random tariffs (within the subset of contract §14) and random sessions
//! in 2026, many of them across the clock changes of the site's time zone.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc, Weekday};
use fastrand::Rng;
use pricing::{
    Activity, Decimal, Dimension, Element, PriceComponent, Restrictions, Session, TariffContent, Tz,
};

/// A tariff and a session to price by it.
pub struct Case {
    pub tariff: TariffContent,
    pub session: Session,
}

/// Energy added between two readings (Wh) is a 5-smooth number dividing
/// 2^11 · 3 · 5^10, and readings are whole minutes apart (6·10^10 ns =
/// 2^11 · 3 · 5^10 ns): so every whole-Wh kWh threshold is crossed on a
/// whole nanosecond and the cut our pricer makes there is exact. (Were it
/// rounded to a nanosecond, the energy at a period's start could fall a
/// hair short of the threshold; the oracle judges restrictions at a
/// period's start, ours at its middle, and they would disagree about a
/// sliver of time that is an artefact of the rounding, not of either
/// pricer.)
fn smooth_increments() -> Vec<i64> {
    let mut v = Vec::new();
    for a in 0..=11u32 {
        for b in 0..=1u32 {
            for c in 0..=10u32 {
                let n = 2i64.pow(a) * 3i64.pow(b) * 5i64.pow(c);
                if n <= 8000 {
                    v.push(n);
                }
            }
        }
    }
    v.sort_unstable();
    v
}

pub struct Generator {
    rng: Rng,
    tz: Tz,
    /// The instants the zone's UTC offset changes in 2026.
    changes: Vec<DateTime<Utc>>,
    increments: Vec<i64>,
    /// Whether to keep clear of the open choices (see `avoid_open_choices`).
    avoid: bool,
}

fn new_year() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("a date")
        .to_utc()
}

fn offset_s(tz: Tz, t: DateTime<Utc>) -> i32 {
    use chrono::Offset;
    t.with_timezone(&tz).offset().fix().local_minus_utc()
}

impl Generator {
    pub fn new(seed: u64, tz: Tz, avoid: bool) -> Self {
        let year = new_year();
        let mut changes = Vec::new();
        let minute = Duration::minutes(1);
        let mut t = year;
        while t < year + Duration::days(366) {
            if offset_s(tz, t) != offset_s(tz, t + minute) {
                changes.push(t + minute);
            }
            t += minute;
        }
        Self {
            rng: Rng::with_seed(seed),
            tz,
            changes,
            increments: smooth_increments(),
            avoid,
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.f64() < p
    }

    pub fn case(&mut self) -> Case {
        let (session, total_wh) = self.session();
        let tariff = self.tariff(&session, total_wh);
        Case { tariff, session }
    }

    /// A session and its total energy (Wh).
    fn session(&mut self) -> (Session, i64) {
        let duration = Duration::seconds(if self.chance(0.3) {
            self.rng.i64(300..=3 * 3600)
        } else {
            self.rng.i64(300..=20 * 3600)
        });
        let mut start = if !self.changes.is_empty() && self.chance(0.35) {
            // Across (or just before or after) a clock change.
            let change = self.changes[self.rng.usize(..self.changes.len())];
            change - Duration::seconds(self.rng.i64(-3600..=duration.num_seconds() + 3600))
        } else {
            new_year() + Duration::seconds(self.rng.i64(0..365 * 86400))
        };
        if self.chance(0.4) {
            start -= Duration::seconds(i64::from(start.second()));
        }
        let end = start + duration;

        // Readings whole minutes apart; charging, then perhaps parked,
        // then perhaps charging again (the changes fall on readings).
        let mut at = start;
        let mut readings = Vec::new();
        while at + Duration::minutes(1) <= end {
            at += Duration::minutes(self.rng.i64(1..=10));
            if at > end {
                break;
            }
            readings.push(at);
        }
        let mut activity = Vec::new();
        let n = readings.len();
        if n >= 2 && self.chance(0.5) {
            let park = self.rng.usize(0..n);
            activity.push((readings[park], Activity::Parking));
            if park + 1 < n && self.chance(0.4) {
                let resume = self.rng.usize(park + 1..n);
                activity.push((readings[resume], Activity::Charging));
            }
        }
        let charging_at = |t: DateTime<Utc>| {
            activity
                .iter()
                .take_while(|(a, _)| *a < t)
                .last()
                .is_none_or(|(_, a)| *a == Activity::Charging)
        };
        let kw = self.rng.i64(3..=50);
        let mut wh = 0i64;
        let mut energy = Vec::new();
        let mut previous = start;
        for &t in &readings {
            if charging_at(t) && !self.chance(0.05) {
                let minutes = (t - previous).num_minutes();
                let most = (kw * 1000 * minutes / 60).max(1);
                let fits = self.increments.partition_point(|&i| i <= most);
                wh += self.increments[self.rng.usize(fits / 2..fits)];
            }
            energy.push((t, Decimal::from(wh)));
            previous = t;
        }
        let session = Session {
            start,
            end,
            energy,
            activity,
        };
        (session, wh)
    }

    fn price(&mut self) -> Decimal {
        if self.chance(0.1) {
            return Decimal::ZERO;
        }
        let p = Decimal::new(self.rng.i64(1..=20000), 4);
        if self.chance(0.4) { p.round_dp(2) } else { p }
    }

    fn tariff(&mut self, session: &Session, total_wh: i64) -> TariffContent {
        let vat = if self.chance(0.5) {
            Decimal::from(self.rng.i64(0..=25))
        } else {
            Decimal::new(self.rng.i64(0..=2500), 2)
        };
        let count = self.rng.usize(1..=4);
        let mut elements = Vec::new();
        for i in 0..count {
            let mut dims = [
                Dimension::Energy,
                Dimension::Time,
                Dimension::ParkingTime,
                Dimension::Flat,
            ];
            self.rng.shuffle(&mut dims);
            let components = dims[..self.rng.usize(1..=4)]
                .iter()
                .map(|&dimension| self.component(dimension))
                .collect();
            let last = i + 1 == count;
            let restricted = if last {
                self.chance(0.3)
            } else {
                self.chance(0.85)
            };
            let restrictions = restricted.then(|| self.restrictions(session, total_wh));
            elements.push(Element {
                price_components: components,
                restrictions,
            });
        }
        if self.avoid {
            self.avoid_open_choices(&mut elements, !session.activity.is_empty());
        }
        TariffContent {
            currency: "EUR".into(),
            vat_percent: vat,
            elements,
        }
    }

    fn component(&mut self, dimension: Dimension) -> PriceComponent {
        PriceComponent {
            dimension,
            price: self.price(),
            step_size: if dimension == Dimension::Flat {
                1
            } else {
                [1, 60, 300, 900, 1000][self.rng.usize(..5)]
            },
        }
    }

    /// Keeps clear of where contract §14 fixes a choice OCPI leaves open
    /// and the oracle chose otherwise:
    ///
    /// - A dimension no element prices for part of the session. The oracle
    ///   rounds the session's whole volume of it (priced or not) up to the
    ///   step and bills the difference at the last price, and charges the
    ///   FLAT of the first period that has one; §14 rounds the volume the
    ///   elements priced ("the last element that priced it", as OCPI's
    ///   free-of-charge step_size example does) and takes FLAT only from
    ///   the elements active at the start. So the last element is
    ///   unrestricted and prices every dimension the tariff prices.
    /// - TIME's step when parking is priced too. The oracle then leaves
    ///   charging time unrounded (after OCPI's example where parking falls
    ///   within the extra charging time billed); §14 rounds every
    ///   dimension's total to its step. So TIME's step is 1 s when the
    ///   session parks under a tariff with PARKING_TIME.
    fn avoid_open_choices(&mut self, elements: &mut Vec<Element>, parks: bool) {
        let used: Vec<Dimension> = [
            Dimension::Energy,
            Dimension::Time,
            Dimension::ParkingTime,
            Dimension::Flat,
        ]
        .into_iter()
        .filter(|d| elements.iter().any(|e| e.component(*d).is_some()))
        .collect();
        if elements.last().is_some_and(|e| e.restrictions.is_some()) {
            elements.push(Element {
                price_components: Vec::new(),
                restrictions: None,
            });
        }
        for d in &used {
            if elements.last().and_then(|e| e.component(*d)).is_none() {
                let c = self.component(*d);
                elements
                    .last_mut()
                    .expect("an element")
                    .price_components
                    .push(c);
            }
        }
        if parks && used.contains(&Dimension::ParkingTime) {
            for e in elements.iter_mut() {
                for c in &mut e.price_components {
                    if c.dimension == Dimension::Time {
                        c.step_size = 1;
                    }
                }
            }
        }
    }

    fn time_of_day(&mut self, session: &Session) -> NaiveTime {
        let tz = self.tz;
        let local = |t: DateTime<Utc>| t.with_timezone(&tz).time();
        let minutes = match self.rng.usize(..4) {
            // The hour of a clock change and its edges.
            0 => [0, 60, 90, 120, 135, 150, 165, 180, 210, 1439][self.rng.usize(..10)],
            // Somewhere in the session.
            1 => {
                let s = (session.end - session.start).num_seconds();
                let t = local(session.start + Duration::seconds(self.rng.i64(0..=s)));
                t.hour() * 60 + t.minute()
            }
            // Its start, exactly.
            2 => {
                let t = local(session.start);
                t.hour() * 60 + t.minute()
            }
            _ => self.rng.u32(0..1440),
        };
        NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).expect("a time")
    }

    fn date_near(&mut self, session: &Session) -> NaiveDate {
        let day = session.start.with_timezone(&self.tz).date_naive();
        day + Duration::days(self.rng.i64(-1..=2))
    }

    /// A reading's energy exactly, or any whole Wh, in kWh.
    fn kwh(&mut self, session: &Session, total_wh: i64) -> Decimal {
        let wh = if !session.energy.is_empty() && self.chance(0.2) {
            session.energy[self.rng.usize(..session.energy.len())].1
        } else {
            Decimal::from(self.rng.i64(0..=total_wh * 6 / 5 + 1))
        };
        wh / Decimal::from(1000)
    }

    /// Up to a little over `span`, often whole minutes.
    fn seconds(&mut self, span: i64) -> i64 {
        let s = self.rng.i64(0..=span * 6 / 5);
        if self.chance(0.5) { s / 60 * 60 } else { s }
    }

    fn restrictions(&mut self, session: &Session, total_wh: i64) -> Restrictions {
        let mut r = Restrictions::default();
        let span = (session.end - session.start).num_seconds();
        if self.chance(0.45) {
            match self.rng.usize(..3) {
                0 => r.start_time = Some(self.time_of_day(session)),
                1 => r.end_time = Some(self.time_of_day(session)),
                _ => {
                    r.start_time = Some(self.time_of_day(session));
                    r.end_time = Some(self.time_of_day(session));
                }
            }
        }
        if self.chance(0.2) {
            let days = [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ];
            r.day_of_week = days.into_iter().filter(|_| self.chance(0.5)).collect();
        }
        if self.chance(0.15) {
            r.start_date = Some(self.date_near(session));
        }
        if self.chance(0.15) {
            r.end_date = Some(self.date_near(session));
        }
        if self.chance(0.25) {
            r.min_kwh = Some(self.kwh(session, total_wh));
        }
        if self.chance(0.25) {
            r.max_kwh = Some(self.kwh(session, total_wh));
        }
        if self.chance(0.2) {
            r.min_duration = Some(self.seconds(span));
        }
        if self.chance(0.2) {
            r.max_duration = Some(self.seconds(span));
        }
        r
    }
}
