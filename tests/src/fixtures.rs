//! The recorded API Gateway events under `events/<function>/`, named
//! `<route>-<status>.json`, and what their `${...}` placeholders stand for
//! (what only exists at run time: a registered device, its token, now).
//!
//! Legacy (T/CEC) requests must be signed and fresh, so a fixture body
//! `SEAL <payload>` becomes the fixture partner's envelope of that payload
//! stamped now. Legacy routes always answer 200: their file names say the
//! `Ret` as well (`...-ret4002-200.json`).

use crate::whole_app;
use chrono::Duration;
use domain::campaigns::{CampaignAction, CampaignDraft};
use domain::profiles::{ChargerSettings, ProfileDraft};
use kernel::Clock;
use kernel::access::Caller;
use kernel::model::{CommandKind, Role};
use serde_json::json;
use std::collections::BTreeMap;
use testkit::Charger;
use testkit::TestEnv;
use testkit::partner::TestPartner;

/// Each folder under `events/` with the template function it belongs to.
pub const FUNCTION_DIRS: [(&str, &str); 7] = [
    ("device-api", "DeviceApiFunction"),
    ("console-api", "ConsoleApiFunction"),
    ("command-api", "CommandApiFunction"),
    ("intelligence-api", "IntelligenceApiFunction"),
    ("auth-api", "AuthApiFunction"),
    ("partner-api", "PartnerApiFunction"),
    ("ocpp-api", "OcppApiFunction"),
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

/// What the events refer to, made in one table.
pub struct Setup {
    values: BTreeMap<&'static str, String>,
    partner: TestPartner,
}

impl Setup {
    /// Makes what the events refer to in `env`'s table: a partner of the
    /// default operator and one of another, devices, commands, records,
    /// clients, a profile and campaigns.
    pub async fn new(env: &TestEnv) -> Self {
        let app = whole_app(&env.domain);
        let acme = env.domain.settings.default_operator.clone();
        let partner = TestPartner::create(env, &app, &acme).await;
        let volt = env.operator("volt-evt").await;
        let other = TestPartner::create(env, &app, &volt).await;
        let values = placeholders(env, &partner, &other).await;
        Self { values, partner }
    }

    /// What placeholder `key` stands for.
    pub fn value(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }
}

impl Recorded {
    /// The event as it is replayed: placeholders filled in, a `SEAL` body
    /// sealed now.
    pub fn prepared(&self, env: &TestEnv, setup: &Setup) -> String {
        let mut text = self.text.clone();
        for (key, value) in &setup.values {
            text = text.replace(&format!("${{{key}}}"), value);
        }
        seal_body(&text, env, &setup.partner)
    }

    /// The `Ret` its name expects, if it names one.
    pub fn ret(&self) -> Option<u32> {
        expected_ret(&self.name)
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

/// The `Ret` a file name expects, if it names one.
pub fn expected_ret(name: &str) -> Option<u32> {
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

/// What the fixtures refer to, set up in `env`'s table through the routes
/// as a charger and a console would.
async fn placeholders(
    env: &TestEnv,
    partner: &TestPartner,
    other: &TestPartner,
) -> BTreeMap<&'static str, String> {
    let app = whole_app(&env.domain);
    let now = env.clock.now();
    let heartbeat = json!({"timestamp": kernel::input::rfc3339(now), "status": "online"});
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
        .commands
        .deliver(charger.device_id(), usize::MAX)
        .await
        .expect("delivery");
    let stored_record = kernel::ids::RecordId::random().to_string();
    let record = charger
        .post(
            &app,
            "/v1/device/charging-records",
            json!({"record_id": stored_record,
            "connector_id": 1, "start_time": kernel::input::rfc3339(now - Duration::hours(1)),
            "end_time": kernel::input::rfc3339(now), "energy": 7.5, "max_power": 22.0,
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
    // An OCPP charge point and two driver tokens of the default operator.
    let charge_point = format!("EVT-CP-{}", &uuid_like()[..8]);
    env.domain
        .charge_points
        .provision_charge_point(
            &operator_caller(&acme),
            domain::chargepoints::NewChargePoint {
                charge_point_id: charge_point.clone(),
                operator_id: None,
                site_id: None,
                model: None,
                manufacturer: None,
            },
            "ws://events/ocpp".into(),
        )
        .await
        .expect("charge point");
    let mut id_tags = Vec::new();
    for n in 0..2 {
        let tag = format!("EVTTAG{n}{}", &uuid_like()[..8]);
        env.domain
            .id_tags
            .create_id_tag(
                &operator_caller(&acme),
                domain::idtags::NewIdTag {
                    id_tag: tag.clone(),
                    label: None,
                    status: domain::idtags::IdTagStatus::Accepted,
                    expires_at: None,
                    operator_id: None,
                },
            )
            .await
            .expect("id tag");
        id_tags.push(tag);
    }
    let viewer = env
        .domain
        .tenants
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
        .profiles
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
    // A device belongs to one running campaign at a time: each fixture
    // campaign updates its own TP-AC7 in its own site, leaving the
    // TP-AC22 fleet free for the recorded creation.
    let mut campaigns = Vec::new();
    for action in [
        None,
        None,
        Some(CampaignAction::Pause),
        Some(CampaignAction::Cancel),
    ] {
        let member = Charger::of_model(
            &app,
            &format!("EVT-FW-{}", &uuid_like()[..8]),
            "TP-AC7",
            "1.0.0",
        )
        .await;
        let placed = member
            .post(
                &app,
                "/v1/device/site",
                json!({"name": "Firmware bay", "lat": 52.4, "lng": -1.5,
                "power_capacity": 50.0, "device_ids": [member.id]}),
            )
            .await;
        assert_eq!(placed.status, 200, "site: {:?}", placed.body);
        let site_id = placed.data()["site_id"]
            .as_str()
            .and_then(kernel::ids::SiteId::parse)
            .expect("site id");
        let draft = CampaignDraft {
            model: "TP-AC7".into(),
            target_version: kernel::version::FirmwareVersion::parse("9.9.9").expect("a version"),
            firmware_url: "https://firmware.example.com/tp-ac7-9.9.9.bin".into(),
            site_id: Some(site_id),
            waves: vec![50, 100],
            failure_threshold_pct: 10,
            operator_id: None,
        };
        let c = env
            .domain
            .campaigns
            .create_campaign(&operator, draft)
            .await
            .expect("campaign");
        if let Some(action) = action {
            env.domain
                .campaigns
                .campaign_action(&operator, c.campaign_id, action)
                .await
                .expect("campaign action");
        }
        campaigns.push(c.campaign_id.to_string());
    }
    // A tariff of the fixture site, and one of the fixture charger valid in
    // 2030 (the recorded creation is the charger's in 2027: none overlaps,
    // and a second setup on the same table has a site and charger of its
    // own).
    let tariff_maker = env.operator_token(Role::Operator, vec![acme.clone()]).await;
    let mut tariffs = Vec::new();
    for scope in [
        json!({"site_id": site.data()["site_id"]}),
        json!({"device_id": charger.id, "valid_from": "2030-01-01T00:00:00Z",
            "valid_to": "2031-01-01T00:00:00Z"}),
    ] {
        let mut body = json!({"name": "Fixture", "currency": "GBP", "vat_percent": 20,
            "elements": [{"price_components": [{"type": "ENERGY", "price": 0.3}]}]});
        body.as_object_mut()
            .expect("an object")
            .extend(scope.as_object().expect("an object").clone());
        let made = testkit::call_as(&app, &tariff_maker, "POST", "/v1/tariffs", Some(body)).await;
        assert_eq!(made.status, 201, "tariff: {:?}", made.body);
        tariffs.push(
            made.data()["tariff_id"]
                .as_str()
                .expect("tariff id")
                .to_owned(),
        );
    }
    BTreeMap::from([
        ("PROFILE_ID", profile.profile_id.to_string()),
        ("TARIFF_ID", tariffs[0].clone()),
        ("DELETABLE_TARIFF_ID", tariffs[1].clone()),
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
        ("CHARGE_POINT_ID", charge_point),
        ("ID_TAG", id_tags[0].clone()),
        ("DELETABLE_ID_TAG", id_tags[1].clone()),
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
        ("NOW", kernel::input::rfc3339(now)),
        ("HOUR_AGO", kernel::input::rfc3339(now - Duration::hours(1))),
        ("RECORD_ID", kernel::ids::RecordId::random().to_string()),
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
    kernel::ids::CommandId::random().0.simple().to_string()
}

fn operator_caller(op: &kernel::ids::OperatorId) -> Caller {
    Caller {
        client_id: "events".into(),
        role: Role::Operator,
        operators: vec![op.clone()],
    }
}
