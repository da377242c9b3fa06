//! Heartbeats, telemetry, events, firmware progress and charge records:
//! what chargers report, including their retries, duplicates and
//! out-of-order messages.

mod common;

use chrono::Duration;
use common::*;
use domain::storage::ports::*;
use domain::telemetry::energy::hour_of;
use domain::telemetry::{EnergyHour, EnergyScope};
use kernel::Clock;
use kernel::ids::ConnectorId;
use kernel::model::{CommandKind, ConnectorState};

fn connector(n: u32) -> ConnectorId {
    ConnectorId::new(n).unwrap()
}
use serde_json::json;
use testkit::TestEnv;

fn ts(env: &TestEnv, offset_s: i64) -> String {
    kernel::input::rfc3339(env.clock.now() + Duration::seconds(offset_s))
}

async fn device(env: &TestEnv, c: &Charger) -> kernel::model::Device {
    env.store.get_device(c.device_id()).await.unwrap().unwrap()
}

/// The energy of the last two hours as one bucket (samples a few seconds
/// old may fall in the previous hour).
async fn hour_bucket(env: &TestEnv, scope: EnergyScope) -> Option<EnergyHour> {
    let op = env.domain.settings.default_operator.clone();
    let now = env.clock.now();
    let from = hour_of(now - Duration::hours(2));
    let buckets = env
        .store
        .energy_hours(&op, scope, from, hour_of(now))
        .await
        .unwrap();
    buckets.into_iter().reduce(|a, b| EnergyHour {
        hour: b.hour,
        charge_energy: a.charge_energy + b.charge_energy,
        discharge_energy: a.discharge_energy + b.discharge_energy,
        max_power: match (a.max_power, b.max_power) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        },
    })
}

#[tokio::test]
async fn a_heartbeat_marks_the_device_seen_in_one_request() {
    let env = TestEnv::with_settings(no_request_log).await;
    let app = app(&env);
    let c = charger(&app, "HB-1").await;
    env.counter.reset();
    let reply = c
        .post(
            &app,
            "/v1/device/heartbeat",
            json!({"timestamp": ts(&env, 0), "status": "online"}),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.data()["commands"], json!([]));
    assert_eq!(env.counter.total(), 1, "{:?}", env.counter.snapshot());
    assert_eq!(device(&env, &c).await.last_seen, Some(env.clock.now()));
}

#[tokio::test]
async fn the_shared_request_log_costs_one_write_per_request() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "HB-LOG").await;
    env.counter.reset();
    c.post(
        &app,
        "/v1/device/heartbeat",
        json!({"timestamp": ts(&env, 0), "status": "online"}),
    )
    .await;
    let ops = env.counter.snapshot();
    assert_eq!(ops.get("UpdateItem"), Some(&1));
    assert_eq!(ops.get("PutItem"), Some(&1), "{ops:?}");
    assert_eq!(env.counter.total(), 2);
}

#[tokio::test]
async fn a_heartbeat_hands_over_pending_commands_once_and_marks_them_delivered() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "HB-2").await;
    let cmd = env
        .queue(c.device_id(), Some(1), CommandKind::StopCharging)
        .await;
    let hb = || json!({"timestamp": ts(&env, 0), "status": "online"});
    let first = c.post(&app, "/v1/device/heartbeat", hb()).await;
    let commands = first.data()["commands"].as_array().unwrap();
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0]["command_id"], cmd.command_id.to_string());
    assert_eq!(commands[0]["command"], "stop_charging");
    assert_eq!(commands[0]["status"], "delivered");
    let stored = env
        .store
        .get_command(cmd.command_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status.as_str(), "delivered");
    let second = c.post(&app, "/v1/device/heartbeat", hb()).await;
    assert_eq!(
        second.data()["commands"],
        json!([]),
        "not delivered twice within 60 s"
    );
    env.clock.advance(Duration::seconds(61));
    let third = c.post(&app, "/v1/device/heartbeat", hb()).await;
    assert_eq!(
        third.data()["commands"].as_array().unwrap().len(),
        1,
        "redelivered"
    );
}

#[tokio::test]
async fn live_state_moves_only_forward_but_older_samples_are_kept() {
    let env = TestEnv::with_settings(|s| s.keep_samples = true).await;
    let app = app(&env);
    let c = charger(&app, "ST-1").await;
    let newer = c
        .post(
            &app,
            "/v1/device/status",
            sample(&ts(&env, 0), 1, "charging", 50.0, 2.0),
        )
        .await;
    assert_eq!(newer.status, 200, "{:?}", newer.body);
    let older = c
        .post(
            &app,
            "/v1/device/status",
            sample(&ts(&env, -30), 1, "idle", 0.0, 1.0),
        )
        .await;
    assert_eq!(older.status, 200);
    let d = device(&env, &c).await;
    assert_eq!(d.connectors[&connector(1)].state, ConnectorState::Charging);
    assert_eq!(d.connectors[&connector(1)].energy_delivered, 2.0);
    assert_eq!(
        env.items_with_pk_prefix("SMP#").await,
        2,
        "both samples stored"
    );
    let sample_item = env
        .all_items()
        .await
        .into_iter()
        .find(|i| i["PK"].as_s().unwrap().starts_with("SMP#"))
        .unwrap();
    let ttl: i64 = sample_item["ttl"].as_n().unwrap().parse().unwrap();
    let expected = (env.clock.now() + Duration::days(35)).timestamp();
    assert!((ttl - expected).abs() <= 31, "samples expire after 35 days");
}

#[tokio::test]
async fn raw_samples_are_not_kept_unless_asked_for() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "ST-0").await;
    let r = c
        .post(
            &app,
            "/v1/device/status",
            sample(&ts(&env, 0), 1, "charging", 11.0, 2.0),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(env.items_with_pk_prefix("SMP#").await, 0);
    let d = device(&env, &c).await;
    assert_eq!(d.connectors[&connector(1)].energy_delivered, 2.0);
}

#[tokio::test]
async fn energy_is_the_rise_of_the_session_counter_and_never_counted_twice() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "ST-2").await;
    // 1.0 first, +0.5, a duplicate, an out-of-order one, then a new session at 0.3.
    for (offset, energy) in [(-40, 1.0), (-30, 1.5), (-30, 1.5), (-35, 1.2), (-20, 0.3)] {
        let r = c
            .post(
                &app,
                "/v1/device/status",
                sample(&ts(&env, offset), 1, "charging", 40.0, energy),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let bucket = hour_bucket(&env, EnergyScope::Device(c.device_id()))
        .await
        .unwrap();
    assert!((bucket.charge_energy - 1.8).abs() < 1e-9, "{bucket:?}");
    assert_eq!(bucket.discharge_energy, 0.0);
    assert_eq!(bucket.max_power, Some(40.0));
}

#[tokio::test]
async fn discharging_energy_is_counted_as_discharge_and_sites_get_their_share() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "ST-3").await;
    let site = c
        .post(
            &app,
            "/v1/device/site",
            json!({"name": "Depot", "lat": 52.0, "lng": -1.0,
            "power_capacity": 100, "device_ids": [c.id]}),
        )
        .await;
    let site_id = kernel::ids::SiteId::parse(site.data()["site_id"].as_str().unwrap()).unwrap();
    c.post(
        &app,
        "/v1/device/status",
        sample(&ts(&env, -20), 1, "discharging", 10.0, 0.0),
    )
    .await;
    c.post(
        &app,
        "/v1/device/status",
        sample(&ts(&env, -10), 1, "discharging", 12.0, 0.75),
    )
    .await;
    for scope in [
        EnergyScope::Device(c.device_id()),
        EnergyScope::Site(site_id),
    ] {
        let b = hour_bucket(&env, scope).await.unwrap();
        assert_eq!(b.charge_energy, 0.0, "{scope:?}");
        assert!((b.discharge_energy - 0.75).abs() < 1e-9, "{scope:?}");
        assert_eq!(b.max_power, Some(12.0), "{scope:?}");
    }
}

#[tokio::test]
async fn samples_from_the_future_are_refused_and_change_nothing() {
    let env = TestEnv::with_settings(no_request_log).await;
    let app = app(&env);
    let c = charger(&app, "ST-4").await;
    let before = env.all_items().await.len();
    let r = c
        .post(
            &app,
            "/v1/device/status",
            sample(&ts(&env, 11 * 60), 1, "charging", 40.0, 1.0),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (422, 42200));
    assert_eq!(r.data()["errors"][0]["field"], "timestamp");
    assert_eq!(env.all_items().await.len(), before);
}

#[tokio::test]
async fn the_telemetry_alias_records_samples_too() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "ST-5").await;
    let r = c
        .post(
            &app,
            "/v1/device/telemetry",
            sample(&ts(&env, 0), 2, "idle", 0.0, 0.0),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        device(&env, &c).await.connectors[&connector(2)].state,
        ConnectorState::Idle
    );
}

#[tokio::test]
async fn lifecycle_events_move_the_connector_through_a_session() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "EV-1").await;
    let steps = [
        ("plug_in", ConnectorState::Preparing),
        ("start", ConnectorState::Charging),
        ("stop", ConnectorState::Finishing),
        ("plug_out", ConnectorState::Idle),
        ("fault", ConnectorState::Fault),
        ("fault_cleared", ConnectorState::Idle),
    ];
    for (i, (event, state)) in steps.into_iter().enumerate() {
        let body = json!({"timestamp": ts(&env, i as i64 - 10), "event_type": event, "connector_id": 1, "data": {}});
        let r = c.post(&app, "/v1/device/events", body).await;
        assert_eq!(r.status, 200, "{event}: {:?}", r.body);
        assert_eq!(
            device(&env, &c).await.connectors[&connector(1)].state,
            state,
            "after {event}"
        );
    }
}

#[tokio::test]
async fn an_unknown_event_type_is_422_naming_the_allowed_values() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "EV-2").await;
    let body = json!({"timestamp": ts(&env, 0), "event_type": "explode", "connector_id": 1});
    let r = c.post(&app, "/v1/device/events", body).await;
    assert_eq!(r.status, 422);
    let problem = r.data()["errors"][0]["problem"].as_str().unwrap();
    assert!(
        problem.contains("plug_in") && problem.contains("fault_cleared"),
        "{problem}"
    );
    assert!(device(&env, &c).await.connectors.is_empty());
}

#[tokio::test]
async fn firmware_progress_is_recorded_and_installed_changes_the_version() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "FW-1").await;
    let progress = json!({"firmware_version": "2.2.0", "status": "downloading", "progress": 45, "message": "Downloading..."});
    assert_eq!(
        c.post(&app, "/v1/device/firmware/status", progress)
            .await
            .status,
        200
    );
    let d = device(&env, &c).await;
    assert_eq!(d.firmware_version.as_str(), "1.5.0");
    assert_eq!(d.firmware_update.unwrap().progress, Some(45));
    let done = json!({"firmware_version": "2.2.0", "status": "installed"});
    assert_eq!(
        c.post(&app, "/v1/device/firmware/status", done)
            .await
            .status,
        200
    );
    assert_eq!(device(&env, &c).await.firmware_version.as_str(), "2.2.0");
    for bad in [
        json!({"firmware_version": "2.2.0", "status": "downloading", "progress": 101}),
        json!({"firmware_version": "2.2.0", "status": "exploding"}),
    ] {
        assert_eq!(
            c.post(&app, "/v1/device/firmware/status", bad).await.status,
            422
        );
    }
}

fn record(env: &TestEnv, id: &str, energy: f64) -> serde_json::Value {
    json!({"record_id": id, "connector_id": 1, "start_time": ts(env, -3600), "end_time": ts(env, 0),
           "energy": energy, "max_power": 180, "cost": 4.38, "currency": "GBP",
           "stop_reason": "soc_target_reached"})
}

#[tokio::test]
async fn a_charge_record_uploaded_again_is_a_success_that_adds_nothing() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "CDR-1").await;
    let id = kernel::ids::RecordId::random().to_string();
    assert_eq!(
        c.post(&app, "/v1/device/charging-records", record(&env, &id, 12.5))
            .await
            .status,
        200
    );
    env.clock.advance(Duration::seconds(5));
    assert_eq!(
        c.post(&app, "/v1/device/charging-records", record(&env, &id, 12.5))
            .await
            .status,
        409,
        "times moved with the clock: different content"
    );
}

#[tokio::test]
async fn identical_retries_succeed_and_other_content_conflicts() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "CDR-2").await;
    let id = kernel::ids::RecordId::random().to_string();
    let body = record(&env, &id, 12.5);
    assert_eq!(
        c.post(&app, "/v1/device/charging-records", body.clone())
            .await
            .status,
        200
    );
    assert_eq!(
        c.post(&app, "/v1/device/charging-records", body)
            .await
            .status,
        200
    );
    let other = c
        .post(&app, "/v1/device/charging-records", record(&env, &id, 13.0))
        .await;
    assert_eq!((other.status.as_u16(), other.code()), (409, 40900));
    assert_eq!(env.items_with_pk_prefix("CDR#").await, 1);
    let stored = env
        .store
        .get_record(kernel::ids::RecordId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.energy, 12.5);
}

#[tokio::test]
async fn three_concurrent_identical_uploads_store_one_record() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "CDR-3").await;
    let body = record(&env, &kernel::ids::RecordId::random().to_string(), 7.0);
    let (a, b, d) = tokio::join!(
        c.post(&app, "/v1/device/charging-records", body.clone()),
        c.post(&app, "/v1/device/charging-records", body.clone()),
        c.post(&app, "/v1/device/charging-records", body.clone()),
    );
    assert_eq!([a.status, b.status, d.status], [200, 200, 200]);
    assert_eq!(env.items_with_pk_prefix("CDR#").await, 1);
}

#[tokio::test]
async fn invalid_charge_records_are_refused_naming_the_field() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "CDR-4").await;
    let id = kernel::ids::RecordId::random().to_string();
    let cases = [
        (
            "end_time",
            json!({"start_time": ts(&env, 0), "end_time": ts(&env, -60)}),
        ),
        ("energy", json!({"energy": -1})),
        ("currency", json!({"currency": "gbp"})),
        ("record_id", json!({"record_id": "not-a-uuid"})),
    ];
    for (field, patch) in cases {
        let mut body = record(&env, &id, 5.0);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = c.post(&app, "/v1/device/charging-records", body).await;
        assert_eq!(r.status, 422, "{field}");
        assert_eq!(r.data()["errors"][0]["field"], field);
    }
    assert_eq!(env.items_with_pk_prefix("CDR#").await, 0);
}

#[tokio::test]
async fn dynamodb_requests_per_route_stay_within_their_budget() {
    let env = TestEnv::with_settings(no_request_log).await;
    let app = app(&env);
    let c = charger(&app, "COST-1").await;
    // A warm container: its list of partners to notify is read once a
    // minute, not per request.
    env.domain
        .partner_notices
        .refresh_partner_feeds()
        .await
        .unwrap();
    let cost = |route: &str, limit: u64| {
        let used = env.counter.total();
        env.counter.reset();
        println!("{route}: {used} DynamoDB requests");
        assert!(
            used <= limit,
            "{route} used {used} requests (budget {limit}): {:?}",
            env.counter.snapshot()
        );
    };
    env.counter.reset();
    c.post(
        &app,
        "/v1/device/heartbeat",
        json!({"timestamp": ts(&env, 0), "status": "online"}),
    )
    .await;
    cost("heartbeat", 1);
    // The device read, its hour bucket, the device update.
    c.post(
        &app,
        "/v1/device/status",
        sample(&ts(&env, 0), 1, "charging", 11.0, 1.0),
    )
    .await;
    cost("status sample", 3);
    c.post(
        &app,
        "/v1/device/status",
        sample(&ts(&env, 0), 1, "charging", 11.0, 1.0),
    )
    .await;
    cost("duplicate status sample", 1);
    c.post(
        &app,
        "/v1/device/events",
        json!({"timestamp": ts(&env, 1), "event_type": "stop", "connector_id": 1}),
    )
    .await;
    cost("event", 2);
    let body = record(&env, &kernel::ids::RecordId::random().to_string(), 3.0);
    c.post(&app, "/v1/device/charging-records", body.clone())
        .await;
    // The device, the partner session mark (a partner's CDR is pushed to
    // it), the record's transaction; pricing adds the operator's tariffs
    // (then kept a minute; a device in a site adds its time zone, alike).
    cost("charging record, tariffs read", 4);
    c.post(&app, "/v1/device/charging-records", body).await;
    cost("duplicate charging record", 3);
    let body = record(&env, &kernel::ids::RecordId::random().to_string(), 2.0);
    c.post(&app, "/v1/device/charging-records", body).await;
    cost("charging record, tariffs kept", 3);
}

#[tokio::test]
async fn bad_input_on_every_route_is_an_envelope_and_writes_nothing() {
    let env = TestEnv::with_settings(no_request_log).await;
    let app = app(&env);
    let c = charger(&app, "BAD-1").await;
    let before = env.snapshot().await;
    let cases: Vec<(&str, serde_json::Value, u16)> = vec![
        ("/v1/device/heartbeat", json!({"status": "online"}), 400),
        (
            "/v1/device/heartbeat",
            json!({"timestamp": "soon", "status": "online"}),
            422,
        ),
        (
            "/v1/device/status",
            json!({"timestamp": ts(&env, 0), "connector_id": 1}),
            400,
        ),
        (
            "/v1/device/status",
            sample(&ts(&env, 0), 0, "charging", 40.0, 1.0),
            422,
        ),
        (
            "/v1/device/status",
            sample(&ts(&env, 0), 1, "flying", 40.0, 1.0),
            422,
        ),
        (
            "/v1/device/status",
            sample(&ts(&env, 0), 1, "charging", -5.0, 1.0),
            422,
        ),
        (
            "/v1/device/events",
            json!({"timestamp": ts(&env, 0), "event_type": "start"}),
            422,
        ),
        ("/v1/device/events", json!({"event_type": 5}), 400),
        (
            "/v1/device/charging-records",
            json!({"record_id": "x"}),
            400,
        ),
        (
            "/v1/device/command-status",
            json!({"command_id": "x", "status": "accepted", "timestamp": ts(&env, 0)}),
            422,
        ),
        (
            "/v1/device/firmware/status",
            json!({"firmware_version": "", "status": "installed"}),
            422,
        ),
        (
            "/v1/device/site",
            json!({"name": "S", "lat": 91, "lng": 0, "power_capacity": 10}),
            422,
        ),
        (
            "/v1/device/site",
            json!({"name": "S", "lat": 50, "lng": 0, "power_capacity": 0}),
            422,
        ),
        (
            "/v1/device/register",
            json!({"sn": "", "model": "m", "manufacturer": "x", "firmware_version": "1"}),
            422,
        ),
        ("/v1/device/register", json!([1, 2]), 400),
    ];
    for (path, body, status) in cases {
        let r = c.post(&app, path, body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{path} {body}: {:?}", r.body);
        assert_eq!(r.code(), u32::from(status) as i64 * 100, "{path} {body}");
        assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let after = env.snapshot().await;
    assert_eq!(before, after, "bad input changed the table");
}

#[tokio::test]
async fn a_retry_after_joining_a_site_is_still_the_same_record() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "CDR-5").await;
    let body = record(&env, &kernel::ids::RecordId::random().to_string(), 4.0);
    assert_eq!(
        c.post(&app, "/v1/device/charging-records", body.clone())
            .await
            .status,
        200
    );
    c.post(
        &app,
        "/v1/device/site",
        json!({"name": "Later", "lat": 52.0, "lng": -1.0,
        "power_capacity": 50, "device_ids": [c.id]}),
    )
    .await;
    assert_eq!(
        c.post(&app, "/v1/device/charging-records", body)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn another_devices_record_id_is_not_found() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let a = charger(&app, "CDR-6").await;
    let b = charger(&app, "CDR-7").await;
    let body = record(&env, &kernel::ids::RecordId::random().to_string(), 4.0);
    assert_eq!(
        a.post(&app, "/v1/device/charging-records", body.clone())
            .await
            .status,
        200
    );
    let r = b.post(&app, "/v1/device/charging-records", body).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, 40400));
}

#[tokio::test]
async fn a_resumed_session_is_not_counted_again() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "ST-6").await;
    let event = |offset: i64, kind: &str| json!({"timestamp": ts(&env, offset), "event_type": kind, "connector_id": 1});
    c.post(&app, "/v1/device/events", event(-60, "start")).await;
    c.post(
        &app,
        "/v1/device/status",
        sample(&ts(&env, -50), 1, "charging", 40.0, 10.0),
    )
    .await;
    c.post(
        &app,
        "/v1/device/status",
        sample(&ts(&env, -40), 1, "suspended", 0.0, 10.0),
    )
    .await;
    c.post(&app, "/v1/device/events", event(-30, "start")).await;
    c.post(
        &app,
        "/v1/device/status",
        sample(&ts(&env, -20), 1, "charging", 40.0, 10.25),
    )
    .await;
    let bucket = hour_bucket(&env, EnergyScope::Device(c.device_id()))
        .await
        .unwrap();
    assert!((bucket.charge_energy - 10.25).abs() < 1e-9, "{bucket:?}");
}

#[tokio::test]
async fn a_final_sample_that_arrives_after_the_stop_event_still_counts() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "ST-7").await;
    c.post(
        &app,
        "/v1/device/status",
        sample(&ts(&env, -40), 1, "charging", 40.0, 1.0),
    )
    .await;
    let stop = json!({"timestamp": ts(&env, -10), "event_type": "stop", "connector_id": 1});
    c.post(&app, "/v1/device/events", stop).await;
    let late = c
        .post(
            &app,
            "/v1/device/status",
            sample(&ts(&env, -20), 1, "charging", 40.0, 1.5),
        )
        .await;
    assert_eq!(late.status, 200);
    let bucket = hour_bucket(&env, EnergyScope::Device(c.device_id()))
        .await
        .unwrap();
    assert!((bucket.charge_energy - 1.5).abs() < 1e-9, "{bucket:?}");
    let d = device(&env, &c).await;
    assert_eq!(
        d.connectors[&connector(1)].state,
        ConnectorState::Finishing,
        "the later event's state stays"
    );
}
