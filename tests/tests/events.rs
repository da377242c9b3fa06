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
    BTreeMap::from([
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
