//! The same case as an OCPI 2.2.1 tariff and CDR, priced by ocpi-tariffs.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use ocpi_tariffs::{Version, cdr, price, tariff};
use pricing::{Activity, Decimal, Dimension, Period, Session, TariffContent, Tz};
use std::fmt::Write;

/// A charging period of the CDR: its span, activity, and the session's
/// energy (Wh) at its start and end.
#[derive(Debug, Clone)]
pub struct Slice {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub activity: Activity,
    pub wh_start: Decimal,
    pub wh_end: Decimal,
}

/// Our periods, with the energy so far at each edge.
pub fn slices(periods: &[Period]) -> Vec<Slice> {
    let mut wh = Decimal::ZERO;
    periods
        .iter()
        .map(|p| {
            let start = wh;
            wh += p.energy_wh;
            Slice {
                start: p.start,
                end: p.end,
                activity: p.activity,
                wh_start: start,
                wh_end: wh,
            }
        })
        .collect()
}

fn nanos(d: Duration) -> Decimal {
    Decimal::from(d.num_nanoseconds().expect("a session is short"))
}

/// `slices` cut further at `cuts` (sorted), energy spread evenly within a
/// slice.
pub fn refine(slices: &[Slice], cuts: &[DateTime<Utc>]) -> Vec<Slice> {
    let mut out = Vec::new();
    for s in slices {
        let mut from = s.start;
        let mut wh = s.wh_start;
        for &t in cuts.iter().filter(|t| **t > s.start && **t < s.end) {
            let at =
                s.wh_start + (s.wh_end - s.wh_start) * nanos(t - s.start) / nanos(s.end - s.start);
            out.push(Slice {
                start: from,
                end: t,
                wh_start: wh,
                wh_end: at,
                ..*s
            });
            (from, wh) = (t, at);
        }
        out.push(Slice {
            start: from,
            wh_start: wh,
            ..*s
        });
    }
    out
}

/// Instants where some restriction of `tariff` may change its outcome,
/// found by brute force rather than as our pricer finds them: every UTC
/// minute of the session whose local time is a restriction's start or end
/// time or midnight, every change of the UTC offset, the duration limits,
/// and the energy curve's crossings of the kWh limits.
pub fn probe_cuts(tariff: &TariffContent, tz: Tz, session: &Session) -> Vec<DateTime<Utc>> {
    use chrono::{NaiveTime, Offset, Timelike};
    let mut times: Vec<NaiveTime> = Vec::new();
    let mut cuts = Vec::new();
    let mut kwh = Vec::new();
    for r in tariff
        .elements
        .iter()
        .filter_map(|e| e.restrictions.as_ref())
    {
        times.extend(r.start_time.iter().chain(&r.end_time));
        let by_day = r.start_date.is_some() || r.end_date.is_some() || !r.day_of_week.is_empty();
        if by_day || r.start_time.is_some() || r.end_time.is_some() {
            times.push(NaiveTime::MIN);
        }
        for d in r.min_duration.iter().chain(&r.max_duration) {
            cuts.push(session.start + Duration::seconds(*d));
        }
        kwh.extend(r.min_kwh.iter().chain(&r.max_kwh).copied());
    }
    let offset = |t: DateTime<Utc>| t.with_timezone(&tz).offset().fix();
    let minute = Duration::minutes(1);
    let mut t = session.start
        - Duration::seconds(i64::from(session.start.second()))
        - Duration::nanoseconds(i64::from(session.start.nanosecond()));
    while t <= session.end {
        if times.contains(&t.with_timezone(&tz).time()) || offset(t) != offset(t - minute) {
            cuts.push(t);
        }
        t += minute;
    }
    let mut curve = vec![(session.start, Decimal::ZERO)];
    curve.extend(session.energy.iter().copied());
    for pair in curve.windows(2) {
        let ((t0, e0), (t1, e1)) = (pair[0], pair[1]);
        for k in &kwh {
            let wh = k * Decimal::from(1000);
            if e0 < wh && wh < e1 {
                let ns = nanos(t1 - t0) * (wh - e0) / (e1 - e0);
                let ns: i64 = ns.round().try_into().expect("nanoseconds");
                cuts.push(t0 + Duration::nanoseconds(ns));
            }
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn kwh(wh: Decimal) -> Decimal {
    // Rounded far below anything priced, so that the periods' volumes add
    // up exactly to the total (the whole Wh of the last reading).
    (wh / Decimal::from(1000)).round_dp(20).normalize()
}

fn hours(d: Duration) -> Decimal {
    (nanos(d) / Decimal::from(3_600_000_000_000i64)).normalize()
}

fn dimension(d: Dimension) -> &'static str {
    match d {
        Dimension::Energy => "ENERGY",
        Dimension::Time => "TIME",
        Dimension::ParkingTime => "PARKING_TIME",
        Dimension::Flat => "FLAT",
    }
}

/// `tariff` as an OCPI 2.2.1 Tariff; its VAT on every component.
pub fn tariff_json(tariff: &TariffContent) -> String {
    let mut elements = Vec::new();
    for e in &tariff.elements {
        let components: Vec<String> = e
            .price_components
            .iter()
            .map(|c| {
                format!(
                    r#"{{"type":"{}","price":{},"vat":{},"step_size":{}}}"#,
                    dimension(c.dimension),
                    c.price,
                    tariff.vat_percent,
                    c.step_size
                )
            })
            .collect();
        let mut element = format!(r#"{{"price_components":[{}]"#, components.join(","));
        if let Some(r) = &e.restrictions {
            let mut fields = Vec::new();
            let hm = |t: chrono::NaiveTime| t.format("%H:%M").to_string();
            if let Some(t) = r.start_time {
                fields.push(format!(r#""start_time":"{}""#, hm(t)));
            }
            if let Some(t) = r.end_time {
                fields.push(format!(r#""end_time":"{}""#, hm(t)));
            }
            if let Some(d) = r.start_date {
                fields.push(format!(r#""start_date":"{d}""#));
            }
            if let Some(d) = r.end_date {
                fields.push(format!(r#""end_date":"{d}""#));
            }
            if let Some(k) = r.min_kwh {
                fields.push(format!(r#""min_kwh":{k}"#));
            }
            if let Some(k) = r.max_kwh {
                fields.push(format!(r#""max_kwh":{k}"#));
            }
            if let Some(s) = r.min_duration {
                fields.push(format!(r#""min_duration":{s}"#));
            }
            if let Some(s) = r.max_duration {
                fields.push(format!(r#""max_duration":{s}"#));
            }
            if !r.day_of_week.is_empty() {
                let days: Vec<String> = r
                    .day_of_week
                    .iter()
                    .map(|d| {
                        let name = match d {
                            chrono::Weekday::Mon => "MONDAY",
                            chrono::Weekday::Tue => "TUESDAY",
                            chrono::Weekday::Wed => "WEDNESDAY",
                            chrono::Weekday::Thu => "THURSDAY",
                            chrono::Weekday::Fri => "FRIDAY",
                            chrono::Weekday::Sat => "SATURDAY",
                            chrono::Weekday::Sun => "SUNDAY",
                        };
                        format!(r#""{name}""#)
                    })
                    .collect();
                fields.push(format!(r#""day_of_week":[{}]"#, days.join(",")));
            }
            write!(element, r#","restrictions":{{{}}}"#, fields.join(",")).expect("a string");
        }
        element.push('}');
        elements.push(element);
    }
    format!(
        r#"{{"country_code":"NL","party_id":"TST","id":"oracle","currency":"{}","elements":[{}],"last_updated":"2026-01-01T00:00:00Z"}}"#,
        tariff.currency,
        elements.join(",")
    )
}

/// A CDR of `session` whose charging periods are `slices`.
pub fn cdr_json(session: &Session, slices: &[Slice]) -> String {
    let mut periods = Vec::new();
    let (mut charging, mut parking) = (Duration::zero(), Duration::zero());
    for s in slices {
        let mut dims = format!(
            r#"{{"type":"ENERGY","volume":{}}}"#,
            kwh(s.wh_end) - kwh(s.wh_start)
        );
        let length = s.end - s.start;
        match s.activity {
            Activity::Charging => {
                charging += length;
                write!(dims, r#",{{"type":"TIME","volume":{}}}"#, hours(length))
            }
            Activity::Parking => {
                parking += length;
                write!(
                    dims,
                    r#",{{"type":"PARKING_TIME","volume":{}}}"#,
                    hours(length)
                )
            }
            Activity::Neither => Ok(()),
        }
        .expect("a string");
        periods.push(format!(
            r#"{{"start_date_time":"{}","dimensions":[{dims}]}}"#,
            time(s.start)
        ));
    }
    let total_wh = slices.last().map_or(Decimal::ZERO, |s| s.wh_end);
    format!(
        concat!(
            r#"{{"country_code":"NL","party_id":"TST","id":"oracle","#,
            r#""start_date_time":"{}","end_date_time":"{}","currency":"EUR","#,
            r#""total_cost":{{"excl_vat":0}},"total_energy":{},"total_time":{},"#,
            r#""total_parking_time":{},"charging_periods":[{}],"#,
            r#""last_updated":"2026-01-01T00:00:00Z"}}"#
        ),
        time(session.start),
        time(session.end),
        kwh(total_wh),
        hours(charging),
        hours(parking),
        periods.join(",")
    )
}

/// What the oracle charges, per dimension and in all (excluding VAT
/// unless named otherwise).
///
/// The totals are recomputed from the oracle's choices (the component
/// pricing each dimension of each period, and the volumes billed after
/// step sizes) by multiplying before dividing by 3600 s/h, so they are
/// exact. The oracle's own sums divide first (hours, then times the price)
/// and land a last digit off an exact half-cent now and then, as ours
/// can; `own` keeps them (unrounded: the report's totals are rounded to
/// OCPI's 4 decimals, which would round twice).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Oracle {
    pub excl_vat: Decimal,
    pub incl_vat: Decimal,
    pub energy: Decimal,
    pub time: Decimal,
    pub parking_time: Decimal,
    pub flat: Decimal,
    /// The oracle's own sums of its periods' costs, excluding and
    /// including VAT.
    pub own: (Decimal, Decimal),
}

fn seconds(d: Duration) -> Decimal {
    Decimal::from_i128_with_scale(i128::from(d.num_nanoseconds().expect("short")), 9)
}

pub fn price(tariff: &str, cdr: &str, tz: Tz, vat_percent: Decimal) -> Result<Oracle, String> {
    let cdr = cdr::parse_with_version(cdr, Version::V221).map_err(|e| format!("CDR: {e:?}"))?;
    let tariff =
        tariff::parse_with_version(tariff, Version::V221).map_err(|e| format!("tariff: {e:?}"))?;
    let report = cdr::price(
        &cdr.cdr,
        price::TariffSource::Override(vec![tariff.tariff]),
        tz,
    )
    .map_err(|e| {
        let (error, _) = e.into_parts();
        format!("pricing: {}", error.warning())
    })?
    .ignore_warnings();
    let mut o = Oracle::default();
    let per_unit = |c: &Option<price::Component>| c.as_ref().map(|c| Decimal::from(c.price()));
    let (mut time_s, mut parking_s) = (Decimal::ZERO, Decimal::ZERO);
    for p in &report.periods {
        if let Some(c) = p.cost() {
            o.own.0 += Decimal::from(c.excl_vat);
            o.own.1 += c.incl_vat.map_or(Decimal::from(c.excl_vat), Decimal::from);
        }
        let d = &p.dimensions;
        if let Some(e) = &d.energy {
            o.energy +=
                per_unit(&e.price).map_or(Decimal::ZERO, |x| x * Decimal::from(e.billed_volume));
        }
        if let Some(t) = &d.duration_charging {
            time_s += per_unit(&t.price).map_or(Decimal::ZERO, |x| x * seconds(t.billed_volume));
        }
        if let Some(t) = &d.duration_idle {
            parking_s += per_unit(&t.price).map_or(Decimal::ZERO, |x| x * seconds(t.billed_volume));
        }
        o.flat += per_unit(&d.flat.price).unwrap_or(Decimal::ZERO);
    }
    let hour = Decimal::from(3600);
    (o.time, o.parking_time) = (time_s / hour, parking_s / hour);
    o.excl_vat = o.energy + o.time + o.parking_time + o.flat;
    o.incl_vat = o.excl_vat * (Decimal::ONE + vat_percent / Decimal::ONE_HUNDRED);
    Ok(o)
}
