//! Replays every API Gateway event under `events/<function>/` through that
//! function's router and checks the status its name ends with. Fixtures
//! are real HTTP API (payload 2.0) events; `${...}` placeholders stand for
//! what only exists at run time (a registered device, its token, now).
//!
//! Legacy (T/CEC) requests must be signed and fresh, so a fixture body
//! `SEAL <payload>` becomes, at replay, the fixture partner's envelope of
//! that payload stamped now. Legacy routes always answer 200: their file
//! names say the `Ret` as well (`...-ret4002-200.json`), and a non-zero
//! `Ret` counts as the route's recorded failure.

use axum::body::Body;
use axum::http::Request;
use chrono::Duration;
use domain::Clock;
use domain::access::Caller;
use domain::campaigns::{CampaignAction, CampaignDraft};
use domain::model::{CommandKind, Role};
use domain::profiles::{ChargerSettings, ProfileDraft};
use serde_json::json;
use std::collections::BTreeMap;
use system_tests::{function_apps, whole_app, workspace_file};
use testkit::partner::TestPartner;
use testkit::{Charger, TestEnv, send};

const FUNCTION_DIRS: [(&str, &str); 5] = [
    ("device-api", "DeviceApiFunction"),
    ("console-api", "ConsoleApiFunction"),
    ("command-api", "CommandApiFunction"),
    ("auth-api", "AuthApiFunction"),
    ("partner-api", "PartnerApiFunction"),
];

/// The `Ret` a file name expects, if it names one.
fn expected_ret(name: &str) -> Option<u32> {
    name.split('-')
        .find_map(|part| part.strip_prefix("ret").and_then(|n| n.parse().ok()))
}

/// A `SEAL <payload>` body becomes the fixture partner's envelope.
fn seal_body(text: &str, env: &TestEnv, partner: &TestPartner) -> String {
    let mut event: serde_json::Value = serde_json::from_str(text).expect("event JSON");
    if let Some(payload) = event["body"].as_str().and_then(|b| b.strip_prefix("SEAL ")) {
        let sealed = partner.seal(env, payload.as_bytes());
        event["body"] = json!(serde_json::to_string(&sealed).expect("an envelope"));
    }
    event.to_string()
}

/// What the fixtures refer to, set up through the routes as a charger and
/// a console would.
async fn placeholders(
    env: &TestEnv,
    partner: &TestPartner,
    other: &TestPartner,
) -> BTreeMap<&'static str, String> {
    let app = whole_app(&env.domain);
    let now = env.clock.now();
    let heartbeat = json!({"timestamp": domain::input::rfc3339(now), "status": "online"});
    let sn = format!("EVT-{}", &uuid_like()[..8]);
    let charger = Charger::new(&app, &sn).await;
    let acme = env
        .operator(env.domain.settings.default_operator.as_str())
        .await;
    let site = charger
        .post(
            &app,
            "/v1/device/site",
            json!({"name": "Coventry", "lat": 52.4, "lng": -1.5,
            "power_capacity": 176.0, "device_ids": [charger.id]}),
        )
        .await;
    assert_eq!(site.status, 200, "site: {:?}", site.body);
    let command = env
        .queue(charger.device_id(), Some(1), CommandKind::Reboot)
        .await;
    // Commands need an online device.
    let seen = charger
        .post(&app, "/v1/device/heartbeat", heartbeat.clone())
        .await;
    assert_eq!(seen.status, 200);
    // A command already delivered, which the device may report on.
    let delivered = env
        .queue(charger.device_id(), Some(1), CommandKind::Reboot)
        .await;
    env.domain
        .deliver(charger.device_id(), usize::MAX)
        .await
        .expect("delivery");
    let stored_record = domain::ids::RecordId::random().to_string();
    let record = charger
        .post(
            &app,
            "/v1/device/charging-records",
            json!({"record_id": stored_record,
            "connector_id": 1, "start_time": domain::input::rfc3339(now - Duration::hours(1)),
            "end_time": domain::input::rfc3339(now), "energy": 7.5, "max_power": 22.0,
            "cost": 2.63, "currency": "GBP"}),
        )
        .await;
    assert_eq!(record.status, 200, "record: {:?}", record.body);
    let v2g = Charger::of_model(
        &app,
        &format!("EVT-V2G-{}", &uuid_like()[..8]),
        "TP-DC180",
        "2.2.0",
    )
    .await;
    let seen = v2g.post(&app, "/v1/device/heartbeat", heartbeat).await;
    assert_eq!(seen.status, 200);
    let viewer = env
        .domain
        .bootstrap_client(None, None, Role::Viewer, vec![acme.clone()], None)
        .await
        .expect("viewer client");
    let operator = Caller {
        client_id: "events".into(),
        role: Role::Operator,
        operators: vec![acme.clone()],
    };
    let profile = env
        .domain
        .create_profile(
            &operator,
            ProfileDraft {
                name: "Depot AC".into(),
                model: Some("TP-AC22".into()),
                settings: ChargerSettings {
                    heartbeat_interval_s: 60,
                    meter_interval_s: 30,
                    max_current_a: 16.0,
                    offline_charging: true,
                    free_vend: false,
                },
                operator_id: None,
            },
        )
        .await
        .expect("profile");
    let mut campaigns = Vec::new();
    for action in [
        None,
        None,
        Some(CampaignAction::Pause),
        Some(CampaignAction::Cancel),
    ] {
        let draft = CampaignDraft {
            model: "TP-AC22".into(),
            target_version: "9.9.9".into(),
            firmware_url: "https://firmware.example.com/tp-ac22-9.9.9.bin".into(),
            site_id: None,
            waves: vec![50, 100],
            failure_threshold_pct: 10,
            operator_id: None,
        };
        let c = env
            .domain
            .create_campaign(&operator, draft)
            .await
            .expect("campaign");
        if let Some(action) = action {
            env.domain
                .campaign_action(&operator, c.campaign_id, action)
                .await
                .expect("campaign action");
        }
        campaigns.push(c.campaign_id.to_string());
    }
    BTreeMap::from([
        ("PROFILE_ID", profile.profile_id.to_string()),
        ("CAMPAIGN_ID", campaigns[0].clone()),
        ("RUNNING_CAMPAIGN_ID", campaigns[1].clone()),
        ("PAUSED_CAMPAIGN_ID", campaigns[2].clone()),
        ("CANCELLED_CAMPAIGN_ID", campaigns[3].clone()),
        ("DELIVERED_COMMAND_ID", delivered.command_id.to_string()),
        ("STORED_RECORD_ID", stored_record),
        ("V2G_DEVICE_ID", v2g.id),
        (
            "SITE_ID",
            site.data()["site_id"].as_str().expect("site id").to_owned(),
        ),
        ("COMMAND_ID", command.command_id.to_string()),
        ("ADMIN_TOKEN", env.operator_token(Role::Admin, vec![]).await),
        (
            "OPERATOR_TOKEN",
            env.operator_token(Role::Operator, vec![acme.clone()]).await,
        ),
        (
            "VIEWER_TOKEN",
            env.operator_token(Role::Viewer, vec![acme]).await,
        ),
        ("CLIENT_ID", viewer.client_id),
        ("CLIENT_SECRET", viewer.client_secret.expose().clone()),
        ("DEVICE_ID", charger.id.clone()),
        ("DEVICE_SECRET", charger.secret.clone()),
        ("DEVICE_SN", sn),
        ("DEVICE_TOKEN", charger.token.clone()),
        ("NOW", domain::input::rfc3339(now)),
        ("HOUR_AGO", domain::input::rfc3339(now - Duration::hours(1))),
        ("RECORD_ID", domain::ids::RecordId::random().to_string()),
        ("RUN", uuid_like()[..12].to_owned()),
        ("PARTNER_CODE", partner.code.clone()),
        ("PARTNER_SECRET", partner.operator_secret.clone()),
        ("PARTNER_TOKEN", partner.token.clone()),
        ("PARTNER_ID", partner.partner_id.to_string()),
        ("OTHER_PARTNER_ID", other.partner_id.to_string()),
        ("NEW_PARTNER_CODE", testkit::partner::new_code()),
        ("START_CHARGE_SEQ", partner.start_charge_seq()),
        ("DISCHARGE_SEQ", partner.start_charge_seq()),
    ])
}

fn uuid_like() -> String {
    domain::ids::CommandId::random().0.simple().to_string()
}

#[tokio::test]
async fn every_recorded_event_gets_the_status_in_its_name() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let acme = env.domain.settings.default_operator.clone();
    let partner = TestPartner::create(&env, &app, &acme).await;
    let volt = env.operator("volt-evt").await;
    let other = TestPartner::create(&env, &app, &volt).await;
    let values = placeholders(&env, &partner, &other).await;
    let apps: BTreeMap<_, _> = function_apps(&env.domain).into_iter().collect();
    let mut replayed = 0;
    for (dir, function) in FUNCTION_DIRS {
        let mut files: Vec<_> = std::fs::read_dir(workspace_file(&format!("events/{dir}")))
            .expect("events folder")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for file in files {
            let name = file.file_stem().unwrap().to_string_lossy().into_owned();
            let expected: u16 = name
                .rsplit('-')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{name}: the name must end with -<status>"));
            let mut text = std::fs::read_to_string(&file).unwrap();
            for (key, value) in &values {
                text = text.replace(&format!("${{{key}}}"), value);
            }
            let text = seal_body(&text, &env, &partner);
            let req = lambda_http::request::from_str(&text)
                .unwrap_or_else(|e| panic!("{name}: not an API Gateway event: {e}"));
            let (parts, body) = req.into_parts();
            let req = Request::from_parts(parts, Body::from(body.to_vec()));
            let reply = send(&apps[function], req).await;
            assert_eq!(
                reply.status.as_u16(),
                expected,
                "{dir}/{name}: {}",
                reply.body
            );
            if let Some(ret) = expected_ret(&name) {
                assert_eq!(reply.body["Ret"], ret, "{dir}/{name}: {}", reply.body);
            }
            if expected >= 400 {
                assert_ne!(
                    reply.code(),
                    0,
                    "{dir}/{name}: errors carry a non-zero code"
                );
            }
            replayed += 1;
        }
    }
    assert!(replayed >= 30, "only {replayed} fixtures found");
}

/// Routes with no failure to record: a static document, a redirect.
const CANNOT_FAIL: &[&str] = &["GET /v1/openapi.json", "GET /console"];

/// Every route the template sends to a function has a recorded success and
/// a recorded failure (or, for a route not offered yet, its 501).
#[test]
fn every_route_has_a_recorded_success_and_failure() {
    let doc = system_tests::template();
    let mut missing = Vec::new();
    for (dir, function) in FUNCTION_DIRS {
        let mut seen: BTreeMap<String, Vec<u16>> = BTreeMap::new();
        for entry in std::fs::read_dir(workspace_file(&format!("events/{dir}"))).unwrap() {
            let path = entry.unwrap().path();
            let event: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap();
            let status: u16 = stem
                .rsplit('-')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap();
            // A legacy refusal is a failure though its status is 200.
            let status = match expected_ret(stem) {
                Some(ret) if ret != 0 => 400,
                _ => status,
            };
            let key = event["routeKey"].as_str().unwrap().to_owned();
            seen.entry(key).or_default().push(status);
        }
        let events = doc["Resources"][function]["Properties"]["Events"]
            .as_mapping()
            .unwrap();
        for e in events.values() {
            let key = format!(
                "{} {}",
                e["Properties"]["Method"].as_str().unwrap().to_uppercase(),
                e["Properties"]["Path"].as_str().unwrap()
            );
            if CANNOT_FAIL.contains(&key.as_str()) {
                continue;
            }
            let statuses = seen.get(&key).cloned().unwrap_or_default();
            let planned = statuses.contains(&501);
            let ok = statuses.iter().any(|s| *s < 300);
            let failed = statuses.iter().any(|s| *s >= 400);
            if !(planned || ok && failed) {
                missing.push(format!("{function}: {key} has {statuses:?}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes without a recorded success and failure: {missing:#?}"
    );
}
