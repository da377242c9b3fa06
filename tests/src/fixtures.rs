//! The recorded API Gateway events under `events/<function>/`, named
//! `<route>-<status>.json`, and what their `${...}` placeholders stand for
//! (what only exists at run time: a registered device, its token, now).

use crate::whole_app;
use chrono::Duration;
use domain::Clock;
use domain::model::{CommandKind, Role};
use serde_json::json;
use std::collections::BTreeMap;
use testkit::{Charger, TestEnv};

/// Each folder under `events/` with the template function it belongs to.
pub const FUNCTION_DIRS: [(&str, &str); 4] = [
    ("device-api", "DeviceApiFunction"),
    ("console-api", "ConsoleApiFunction"),
    ("command-api", "CommandApiFunction"),
    ("auth-api", "AuthApiFunction"),
];

/// One recorded event.
pub struct Recorded {
    pub dir: &'static str,
    pub function: &'static str,
    /// The file name without `.json`.
    pub name: String,
    /// The status its name ends with.
    pub status: u16,
    text: String,
}

impl Recorded {
    /// The event with its placeholders filled in.
    pub fn filled(&self, values: &BTreeMap<&'static str, String>) -> String {
        let mut text = self.text.clone();
        for (key, value) in values {
            text = text.replace(&format!("${{{key}}}"), value);
        }
        text
    }
}

/// Every recorded event, folder by folder, in name order.
pub fn recorded() -> Vec<Recorded> {
    let mut out = Vec::new();
    for (dir, function) in FUNCTION_DIRS {
        let mut files: Vec<_> = std::fs::read_dir(crate::workspace_file(&format!("events/{dir}")))
            .expect("events folder")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for file in files {
            let name = file.file_stem().unwrap().to_string_lossy().into_owned();
            let status = name
                .rsplit('-')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{name}: the name must end with -<status>"));
            let text = std::fs::read_to_string(&file).expect("event file");
            out.push(Recorded {
                dir,
                function,
                name,
                status,
                text,
            });
        }
    }
    out
}

/// What the fixtures' `${...}` placeholders refer to, set up in `env`'s
/// table through the routes, as a charger and a console would.
pub async fn placeholders(env: &TestEnv) -> BTreeMap<&'static str, String> {
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
    BTreeMap::from([
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
    ])
}

fn uuid_like() -> String {
    domain::ids::CommandId::random().0.simple().to_string()
}
