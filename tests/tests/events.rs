//! Replays every API Gateway event under `events/<function>/` through that
//! function's router and checks the status its name ends with. Fixtures
//! are real HTTP API (payload 2.0) events; `${...}` placeholders stand for
//! what only exists at run time (a registered device, its token, now).

use axum::body::Body;
use axum::http::Request;
use chrono::Duration;
use domain::Clock;
use domain::devices::{Possession, Registration};
use domain::ingest::Heartbeat;
use domain::model::{CommandKind, Operator, Role};
use domain::records::RecordUpload;
use domain::sites::{SiteAuthority, SiteRegistration};
use std::collections::BTreeMap;
use system_tests::{function_apps, workspace_file};
use testkit::{TestEnv, send};

const FUNCTION_DIRS: [(&str, &str); 4] = [
    ("device-api", "DeviceApiFunction"),
    ("console-api", "ConsoleApiFunction"),
    ("command-api", "CommandApiFunction"),
    ("auth-api", "AuthApiFunction"),
];

async fn placeholders(env: &TestEnv) -> BTreeMap<&'static str, String> {
    let sn = format!("EVT-{}", &uuid_like()[..8]);
    let creds = env
        .domain
        .register(
            Registration {
                sn: sn.clone(),
                model: "TP-AC22".into(),
                manufacturer: "Tellus Power".into(),
                firmware_version: "1.5.0".into(),
            },
            Possession::default(),
        )
        .await
        .expect("device registers");
    let token = env
        .domain
        .authenticate(
            &creds.device_id.to_string(),
            &creds.device_secret,
            "client_credentials",
        )
        .await
        .expect("device authenticates");
    let acme = env.domain.settings.default_operator.clone();
    env.domain
        .store
        .ensure_operator(&Operator {
            id: acme.clone(),
            name: "Acme Charging Network UK".into(),
            country: "GB".into(),
            status: "active".into(),
        })
        .await
        .expect("operator");
    let site = env
        .domain
        .register_site(
            &SiteAuthority::default(),
            SiteRegistration {
                site_id: None,
                operator_id: None,
                name: "Coventry".into(),
                address: String::new(),
                postcode: String::new(),
                lat: 52.4,
                lng: -1.5,
                power_capacity: 176.0,
                device_ids: vec![creds.device_id.to_string()],
            },
        )
        .await
        .expect("site");
    let device = env
        .domain
        .store
        .get_device(creds.device_id)
        .await
        .unwrap()
        .unwrap();
    let command = env
        .domain
        .enqueue_command(&device, Some(1), CommandKind::Reboot, Default::default())
        .await
        .expect("command");
    let admin = env
        .domain
        .bootstrap_client(None, None, Role::Admin, vec![], None)
        .await
        .expect("admin client");
    let viewer = env
        .domain
        .bootstrap_client(None, None, Role::Viewer, vec![acme.clone()], None)
        .await
        .expect("viewer client");
    let operator = env
        .domain
        .bootstrap_client(None, None, Role::Operator, vec![acme], None)
        .await
        .expect("operator client");
    // Commands need an online device.
    env.domain
        .heartbeat(
            env.domain.verify_token(&token.access_token).expect("token"),
            Heartbeat {
                timestamp: domain::validate::rfc3339(env.clock.now()),
                status: "online".into(),
            },
        )
        .await
        .expect("heartbeat");
    let operator_token = |id: String, secret: String| {
        let domain = env.domain.clone();
        async move {
            domain
                .issue_operator_token(&id, &secret, "client_credentials")
                .await
                .expect("operator token")
                .access_token
        }
    };
    let now = env.clock.now();
    let claims = env.domain.verify_token(&token.access_token).expect("token");
    // A command already delivered, which the device may report on.
    let delivered = env
        .domain
        .enqueue_command(&device, Some(1), CommandKind::Reboot, Default::default())
        .await
        .expect("command");
    env.domain
        .deliver(device.device_id, usize::MAX)
        .await
        .expect("delivery");
    let stored_record = domain::ids::RecordId::random().to_string();
    env.domain
        .upload_record(
            claims,
            RecordUpload {
                record_id: stored_record.clone(),
                connector_id: 1,
                start_time: domain::validate::rfc3339(now - Duration::hours(1)),
                end_time: domain::validate::rfc3339(now),
                energy: 7.5,
                max_power: Some(22.0),
                cost: Some(2.63),
                currency: Some("GBP".into()),
                stop_reason: None,
            },
        )
        .await
        .expect("record");
    let v2g = env
        .domain
        .register(
            Registration {
                sn: format!("EVT-V2G-{}", &uuid_like()[..8]),
                model: "TP-DC180".into(),
                manufacturer: "Tellus Power".into(),
                firmware_version: "2.2.0".into(),
            },
            Possession::default(),
        )
        .await
        .expect("V2G device");
    let v2g_token = env
        .domain
        .authenticate(
            &v2g.device_id.to_string(),
            &v2g.device_secret,
            "client_credentials",
        )
        .await
        .expect("V2G token");
    env.domain
        .heartbeat(
            env.domain
                .verify_token(&v2g_token.access_token)
                .expect("token"),
            Heartbeat {
                timestamp: domain::validate::rfc3339(now),
                status: "online".into(),
            },
        )
        .await
        .expect("V2G heartbeat");
    BTreeMap::from([
        ("DELIVERED_COMMAND_ID", delivered.command_id.to_string()),
        ("STORED_RECORD_ID", stored_record),
        ("V2G_DEVICE_ID", v2g.device_id.to_string()),
        ("SITE_ID", site.to_string()),
        ("COMMAND_ID", command.command_id.to_string()),
        (
            "ADMIN_TOKEN",
            operator_token(admin.client_id, admin.client_secret).await,
        ),
        (
            "OPERATOR_TOKEN",
            operator_token(operator.client_id, operator.client_secret).await,
        ),
        (
            "VIEWER_TOKEN",
            operator_token(viewer.client_id.clone(), viewer.client_secret.clone()).await,
        ),
        ("CLIENT_ID", viewer.client_id),
        ("CLIENT_SECRET", viewer.client_secret),
        ("DEVICE_ID", creds.device_id.to_string()),
        ("DEVICE_SECRET", creds.device_secret),
        ("DEVICE_SN", sn),
        ("DEVICE_TOKEN", token.access_token),
        ("NOW", domain::validate::rfc3339(now)),
        (
            "HOUR_AGO",
            domain::validate::rfc3339(now - Duration::hours(1)),
        ),
        ("RECORD_ID", domain::ids::RecordId::random().to_string()),
        ("RUN", uuid_like()[..12].to_owned()),
    ])
}

fn uuid_like() -> String {
    domain::ids::CommandId::random().0.simple().to_string()
}

#[tokio::test]
async fn every_recorded_event_gets_the_status_in_its_name() {
    let env = TestEnv::new().await;
    let values = placeholders(&env).await;
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

/// Routes with no failure to record: a static document.
const CANNOT_FAIL: &[&str] = &["GET /v1/openapi.json"];

/// API Gateway's route for requests no other route matched; it has no
/// success, only the 404 and 405 its function answers for the whole API.
const DEFAULT_ROUTE: &str = "$default";

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
            let status: u16 = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.rsplit('-').next())
                .and_then(|s| s.parse().ok())
                .unwrap();
            let key = event["routeKey"].as_str().unwrap().to_owned();
            seen.entry(key).or_default().push(status);
        }
        let events = doc["Resources"][function]["Properties"]["Events"]
            .as_mapping()
            .unwrap();
        for e in events.values() {
            let key = match (
                e["Properties"]["Method"].as_str(),
                e["Properties"]["Path"].as_str(),
            ) {
                (_, Some(DEFAULT_ROUTE)) | (None, None) => DEFAULT_ROUTE.to_owned(),
                (method, path) => format!(
                    "{} {}",
                    method.unwrap_or_default().to_uppercase(),
                    path.unwrap_or_default()
                ),
            };
            if CANNOT_FAIL.contains(&key.as_str()) {
                continue;
            }
            let statuses = seen.get(&key).cloned().unwrap_or_default();
            if key == DEFAULT_ROUTE {
                if !(statuses.contains(&404) && statuses.contains(&405)) {
                    missing.push(format!("{function}: $default needs a 404 and a 405"));
                }
                continue;
            }
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
