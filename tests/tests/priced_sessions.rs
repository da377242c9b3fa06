//! Priced sessions (contract §14): a charger's session is priced at its
//! end by the tariff in force at its start, in its site's time zone, from
//! the readings and states its connector reported; the record carries the
//! price, and revenue adds it up once.

use chrono::{DateTime, Duration, DurationRound, Utc};
use kernel::Clock;
use kernel::model::Role;
use serde_json::{Value, json};
use system_tests::world::World;
use testkit::Charger;

struct Session<'a> {
    w: &'a World,
    c: &'a Charger,
}

impl Session<'_> {
    fn at(&self, t: DateTime<Utc>) -> String {
        kernel::input::rfc3339(t)
    }

    async fn event(&self, t: DateTime<Utc>, event: &str) {
        let r = self
            .c
            .post(
                &self.w.app,
                "/v1/device/events",
                json!({"timestamp": self.at(t), "event_type": event, "connector_id": 1}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    async fn sample(&self, t: DateTime<Utc>, state: &str, kwh: f64) {
        let r = self
            .c
            .post(
                &self.w.app,
                "/v1/device/status",
                json!({"timestamp": self.at(t), "connector_id": 1, "state": state,
                    "voltage": 400, "current": 16, "power": 6.0, "energy_delivered": kwh}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    async fn record(&self, id: &str, start: DateTime<Utc>, end: DateTime<Utc>, kwh: f64) {
        let r = self
            .c
            .post(
                &self.w.app,
                "/v1/device/charging-records",
                json!({"record_id": id, "connector_id": 1, "start_time": self.at(start),
                    "end_time": self.at(end), "energy": kwh}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    /// Charging from `start` at 6 kWh an hour for `charging` minutes, then
    /// parked (finishing) until `end`: the record uploaded at `end`.
    async fn run(&self, id: &str, start: DateTime<Utc>, charging: i64, end: DateTime<Utc>) -> f64 {
        self.event(start, "start").await;
        for m in (5..=charging).step_by(5) {
            self.sample(start + Duration::minutes(m), "charging", m as f64 * 0.1)
                .await;
        }
        let kwh = charging as f64 * 0.1;
        self.event(start + Duration::minutes(charging), "stop")
            .await;
        self.record(id, start, end, kwh).await;
        kwh
    }
}

fn local_hhmm(t: DateTime<Utc>) -> String {
    let london: pricing::Tz = "Europe/London".parse().unwrap();
    t.with_timezone(&london).format("%H:%M").to_string()
}

/// A site tariff whose dearer energy applies from 29 to 89 minutes after
/// `start` (London time), with time, parking and a flat fee otherwise.
fn tariff(site: &str, start: DateTime<Utc>, peak: f64) -> Value {
    json!({"name": "Harbour", "currency": "GBP", "vat_percent": 20, "site_id": site,
    "elements": [
        {"price_components": [{"type": "ENERGY", "price": peak}],
         "restrictions": {"start_time": local_hhmm(start + Duration::minutes(29)),
            "end_time": local_hhmm(start + Duration::minutes(89))}},
        {"price_components": [{"type": "ENERGY", "price": 0.2}, {"type": "TIME", "price": 1.2},
            {"type": "PARKING_TIME", "price": 6, "step_size": 60}, {"type": "FLAT", "price": 1}]}
    ]})
}

async fn site_of(w: &World, c: &Charger, operator: &str) -> String {
    let site = testkit::call(
        &w.app,
        "POST",
        "/v1/device/site",
        &[],
        Some(
            json!({"name": "Harbour", "lat": 51.5, "lng": -2.6, "power_capacity": 50,
            "device_ids": [c.id]}),
        ),
    )
    .await;
    assert_eq!(site.status, 200, "{:?}", site.body);
    let id = site.data()["site_id"].as_str().unwrap().to_owned();
    let patched = w
        .call(
            operator,
            "PATCH",
            &format!("/v1/sites/{id}"),
            Some(json!({"time_zone": "Europe/London", "city": "Bristol"})),
        )
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    id
}

#[tokio::test]
async fn a_session_is_priced_by_its_sites_tariff_and_revenue_counts_it_once() {
    let w = World::new().await;
    let operator = w.token(Role::Operator).await;
    let c = w.charger("PRICED-1", "TP-AC22", "1.6.0").await;
    let site = site_of(&w, &c, &operator).await;
    let now = w.env.clock.now();
    // A session in the past, written after it: a tariff's first version
    // prices whatever started within its validity.
    let start = (now - Duration::minutes(70))
        .duration_trunc(Duration::minutes(1))
        .unwrap();
    let t = w
        .call(
            &operator,
            "POST",
            "/v1/tariffs",
            Some(tariff(&site, start, 0.4)),
        )
        .await;
    assert_eq!(t.status, 201, "{:?}", t.body);
    let s = Session { w: &w, c: &c };
    // 45 minutes charging (4.5 kWh) then 15 parked.
    let record_id = kernel::ids::RecordId::random().to_string();
    let end = start + Duration::minutes(60);
    let kwh = s.run(&record_id, start, 45, end).await;
    let r = w
        .call(
            &operator,
            "GET",
            &format!("/v1/charging-records/{record_id}"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let price = &r.data()["price"];
    // The peak window opens 29 minutes in: 2.9 kWh at 0.20, 1.6 at 0.40.
    assert_eq!(price["energy"], 1.22, "{price}");
    // Time: 45 minutes charging at 1.20 an hour, whichever element; the
    // peak element has no TIME, so the next one prices it.
    assert_eq!(price["time"], 0.9, "{price}");
    assert_eq!(price["parking_time"], 1.5, "{price}");
    assert_eq!(price["flat"], 1.0, "{price}");
    assert_eq!(price["excl_vat"], 4.62, "{price}");
    assert_eq!(price["incl_vat"], 5.54, "{price}");
    assert_eq!(price["currency"], "GBP");
    assert_eq!(price["tariff_id"], t.data()["tariff_id"]);
    assert_eq!(r.data()["parking_time_s"], 900);
    assert_eq!(r.data()["cost"], 5.54, "the charger reported none");
    assert_eq!(r.data()["currency"], "GBP");

    // The same upload again adds nothing.
    s.record(&record_id, start, end, kwh).await;
    let revenue = w
        .call(
            &operator,
            "GET",
            &format!("/v1/aggregated/revenue?site_id={site}"),
            None,
        )
        .await;
    assert_eq!(revenue.status, 200, "{:?}", revenue.body);
    assert_eq!(
        revenue.data()["total"],
        json!([{"currency": "GBP", "sessions": 1, "energy": 4.5, "excl_vat": 4.62, "incl_vat": 5.54}])
    );
    let series = revenue.data()["series"].as_array().unwrap();
    assert_eq!(series.len(), 1, "days without sessions are left out");
    assert_eq!(
        series[0]["timestamp"],
        kernel::input::rfc3339(end.duration_trunc(Duration::days(1)).unwrap())
    );
    let fleet = w
        .call(
            &operator,
            "GET",
            "/v1/aggregated/revenue?granularity=month",
            None,
        )
        .await;
    assert_eq!(fleet.data()["total"][0]["sessions"], 1);
    assert_eq!(
        w.call(
            &operator,
            "GET",
            "/v1/aggregated/revenue?granularity=hour",
            None
        )
        .await
        .status,
        422
    );
}

#[tokio::test]
async fn a_session_keeps_the_tariff_it_started_under_and_without_one_has_no_price() {
    let w = World::new().await;
    let operator = w.token(Role::Operator).await;
    let c = w.charger("PRICED-2", "TP-AC22", "1.6.0").await;
    let site = site_of(&w, &c, &operator).await;
    let s = Session { w: &w, c: &c };
    let now = w.env.clock.now();
    let unpriced = kernel::ids::RecordId::random().to_string();
    s.run(
        &unpriced,
        now - Duration::minutes(30),
        10,
        now - Duration::minutes(10),
    )
    .await;
    let r = w
        .call(
            &operator,
            "GET",
            &format!("/v1/charging-records/{unpriced}"),
            None,
        )
        .await;
    assert!(r.data()["price"].is_null(), "{:?}", r.body);
    assert!(r.data()["cost"].is_null());
    assert_eq!(
        r.data()["parking_time_s"],
        600,
        "parking is kept unpriced too"
    );

    // A flat-fee tariff, then a session that starts under it and ends
    // after the tariff was replaced by a dearer one.
    let flat = |fee: f64| {
        json!({"name": "Flat", "currency": "EUR", "site_id": site,
            "elements": [{"price_components": [{"type": "FLAT", "price": fee}]}]})
    };
    let t = w
        .call(&operator, "POST", "/v1/tariffs", Some(flat(2.0)))
        .await;
    let id = t.data()["tariff_id"].as_str().unwrap().to_owned();
    w.env.clock.advance(Duration::minutes(1));
    let start = w.env.clock.now();
    s.event(start, "start").await;
    w.env.clock.advance(Duration::minutes(1));
    let put = w
        .call(
            &operator,
            "PUT",
            &format!("/v1/tariffs/{id}"),
            Some(flat(5.0)),
        )
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    w.env.clock.advance(Duration::minutes(10));
    let end = w.env.clock.now();
    let before_put = kernel::ids::RecordId::random().to_string();
    s.sample(end - Duration::minutes(1), "charging", 1.0).await;
    s.record(&before_put, start, end, 1.0).await;
    let r = w
        .call(
            &operator,
            "GET",
            &format!("/v1/charging-records/{before_put}"),
            None,
        )
        .await;
    assert_eq!(r.data()["price"]["flat"], 2.0, "{:?}", r.body);
    assert_eq!(r.data()["price"]["currency"], "EUR");

    let after_put = kernel::ids::RecordId::random().to_string();
    let later = w.env.clock.now();
    s.event(later, "start").await;
    w.env.clock.advance(Duration::minutes(5));
    s.record(&after_put, later, w.env.clock.now(), 0.5).await;
    let r = w
        .call(
            &operator,
            "GET",
            &format!("/v1/charging-records/{after_put}"),
            None,
        )
        .await;
    assert_eq!(r.data()["price"]["flat"], 5.0, "{:?}", r.body);
    assert_eq!(r.data()["price"]["incl_vat"], 5.0);
}

#[tokio::test]
async fn a_site_change_names_each_bad_field_and_changes_nothing() {
    let w = World::new().await;
    let operator = w.token(Role::Operator).await;
    let viewer = w.token(Role::Viewer).await;
    let c = w.charger("PRICED-3", "TP-AC22", "1.6.0").await;
    let site = site_of(&w, &c, &operator).await;
    let path = format!("/v1/sites/{site}");
    let bad = w
        .call(
            &operator,
            "PATCH",
            &path,
            Some(
                json!({"time_zone": "Mars/Olympus", "country": "gb", "power_capacity": -1,
                "name": "Renamed"}),
            ),
        )
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    let fields: Vec<&str> = bad.data()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"country") && fields.contains(&"power_capacity"),
        "{fields:?}"
    );
    let unknown_zone = w
        .call(
            &operator,
            "PATCH",
            &path,
            Some(json!({"time_zone": "Mars/Olympus"})),
        )
        .await;
    assert_eq!(unknown_zone.status, 422);
    assert_eq!(unknown_zone.data()["errors"][0]["field"], "time_zone");
    let unknown_country = w
        .call(&operator, "PATCH", &path, Some(json!({"country": "XYZ"})))
        .await;
    assert_eq!(unknown_country.data()["errors"][0]["field"], "country");
    let read = w.call(&viewer, "GET", &path, None).await;
    assert_eq!(read.data()["name"], "Harbour", "nothing changed");
    assert_eq!(read.data()["time_zone"], "Europe/London");
    assert_eq!(read.data()["city"], "Bristol");
    assert_eq!(
        w.call(&viewer, "PATCH", &path, Some(json!({"city": "Bath"})))
            .await
            .status,
        403
    );
    let theirs = w.env.operator("other-sites").await;
    let other = w.env.operator_token(Role::Operator, vec![theirs]).await;
    assert_eq!(
        w.call(&other, "PATCH", &path, Some(json!({"city": "Bath"})))
            .await
            .status,
        404
    );
    let ok = w
        .call(
            &operator,
            "PATCH",
            &path,
            Some(json!({"country": "IRL", "time_zone": "Europe/Dublin"})),
        )
        .await;
    assert_eq!(ok.data()["country"], "IRL");
    assert_eq!(ok.data()["time_zone"], "Europe/Dublin");
    assert_eq!(ok.data()["name"], "Harbour");
}
