//! Fleet intelligence from planted data, sent through the routes as
//! chargers and consoles send it, with the service's clock moved by hand:
//! each anomaly rule found and not found, health arithmetic, forecasts of
//! a weekly pattern, a briefing that adds up to the day's records, the ask
//! route agreeing with the energy route, and tenants kept apart.

use chrono::{DateTime, Duration, DurationRound, Utc};
use kernel::Clock;
use kernel::model::Role;
use serde_json::{Value, json};
use system_tests::world;
use testkit::{Charger, Reply, TestEnv, call_as};

/// The catalogue's newest TP-AC22 firmware: a charger on it is current.
const LATEST: &str = "260122.1606";

struct World {
    base: world::World,
}

impl std::ops::Deref for World {
    type Target = world::World;

    fn deref(&self) -> &world::World {
        &self.base
    }
}

impl World {
    async fn new() -> Self {
        let env = TestEnv::new().await;
        // Start on the hour, so that hour buckets line up with the test's days.
        let now = env.clock.now();
        env.clock
            .advance(now.duration_trunc(Duration::hours(1)).unwrap() + Duration::hours(1) - now);
        Self {
            base: world::World::on(env),
        }
    }

    /// Queues a stop for `c` and delivers it with a heartbeat.
    async fn delivered_stop(&self, c: &Charger) -> String {
        let r = self
            .post(
                &self.token(Role::Operator).await,
                &format!("/v1/devices/{}/connectors/1/stop", c.id),
                Some(json!({})),
            )
            .await;
        assert_eq!(r.status, 202, "{:?}", r.body);
        self.heartbeat(c).await;
        r.data()["command_id"].as_str().unwrap().to_owned()
    }

    fn now(&self) -> DateTime<Utc> {
        self.env.clock.now()
    }

    fn advance(&self, by: Duration) {
        self.env.clock.advance(by);
    }

    /// An online `TP-AC22` on `firmware`.
    async fn charger(&self, sn: &str, firmware: &str) -> Charger {
        self.base.charger(sn, "TP-AC22", firmware).await
    }

    async fn sample(&self, c: &Charger, state: &str, power: f64, energy: f64) {
        let r = c
            .post(
                &self.app,
                "/v1/device/status",
                json!({"timestamp": self.at(0), "connector_id": 1, "state": state,
                "voltage": 400, "current": 30, "power": power, "energy_delivered": energy}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    async fn event(&self, c: &Charger, event: &str) {
        let r = c
            .post(
                &self.app,
                "/v1/device/events",
                json!({"timestamp": self.at(0), "event_type": event, "connector_id": 1}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    async fn site(&self, c: &Charger, name: &str, members: &[&Charger]) -> String {
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let r = c
            .post(
                &self.app,
                "/v1/device/site",
                json!({"name": name, "lat": 52.4, "lng": -1.5, "power_capacity": 200.0,
                "device_ids": ids}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.data()["site_id"].as_str().unwrap().to_owned()
    }

    async fn get(&self, token: &str, path: &str) -> Reply {
        call_as(&self.app, token, "GET", path, None).await
    }

    async fn post(&self, token: &str, path: &str, body: Option<Value>) -> Reply {
        call_as(&self.app, token, "POST", path, body).await
    }

    async fn run(&self, agent: &str) -> Reply {
        let r = self
            .post(
                &self.token(Role::Operator).await,
                &format!("/v1/intelligence/agents/{agent}/run"),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r
    }

    /// Findings of one kind for one device, from the console route.
    async fn findings(&self, c: &Charger, kind: &str) -> Vec<Value> {
        let since = kernel::input::rfc3339(self.now() - Duration::days(3));
        let r = self
            .get(
                &self.token(Role::Viewer).await,
                &format!(
                    "/v1/intelligence/anomalies?device_id={}&kind={kind}&since={since}",
                    c.id
                ),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.data()["items"].as_array().unwrap().clone()
    }
}

#[tokio::test]
async fn power_above_the_rating_is_found_at_ingest_once_per_hour() {
    let w = World::new().await;
    let c = w.charger("INT-PWR", LATEST).await;
    w.event(&c, "start").await;
    // 22 kW rated: 23 kW is within the 5 % tolerance, 23.2 is not.
    w.sample(&c, "charging", 23.0, 1.0).await;
    assert!(w.findings(&c, "power_over_rating").await.is_empty());
    w.advance(Duration::seconds(30));
    w.sample(&c, "charging", 23.2, 1.2).await;
    w.advance(Duration::seconds(30));
    w.sample(&c, "charging", 25.0, 1.4).await;
    let found = w.findings(&c, "power_over_rating").await;
    assert_eq!(found.len(), 1, "one finding for the hour: {found:?}");
    let a = &found[0];
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["connector_id"], 1);
    assert_eq!(a["observed"], 23.2, "the first sample over the limit");
    assert_eq!(a["expected"], 23.1);
}

#[tokio::test]
async fn a_falling_counter_inside_a_session_is_found_and_a_new_session_is_not() {
    let w = World::new().await;
    let c = w.charger("INT-CTR", LATEST).await;
    w.event(&c, "start").await;
    w.sample(&c, "charging", 11.0, 5.0).await;
    w.advance(Duration::seconds(30));
    // A stop, a plug-out, a plug-in and a start: the counter may start again.
    for e in ["stop", "plug_out", "plug_in", "start"] {
        w.event(&c, e).await;
    }
    w.sample(&c, "charging", 11.0, 0.5).await;
    assert!(w.findings(&c, "counter_reset").await.is_empty());
    w.advance(Duration::seconds(30));
    w.sample(&c, "charging", 11.0, 2.5).await;
    w.advance(Duration::seconds(30));
    w.sample(&c, "charging", 11.0, 0.2).await;
    let found = w.findings(&c, "counter_reset").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["observed"], 0.2);
    assert_eq!(found[0]["expected"], 2.5);
    assert_eq!(found[0]["severity"], "warning");
}

#[tokio::test]
async fn three_faults_within_an_hour_are_a_burst_that_keeps_its_id() {
    let w = World::new().await;
    let c = w.charger("INT-FLT", LATEST).await;
    // Three faults spread over 80 minutes are no burst.
    for _ in 0..3 {
        w.event(&c, "fault").await;
        w.event(&c, "fault_cleared").await;
        w.advance(Duration::minutes(40));
        w.heartbeat(&c).await;
    }
    assert!(w.findings(&c, "fault_burst").await.is_empty());
    w.advance(Duration::hours(2));
    w.heartbeat(&c).await;
    for _ in 0..4 {
        w.event(&c, "fault").await;
        w.event(&c, "fault_cleared").await;
        w.advance(Duration::minutes(10));
    }
    let found = w.findings(&c, "fault_burst").await;
    assert_eq!(
        found.len(),
        1,
        "the fourth fault is the same burst: {found:?}"
    );
    assert_eq!(found[0]["severity"], "critical");
    assert_eq!(found[0]["observed"], 4.0);
}

#[tokio::test]
async fn a_session_charging_without_energy_is_stuck_and_one_that_delivers_is_not() {
    let w = World::new().await;
    let stuck = w.charger("INT-STK", LATEST).await;
    let fine = w.charger("INT-OK", LATEST).await;
    for c in [&stuck, &fine] {
        w.event(c, "plug_in").await;
        w.event(c, "start").await;
    }
    for minute in 1..=25 {
        w.advance(Duration::minutes(1));
        w.sample(&stuck, "charging", 7.0, 0.05).await;
        w.sample(&fine, "charging", 7.0, f64::from(minute) * 0.12)
            .await;
    }
    w.run("anomaly-detector").await;
    let found = w.findings(&stuck, "stuck_session").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["connector_id"], 1);
    assert!(w.findings(&fine, "stuck_session").await.is_empty());
    // Running again finds the same session, not a second one.
    w.advance(Duration::minutes(1));
    w.sample(&stuck, "charging", 7.0, 0.05).await;
    w.run("anomaly-detector").await;
    assert_eq!(w.findings(&stuck, "stuck_session").await.len(), 1);
}

#[tokio::test]
async fn silence_over_ten_minutes_is_a_gap_and_over_an_hour_a_critical_one() {
    let w = World::new().await;
    let short = w.charger("INT-GAP5", LATEST).await;
    let long = w.charger("INT-GAP15", LATEST).await;
    let longest = w.charger("INT-GAP70", LATEST).await;
    // Silent from the start for 5, 15 and 70 minutes, then every minute.
    for minute in 1..=70 {
        w.advance(Duration::minutes(1));
        for (c, silent) in [(&short, 5), (&long, 15), (&longest, 70)] {
            if minute >= silent {
                w.heartbeat(c).await;
            }
        }
    }
    w.run("anomaly-detector").await;
    assert!(
        w.findings(&short, "heartbeat_gap").await.is_empty(),
        "5 minutes is no gap"
    );
    let warning = w.findings(&long, "heartbeat_gap").await;
    assert_eq!(warning.len(), 1, "{warning:?}");
    assert_eq!(warning[0]["severity"], "warning");
    assert_eq!(warning[0]["observed"], 15.0);
    let critical = w.findings(&longest, "heartbeat_gap").await;
    assert_eq!(critical.len(), 1, "{critical:?}");
    assert_eq!(critical[0]["severity"], "critical");
    assert_eq!(critical[0]["observed"], 70.0);
}

#[tokio::test]
async fn commands_that_keep_failing_are_found_and_mostly_completed_ones_are_not() {
    let w = World::new().await;
    let failing = w.charger("INT-CMD1", LATEST).await;
    let healthy = w.charger("INT-CMD2", LATEST).await;
    for (c, outcome) in [(&failing, "failed"), (&healthy, "completed")] {
        for _ in 0..3 {
            let id = w.delivered_stop(c).await;
            w.report(c, &id, "accepted").await;
            let r = c
                .post(
                    &w.app,
                    "/v1/device/command-status",
                    json!({"command_id": id, "status": outcome, "timestamp": w.at(0)}),
                )
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
    }
    w.run("anomaly-detector").await;
    let found = w.findings(&failing, "command_failures").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["observed"], 3.0);
    assert!(w.findings(&healthy, "command_failures").await.is_empty());
}

#[tokio::test]
async fn an_hour_far_above_its_usual_energy_is_a_site_outlier() {
    let w = World::new().await;
    let mut busy = w.charger("INT-OUT1", LATEST).await;
    let mut calm = w.charger("INT-OUT2", LATEST).await;
    w.site(&busy, "Outlier Depot", &[&busy]).await;
    w.site(&calm, "Calm Depot", &[&calm]).await;
    // Both sites charge ~1 kWh at the same hour for 8 days; then one of
    // them charges 12 kWh.
    let mut counters = [0.0, 0.0];
    w.event(&busy, "start").await;
    w.event(&calm, "start").await;
    for day in 0..=8 {
        busy.renew(&w.app).await;
        calm.renew(&w.app).await;
        w.advance(Duration::minutes(5));
        let usual = 1.0 + 0.1 * f64::from(day % 3);
        counters[0] += if day == 8 { 12.0 } else { usual };
        counters[1] += usual;
        w.sample(&busy, "charging", 7.0, counters[0]).await;
        w.sample(&calm, "charging", 7.0, counters[1]).await;
        if day < 8 {
            w.advance(Duration::hours(24) - Duration::minutes(5));
        }
    }
    w.advance(Duration::hours(1));
    w.run("anomaly-detector").await;
    let since = kernel::input::rfc3339(w.now() - Duration::hours(1));
    let r = w
        .get(
            &w.token(Role::Viewer).await,
            &format!("/v1/intelligence/anomalies?kind=consumption_outlier&since={since}"),
        )
        .await;
    let items = r.data()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["severity"], "info");
    assert_eq!(items[0]["observed"], 12.0);
    assert!(items[0]["device_id"].is_null());
    assert!(
        items[0]["explanation"]
            .as_str()
            .unwrap()
            .contains("Outlier Depot")
    );
}

#[tokio::test]
async fn a_clean_device_scores_higher_than_a_faulty_one_by_the_contracts_arithmetic() {
    let w = World::new().await;
    let clean = w.charger("INT-CLEAN", LATEST).await;
    let faulty = w.charger("INT-FAULTY", "1.0.0").await;
    for _ in 0..2 {
        w.event(&faulty, "fault").await;
        w.event(&faulty, "fault_cleared").await;
        w.advance(Duration::seconds(20));
    }
    let id = w.delivered_stop(&faulty).await;
    w.report(&faulty, &id, "rejected").await;
    // Two hours; the faulty charger is silent in the middle one.
    for minute in 1..=120 {
        w.advance(Duration::minutes(1));
        w.heartbeat(&clean).await;
        if !(30..90).contains(&minute) {
            w.heartbeat(&faulty).await;
        }
    }
    w.run("health-scorer").await;
    let r = w
        .get(
            &w.token(Role::Viewer).await,
            "/v1/intelligence/health-scores",
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let items = r.data()["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["sn"], "INT-FAULTY", "worst first");
    let by_sn = |sn: &str| items.iter().find(|i| i["sn"] == sn).unwrap().clone();
    let (c, f) = (by_sn("INT-CLEAN"), by_sn("INT-FAULTY"));
    assert_eq!(c["score"], 100);
    assert_eq!(c["grade"], "A");
    assert!(
        c["components"]["commands"]["value"].is_null(),
        "no commands: no data"
    );
    // Faulty: up about half the time (~50), 2 faults (60), 0 of 1 commands
    // (0), firmware behind (0): (u·40 + 60·25 + 0·20 + 0·15) ÷ 100.
    let comp = &f["components"];
    let uptime = comp["uptime"]["value"].as_f64().unwrap();
    assert!((uptime - 0.5).abs() < 0.02, "{comp}");
    let u = comp["uptime"]["score"].as_u64().unwrap();
    assert_eq!(u, (uptime * 100.0).round() as u64);
    assert_eq!(comp["faults"]["value"], 2.0);
    assert_eq!(comp["faults"]["score"], 60);
    assert_eq!(comp["commands"]["score"], 0);
    assert_eq!(comp["firmware"]["score"], 0);
    let expected = ((u * 40 + 60 * 25) as f64 / 100.0).round() as u64;
    assert_eq!(f["score"].as_u64().unwrap(), expected);
    assert_eq!(f["grade"], "D");
    assert_eq!(f["reasons"].as_array().unwrap().len(), 4, "{f}");
}

/// 28 days of a weekday pattern: 20 kWh in the hours from 08:00 and 09:00
/// on weekdays, 5 kWh from noon at weekends, nothing otherwise.
fn weekly_kwh(t: DateTime<Utc>) -> f64 {
    use chrono::{Datelike, Timelike};
    let weekday = t.weekday().num_days_from_monday() < 5;
    match (weekday, t.hour()) {
        (true, 8 | 9) => 20.0,
        (false, 12) => 5.0,
        _ => 0.0,
    }
}

#[tokio::test]
async fn a_weekly_pattern_is_forecast_near_its_peaks_and_near_zero_elsewhere() {
    let w = World::new().await;
    let mut c = w.charger("INT-FC", LATEST).await;
    let site = w.site(&c, "Forecast Depot", &[&c]).await;
    let early = w
        .get(
            &w.token(Role::Viewer).await,
            &format!("/v1/intelligence/forecasts/energy?site_id={site}"),
        )
        .await;
    assert_eq!(early.data()["status"], "insufficient_data");
    assert_eq!(early.data()["series"], json!([]));
    w.event(&c, "start").await;
    let mut counter = 0.0;
    for hour in 0..(28 * 24) {
        if hour % 24 == 0 {
            c.renew(&w.app).await;
        }
        let kwh = weekly_kwh(w.now());
        if kwh > 0.0 {
            counter += kwh;
            w.advance(Duration::minutes(30));
            w.sample(&c, "charging", kwh, counter).await;
            w.advance(Duration::minutes(30));
        } else {
            w.advance(Duration::hours(1));
        }
    }
    let r = w
        .get(
            &w.token(Role::Viewer).await,
            &format!("/v1/intelligence/forecasts/energy?site_id={site}&horizon_hours=168"),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let f = r.data();
    assert_eq!(f["status"], "ok", "{f}");
    assert_eq!(f["unit"], "kWh");
    assert_eq!(f["backtest"]["baseline"], "seasonal_naive_168h");
    let skill = f["backtest"]["skill"].as_f64();
    assert!(
        skill.is_none_or(|s| s >= 0.0),
        "no worse than seasonal naive: {f}"
    );
    let series = f["series"].as_array().unwrap();
    assert_eq!(series.len(), 168);
    for p in series {
        let t: DateTime<Utc> = p["timestamp"].as_str().unwrap().parse().unwrap();
        let (v, lo, hi) = (
            p["value"].as_f64().unwrap(),
            p["lower"].as_f64().unwrap(),
            p["upper"].as_f64().unwrap(),
        );
        assert!(lo <= v && v <= hi && lo >= 0.0, "{p}");
        let want = weekly_kwh(t);
        if want > 0.0 {
            assert!((v - want).abs() <= 0.25 * want, "{t}: {v} for {want}");
        } else {
            assert!(v < 1.0, "{t}: {v} where nothing is charged");
        }
    }
    let util = w
        .get(
            &w.token(Role::Viewer).await,
            &format!("/v1/intelligence/forecasts/utilization?site_id={site}"),
        )
        .await;
    assert_eq!(util.status, 200, "{:?}", util.body);
    for p in util.data()["series"].as_array().unwrap() {
        let v = p["value"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{p}");
    }
}

#[tokio::test]
async fn the_briefing_adds_up_to_the_days_charging_records() {
    let w = World::new().await;
    let mut c = w.charger("INT-BRF", LATEST).await;
    let day = w.now().date_naive();
    let start = day.and_hms_opt(0, 0, 0).unwrap().and_utc();
    // Move to the next day; records end on `day` (and one the day after).
    // From early in the day that is more than the token's 24 h.
    w.advance(start + Duration::days(1) + Duration::hours(2) - w.now());
    c.renew(&w.app).await;
    w.heartbeat(&c).await;
    let records = [
        (start + Duration::hours(9), 12.5, 4.25, "GBP"),
        (start + Duration::hours(15), 7.25, 2.5, "GBP"),
        (
            start + Duration::hours(23) + Duration::minutes(50),
            3.0,
            1.0,
            "EUR",
        ),
        (start + Duration::hours(25), 100.0, 30.0, "GBP"),
    ];
    for (end, kwh, cost, currency) in records {
        let r = c
            .post(
                &w.app,
                "/v1/device/charging-records",
                json!({"record_id": kernel::ids::RecordId::random().to_string(), "connector_id": 1,
                "start_time": kernel::input::rfc3339(end - Duration::hours(1)),
                "end_time": kernel::input::rfc3339(end), "energy": kwh, "cost": cost,
                "currency": currency}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let r = w
        .get(
            &w.token(Role::Viewer).await,
            &format!("/v1/intelligence/daily-briefing?date={day}"),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = r.data();
    let k = &b["kpis"];
    assert_eq!(k["sessions"], 3);
    assert_eq!(k["energy_kwh"], 22.75);
    assert_eq!(
        k["revenue"],
        json!([{"currency": "EUR", "amount": 1.0}, {"currency": "GBP", "amount": 6.75}])
    );
    assert_eq!(b["compared_to"]["previous_day"]["sessions_change"], 3);
    // Every number of the texts is one of the KPIs.
    let text = format!("{} {}", b["headline"], b["summary"]);
    let kpis = k.to_string();
    for n in text
        .split(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| !t.is_empty())
    {
        let n: f64 = n.parse().unwrap();
        assert!(
            kpis.split(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
                .filter_map(|t| t.trim_matches('.').parse::<f64>().ok())
                .any(|k| k == n),
            "{n} of {text:?} is in no KPI: {kpis}"
        );
    }
    let future = w
        .get(
            &w.token(Role::Viewer).await,
            &format!(
                "/v1/intelligence/daily-briefing?date={}",
                day + Duration::days(2)
            ),
        )
        .await;
    assert_eq!(future.status, 422);
}

#[tokio::test]
async fn asking_for_energy_answers_the_total_of_the_energy_route() {
    let w = World::new().await;
    let c = w.charger("INT-ASK", LATEST).await;
    let site = w.site(&c, "Harbour Car Park", &[&c]).await;
    // The session and the question fall in one UTC day ("today"),
    // whatever the hour the suite runs at.
    let now = w.env.clock.now();
    let tomorrow = now
        .date_naive()
        .succ_opt()
        .unwrap()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    if tomorrow - now < Duration::hours(2) {
        w.advance(tomorrow - now + Duration::minutes(5));
    }
    w.event(&c, "start").await;
    let mut counter = 0.0;
    for _ in 0..6 {
        counter += 1.75;
        w.advance(Duration::minutes(10));
        w.sample(&c, "charging", 10.5, counter).await;
    }
    w.advance(Duration::minutes(1));
    let r = w
        .post(
            &w.token(Role::Viewer).await,
            "/v1/intelligence/ask",
            Some(json!({"question": "How much energy did harbour charge today?"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let a = r.data();
    assert_eq!(a["intent"], "energy");
    assert_eq!(a["parameters"]["site_id"], site);
    let source = a["sources"][0].as_str().unwrap();
    let energy = w.get(&w.token(Role::Viewer).await, source).await;
    assert_eq!(energy.status, 200, "{source}: {:?}", energy.body);
    assert_eq!(
        a["data"]["charge_energy"],
        energy.data()["total"]["charge_energy"]
    );
    assert_eq!(a["data"]["charge_energy"], 10.5);
    assert!(a["answer"].as_str().unwrap().contains("10.5 kWh"), "{a}");

    let unknown = w
        .post(
            &w.token(Role::Viewer).await,
            "/v1/intelligence/ask",
            Some(json!({"question": "What is the airspeed of an unladen swallow?"})),
        )
        .await;
    assert_eq!(unknown.data()["intent"], "unknown");
    assert!(!unknown.data()["follow_ups"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_site_is_named_first_and_the_intent_judged_on_the_rest() {
    let w = World::new().await;
    let c = w.charger("INT-NAME", LATEST).await;
    let site = w.site(&c, "Forecast Road", &[&c]).await;
    let ask = |question: &'static str| {
        let w = &w;
        async move {
            let r = w
                .post(
                    &w.token(Role::Viewer).await,
                    "/v1/intelligence/ask",
                    Some(json!({ "question": question })),
                )
                .await;
            assert_eq!(r.status, 200, "{question}: {:?}", r.body);
            r.data().clone()
        }
    };
    let energy = ask("How much energy did Forecast Road deliver yesterday?").await;
    assert_eq!(energy["intent"], "energy", "{energy}");
    assert_eq!(energy["parameters"]["site_id"], site);
    let forecast = ask("What is the energy forecast for Forecast Road tomorrow?").await;
    assert_eq!(forecast["intent"], "forecast", "{forecast}");
    for off_topic in [
        "What's the weather in Paris tomorrow?",
        "How much is a flight to Lisbon?",
    ] {
        let a = ask(off_topic).await;
        assert_eq!(a["intent"], "unknown", "{off_topic}: {a}");
        assert!(
            !a["answer"].as_str().unwrap().contains("no site named"),
            "{a}"
        );
    }
}

#[tokio::test]
async fn another_tenant_gets_nothing_from_intelligence() {
    let w = World::new().await;
    let c = w.charger("INT-TEN", LATEST).await;
    w.site(&c, "Secret Depot", &[&c]).await;
    w.event(&c, "start").await;
    w.sample(&c, "charging", 30.0, 1.0).await;
    let other = w.env.operator("volt-uk").await;
    let theirs = w.env.operator_token(Role::Operator, vec![other]).await;
    let r = w
        .post(
            &theirs,
            "/v1/intelligence/ask",
            Some(json!({"question": "How much energy did Secret Depot charge today?"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let text = r.body.to_string();
    assert!(text.contains("no site named"), "{text}");
    assert!(!text.contains(&c.id), "{text}");
    for path in [
        "/v1/intelligence/anomalies".to_owned(),
        "/v1/intelligence/health-scores".to_owned(),
        format!("/v1/intelligence/health-scores?device_id={}", c.id),
    ] {
        let r = w.get(&theirs, &path).await;
        if path.contains("device_id") {
            assert_eq!(r.status, 404, "{path}: {:?}", r.body);
            continue;
        }
        let text = r.body.to_string();
        assert!(!text.contains(&c.id), "{path} leaks: {text}");
    }
    // Mine has the over-power finding.
    let mine = w
        .get(&w.token(Role::Viewer).await, "/v1/intelligence/anomalies")
        .await;
    assert!(mine.body.to_string().contains(&c.id));
}

#[tokio::test]
async fn agents_list_their_schedules_and_runs_and_only_operators_run_them() {
    let w = World::new().await;
    w.charger("INT-AG", LATEST).await;
    let r = w
        .get(&w.token(Role::Viewer).await, "/v1/intelligence/agents")
        .await;
    assert_eq!(r.status, 200);
    let items = r.data()["items"].as_array().unwrap();
    let ids: Vec<&str> = items
        .iter()
        .map(|a| a["agent_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "health-scorer",
            "anomaly-detector",
            "energy-forecaster",
            "utilization-forecaster",
            "daily-briefer"
        ]
    );
    assert!(items.iter().all(|a| a["last_run"].is_null()));
    let viewer = w
        .post(
            &w.token(Role::Viewer).await,
            "/v1/intelligence/agents/health-scorer/run",
            None,
        )
        .await;
    assert_eq!(viewer.status, 403);
    let unknown = w
        .post(
            &w.token(Role::Operator).await,
            "/v1/intelligence/agents/oracle/run",
            None,
        )
        .await;
    assert_eq!(unknown.status, 404);
    let run = w.run("health-scorer").await;
    assert_eq!(run.data()["status"], "ok");
    let r = w
        .get(&w.token(Role::Viewer).await, "/v1/intelligence/agents")
        .await;
    let scorer = &r.data()["items"][0];
    assert_eq!(scorer["last_run"]["run_id"], run.data()["run_id"]);
    assert_eq!(scorer["schedule"], "rate(15 minutes)");
    // The scheduled pass runs what is due, once per slot.
    let first = w.env.domain.intelligence.run_due_agents().await.unwrap();
    assert_eq!(first.runs, 5 - 1, "the scorer ran in this slot already");
    let again = w.env.domain.intelligence.run_due_agents().await.unwrap();
    assert_eq!(again.runs, 0);
    w.advance(Duration::minutes(15));
    let later = w.env.domain.intelligence.run_due_agents().await.unwrap();
    assert_eq!(later.runs, 2, "the two quarter-hour agents");
}

#[tokio::test]
async fn an_outage_costs_one_more_request_and_a_normal_heartbeat_none() {
    let w = World::new().await;
    let c = w.charger("INT-OUTAGE", LATEST).await;
    w.advance(Duration::seconds(30));
    w.env.counter.reset();
    w.heartbeat(&c).await;
    let normal = w.env.counter.total();
    w.advance(Duration::minutes(5));
    w.env.counter.reset();
    w.heartbeat(&c).await;
    assert_eq!(
        w.env.counter.total(),
        normal + 1,
        "the heartbeat after a gap keeps the outage with one more request"
    );
}
