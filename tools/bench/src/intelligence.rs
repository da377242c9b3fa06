//! What intelligence costs: DynamoDB requests per charger message with and
//! without findings, the health-scorer's and anomaly-detector's run time
//! and requests for one operator's fleet after a day of telemetry, and the
//! latency of a forecast over 28 days of hours. The fleet is planted
//! through the routes in process, with the service's clock moved by hand.

use crate::percentile;
use chrono::{Duration, DurationRound};
use kernel::Clock;
use kernel::model::Role;
use kernel::settings::RequestLogMode;
use serde_json::{Value, json};
use std::time::Instant;
use testkit::{Charger, TestEnv, authenticate, call_as};

/// Devices per site (a site joins in one transaction).
const PER_SITE: usize = 25;

fn at(env: &TestEnv, offset: Duration) -> String {
    kernel::input::rfc3339(env.clock.now() + offset)
}

async fn post(app: &axum::Router, c: &Charger, path: &str, body: Value) {
    let r = c.post(app, path, body).await;
    assert!(r.status.is_success(), "{path}: {:?}", r.body);
}

/// Requests one message costs, the request log off.
async fn requests_of(
    env: &TestEnv,
    app: &axum::Router,
    c: &Charger,
    path: &str,
    body: Value,
) -> u64 {
    env.counter.reset();
    post(app, c, path, body).await;
    env.counter.total()
}

pub async fn run(devices: usize, forecasts: usize) -> Result<(), String> {
    let env = TestEnv::with_settings(|s| {
        s.request_log = RequestLogMode::Off;
        s.registration_limit.attempts = u32::MAX;
    })
    .await;
    let start = env.clock.now();
    env.clock.advance(
        start
            .duration_trunc(Duration::hours(1))
            .map_err(|e| e.to_string())?
            + Duration::hours(1)
            - start,
    );
    let app = local_server::app(&env.domain, Default::default(), "bench");
    let acme = env.domain.settings.default_operator.clone();
    let operator = env.operator_token(Role::Operator, vec![acme.clone()]).await;

    println!("intelligence: {devices} devices of one operator, sites of {PER_SITE}");
    let mut fleet = Vec::with_capacity(devices);
    for i in 0..devices {
        fleet.push(Charger::of_model(&app, &format!("BENCH-{i:05}"), "TP-AC22", "1.5.0").await);
    }
    for group in fleet.chunks(PER_SITE) {
        let ids: Vec<&str> = group.iter().map(|c| c.id.as_str()).collect();
        post(
            &app,
            &group[0],
            "/v1/device/site",
            json!({"name": format!("Bench {}", group[0].sn),
            "lat": 52.0, "lng": -1.5, "power_capacity": 500.0, "device_ids": ids}),
        )
        .await;
    }

    // Messages without findings, then with one each.
    let c = &fleet[0];
    let heartbeat = json!({"timestamp": at(&env, Duration::zero()), "status": "online"});
    let hb = requests_of(&env, &app, c, "/v1/device/heartbeat", heartbeat).await;
    post(
        &app,
        c,
        "/v1/device/events",
        json!({"timestamp": at(&env, Duration::zero()), "event_type": "plug_in", "connector_id": 1}),
    )
    .await;
    // Within the minute the partner list is cached, as most events are.
    let event = requests_of(
        &env,
        &app,
        c,
        "/v1/device/events",
        json!({"timestamp": at(&env, Duration::seconds(1)), "event_type": "start", "connector_id": 1}),
    )
    .await;
    let fault = requests_of(
        &env,
        &app,
        c,
        "/v1/device/events",
        json!({"timestamp": at(&env, Duration::seconds(2)), "event_type": "fault", "connector_id": 1}),
    )
    .await;
    post(
        &app,
        c,
        "/v1/device/events",
        json!({"timestamp": at(&env, Duration::seconds(3)), "event_type": "start", "connector_id": 1}),
    )
    .await;
    let sample = |kw: f64, kwh: f64| {
        json!({"timestamp": at(&env, Duration::zero()), "connector_id": 1, "state": "charging",
        "voltage": 400, "current": 30, "power": kw, "energy_delivered": kwh})
    };
    env.clock.advance(Duration::seconds(30));
    let plain = requests_of(&env, &app, c, "/v1/device/status", sample(11.0, 1.0)).await;
    env.clock.advance(Duration::seconds(30));
    let over = requests_of(&env, &app, c, "/v1/device/status", sample(30.0, 1.2)).await;
    env.clock.advance(Duration::seconds(30));

    env.clock.advance(Duration::minutes(5));
    let after_gap = requests_of(
        &env,
        &app,
        c,
        "/v1/device/heartbeat",
        json!({"timestamp": at(&env, Duration::zero()), "status": "online"}),
    )
    .await;
    println!(
        "  DynamoDB requests: heartbeat {hb}, after a 5-minute gap {after_gap} (the outage); status sample {plain}, over the rating {over} (the finding); event {event}, fault event {fault}"
    );

    // A day in half hours (seen every half hour, every device is down most
    // of the time: the worst case, a finding per device, outages by the
    // thousand). Every device heartbeats each half hour and has
    // a 4-hour session (a sample each half hour); a tenth of them a fault
    // burst, a tenth a silent half hour, and every fifth a stop command.
    for step in 0..48usize {
        env.clock.advance(Duration::minutes(30));
        for (i, c) in fleet.iter_mut().enumerate() {
            if step % 24 == 0 {
                let auth = authenticate(&app, &c.id, &c.secret).await;
                c.token = auth.body["access_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
            }
            // Devices spread over the half hour, none ahead of the clock.
            let now = |d: i64| at(&env, Duration::seconds(d - (i % 60) as i64 * 25));
            let first = i % 40;
            if step == first {
                post(
                    &app,
                    c,
                    "/v1/device/events",
                    json!({"timestamp": now(0), "event_type": "plug_in", "connector_id": 1}),
                )
                .await;
                post(
                    &app,
                    c,
                    "/v1/device/events",
                    json!({"timestamp": now(1), "event_type": "start", "connector_id": 1}),
                )
                .await;
            }
            if (first..first + 8).contains(&step) {
                let kwh = (step - first + 1) as f64 * 5.5;
                post(
                    &app,
                    c,
                    "/v1/device/status",
                    json!({"timestamp": now(2),
                    "connector_id": 1, "state": "charging", "voltage": 400, "current": 32,
                    "power": 11.0, "energy_delivered": kwh}),
                )
                .await;
            }
            if step == first + 8 {
                post(
                    &app,
                    c,
                    "/v1/device/events",
                    json!({"timestamp": now(2), "event_type": "stop", "connector_id": 1}),
                )
                .await;
            }
            if i % 10 == 3 && step == 44 {
                for s in 0..3 {
                    post(
                        &app,
                        c,
                        "/v1/device/events",
                        json!({"timestamp": now(3 + s), "event_type": "fault", "connector_id": 2}),
                    )
                    .await;
                }
            }
            if !(i % 10 == 7 && step == 24) {
                post(
                    &app,
                    c,
                    "/v1/device/heartbeat",
                    json!({"timestamp": now(6), "status": "online"}),
                )
                .await;
            }
            if i % 5 == 1 && step == 46 {
                let r = call_as(
                    &app,
                    &operator,
                    "POST",
                    &format!("/v1/devices/{}/connectors/2/stop", c.id),
                    Some(json!({})),
                )
                .await;
                assert!(r.status.is_success(), "{:?}", r.body);
            }
        }
    }
    for c in &fleet {
        post(
            &app,
            c,
            "/v1/device/heartbeat",
            json!({"timestamp": at(&env, Duration::zero()), "status": "online"}),
        )
        .await;
    }

    // Console sessions last a day: a fresh one.
    let operator = env.operator_token(Role::Operator, vec![acme.clone()]).await;
    for agent in ["health-scorer", "anomaly-detector", "anomaly-detector"] {
        env.counter.reset();
        let started = Instant::now();
        let r = call_as(
            &app,
            &operator,
            "POST",
            &format!("/v1/intelligence/agents/{agent}/run"),
            None,
        )
        .await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if !r.status.is_success() {
            return Err(format!("{agent}: {:?}", r.body));
        }
        let by_op: Vec<String> = env
            .counter
            .snapshot()
            .into_iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect();
        println!(
            "  {agent} run: {ms:.0} ms, {} DynamoDB requests ({}), {} findings",
            env.counter.total(),
            by_op.join(", "),
            r.data()["findings"]
        );
    }

    // 28 days of hours at one site, then forecasts of it.
    let mut c = fleet[0].clone();
    let r = call_as(
        &app,
        &operator,
        "GET",
        &format!("/v1/devices/{}", c.id),
        None,
    )
    .await;
    let site_id = r.data()["site_id"].as_str().unwrap_or_default().to_owned();
    post(
        &app,
        &c,
        "/v1/device/events",
        json!({"timestamp": at(&env, Duration::zero()), "event_type": "start", "connector_id": 1}),
    )
    .await;
    let mut counter = 0.0;
    for hour in 0..(28 * 24) {
        if hour % 12 == 0 {
            let auth = authenticate(&app, &c.id, &c.secret).await;
            c.token = auth.body["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
        }
        counter += if (8..18).contains(&(hour % 24)) {
            11.0
        } else {
            0.5
        };
        env.clock.advance(Duration::hours(1));
        post(&app, &c, "/v1/device/status", json!({"timestamp": at(&env, Duration::zero()), "connector_id": 1,
            "state": "charging", "voltage": 400, "current": 32, "power": 11.0, "energy_delivered": counter})).await;
    }
    let operator = env.operator_token(Role::Operator, vec![acme]).await;
    let mut times = Vec::with_capacity(forecasts);
    let mut requests = 0;
    for _ in 0..forecasts {
        env.counter.reset();
        let started = Instant::now();
        let r = call_as(
            &app,
            &operator,
            "GET",
            &format!("/v1/intelligence/forecasts/energy?site_id={site_id}&horizon_hours=24"),
            None,
        )
        .await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        requests = env.counter.total();
        if r.data()["status"] != "ok" {
            return Err(format!("forecast: {:?}", r.body));
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "  energy forecast (28 days of hours, 24 h ahead): p50 {:.1} ms, p95 {:.1} ms, {requests} DynamoDB requests",
        percentile(&times, 0.5),
        percentile(&times, 0.95)
    );
    Ok(())
}
