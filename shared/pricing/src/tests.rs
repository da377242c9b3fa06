use super::*;
use chrono::{DateTime, Duration, NaiveTime, Utc, Weekday};
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn component(dimension: Dimension, price: &str, step_size: u32) -> PriceComponent {
    PriceComponent {
        dimension,
        price: d(price),
        step_size,
    }
}

fn element(components: Vec<PriceComponent>, restrictions: Option<Restrictions>) -> Element {
    Element {
        price_components: components,
        restrictions,
    }
}

fn tariff(vat: &str, elements: Vec<Element>) -> TariffContent {
    TariffContent {
        currency: "GBP".into(),
        vat_percent: d(vat),
        elements,
    }
}

/// A session charging evenly from `start` for `hours`, delivering `kwh`.
fn even(start: &str, hours: i64, kwh: &str) -> Session {
    let start = at(start);
    let end = start + Duration::hours(hours);
    Session {
        start,
        end,
        energy: vec![(end, d(kwh) * Decimal::from(1000))],
        activity: vec![],
    }
}

#[test]
fn energy_is_priced_per_kwh_and_vat_is_added_once_at_the_end() {
    let t = tariff(
        "20",
        vec![element(vec![component(Dimension::Energy, "0.30", 1)], None)],
    );
    let p = price(&t, Tz::UTC, &even("2026-03-02T10:00:00Z", 1, "10"));
    assert_eq!((p.excl_vat, p.incl_vat), (d("3.00"), d("3.60")));
    assert_eq!(p.energy, d("3"));
}

#[test]
fn a_step_size_rounds_the_dimensions_total_up() {
    let t = tariff(
        "0",
        vec![element(
            vec![component(Dimension::Energy, "0.30", 1000)],
            None,
        )],
    );
    let p = price(&t, Tz::UTC, &even("2026-03-02T10:00:00Z", 1, "10.2"));
    assert_eq!(p.excl_vat, d("3.30"), "11 kWh billed");
}

#[test]
fn the_first_tier_ends_at_max_kwh_and_the_next_element_prices_the_rest() {
    let first = Restrictions {
        max_kwh: Some(d("5")),
        ..Restrictions::default()
    };
    let t = tariff(
        "0",
        vec![
            element(vec![component(Dimension::Energy, "0.40", 1)], Some(first)),
            element(vec![component(Dimension::Energy, "0.30", 1)], None),
        ],
    );
    let p = price(&t, Tz::UTC, &even("2026-03-02T10:00:00Z", 2, "10"));
    assert_eq!(p.excl_vat, d("3.50"));
}

#[test]
fn parking_is_priced_while_connected_but_not_charging() {
    let t = tariff(
        "0",
        vec![element(
            vec![
                component(Dimension::Energy, "0.25", 1),
                component(Dimension::ParkingTime, "6.00", 60),
                component(Dimension::Flat, "1.00", 1),
            ],
            None,
        )],
    );
    let mut s = even("2026-03-02T10:00:00Z", 2, "8");
    // Charging an hour (all the energy), then parked for an hour.
    s.energy = vec![(at("2026-03-02T11:00:00Z"), d("8000"))];
    s.activity = vec![(at("2026-03-02T11:00:00Z"), Activity::Parking)];
    let p = price(&t, Tz::UTC, &s);
    assert_eq!(p.parking_time_s, 3600);
    assert_eq!(s.parking_seconds(), 3600, "the same without a tariff");
    assert_eq!(
        p.excl_vat,
        d("9.00"),
        "2.00 energy + 6.00 parking + 1.00 flat"
    );
}

#[test]
fn a_night_window_across_midnight_is_read_in_the_sites_time_zone() {
    // 22:00–06:00 London time is cheaper; the session runs 20:00–24:00
    // UTC on a summer day, 21:00–01:00 in London (UTC+1).
    let night = Restrictions {
        start_time: NaiveTime::from_hms_opt(22, 0, 0),
        end_time: NaiveTime::from_hms_opt(6, 0, 0),
        ..Restrictions::default()
    };
    let t = tariff(
        "0",
        vec![
            element(vec![component(Dimension::Energy, "0.10", 1)], Some(night)),
            element(vec![component(Dimension::Energy, "0.40", 1)], None),
        ],
    );
    let p = price(
        &t,
        Tz::Europe__London,
        &even("2026-07-01T20:00:00Z", 4, "40"),
    );
    // 1 hour at 0.40, 3 hours at 0.10, 10 kWh each.
    assert_eq!(p.excl_vat, d("7.00"));
    let utc = price(&t, Tz::UTC, &even("2026-07-01T20:00:00Z", 4, "40"));
    assert_eq!(utc.excl_vat, d("10.00"), "2 h at each price in UTC");
}

#[test]
fn days_of_the_week_and_time_per_hour_of_charging() {
    let weekend = Restrictions {
        day_of_week: vec![Weekday::Sat, Weekday::Sun],
        ..Restrictions::default()
    };
    let t = tariff(
        "0",
        vec![
            element(vec![component(Dimension::Time, "1.00", 1)], Some(weekend)),
            element(vec![component(Dimension::Time, "2.00", 1)], None),
        ],
    );
    // Friday 22:00 to Saturday 02:00 UTC: 2 h weekday, 2 h weekend.
    let p = price(&t, Tz::UTC, &even("2026-03-06T22:00:00Z", 4, "1"));
    assert_eq!(p.excl_vat, d("6.00"));
}

#[test]
fn a_skipped_hour_of_a_clock_change_cuts_where_the_clock_lands() {
    // London springs forward at 01:00 UTC on 29 March 2026: local 01:30
    // never happens, so a window from 01:30 starts at 02:00 local.
    let late = Restrictions {
        start_time: NaiveTime::from_hms_opt(1, 30, 0),
        end_time: NaiveTime::from_hms_opt(5, 0, 0),
        ..Restrictions::default()
    };
    let t = tariff(
        "0",
        vec![
            element(vec![component(Dimension::Time, "1.00", 1)], Some(late)),
            element(vec![component(Dimension::Time, "0", 1)], None),
        ],
    );
    let p = price(
        &t,
        Tz::Europe__London,
        &even("2026-03-29T00:00:00Z", 2, "1"),
    );
    // 00:00–01:00 UTC is 00:00–01:00 GMT (free), 01:00–02:00 UTC is
    // 02:00–03:00 BST (in the window).
    assert_eq!(p.excl_vat, d("1.00"));
}
