//! Console lists of big fleets: a page costs the same few DynamoDB
//! requests whatever the fleet's size, admins' pages merge operators in
//! list order, and the counters behind totals, firmware adoption and
//! models agree with a recount of the fleet after every kind of change.

use domain::devices::{Possession, Registration};
use kernel::model::Role;
use kernel::settings::RequestLogMode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use system_tests::whole_app;
use testkit::{Charger, Reply, TestEnv, call_as};

fn env_settings(s: &mut kernel::Settings) {
    s.request_log = RequestLogMode::Off;
    s.registration_limit.attempts = 0;
    s.allow_reregister = true;
}

async fn register(env: &TestEnv, sn: &str, model: &str, firmware: &str) -> String {
    let reg = Registration {
        sn: kernel::ids::SerialNumber::parse(sn).unwrap(),
        model: model.into(),
        manufacturer: "Tellus Power".into(),
        firmware_version: kernel::version::FirmwareVersion::parse(firmware).unwrap(),
    };
    env.domain
        .devices
        .register(reg, Possession::default(), "test")
        .await
        .expect("registers")
        .device_id
        .to_string()
}

async fn get(app: &axum::Router, token: &str, path: &str) -> Reply {
    let r = call_as(app, token, "GET", path, None).await;
    assert_eq!(r.status, 200, "{path}: {:?}", r.body);
    r
}

/// The answer and the DynamoDB requests it cost, by operation.
async fn costed(
    env: &TestEnv,
    app: &axum::Router,
    token: &str,
    path: &str,
) -> (Value, BTreeMap<String, u64>) {
    env.counter.reset();
    let r = get(app, token, path).await;
    (r.data().clone(), env.counter.snapshot())
}

async fn site(app: &axum::Router, token: Option<&str>, body: Value) -> String {
    let r = match token {
        Some(t) => call_as(app, t, "POST", "/v1/device/site", Some(body)).await,
        None => testkit::call(app, "POST", "/v1/device/site", &[], Some(body)).await,
    };
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.data()["site_id"].as_str().unwrap().to_owned()
}

fn sns(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["sn"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_page_costs_the_same_requests_for_7_devices_as_for_157() {
    let env = TestEnv::with_settings(env_settings).await;
    let app = whole_app(&env.domain);
    let acme = env.domain.settings.default_operator.clone();
    let viewer = env.operator_token(Role::Viewer, vec![acme]).await;
    let routes = [
        "/v1/devices?size=5",
        "/v1/devices?page=2&size=5",
        "/v1/sites?size=2",
        "/v1/models",
        "/v1/firmware/versions",
    ];
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(register(&env, &format!("S-{i:03}"), "TP-AC22", "1.5.0").await);
    }
    for (n, group) in ids.chunks(2).enumerate() {
        site(
            &app,
            None,
            json!({"name": format!("Site {n:02}"), "lat": 52.0, "lng": -1.0,
            "power_capacity": 100, "device_ids": group}),
        )
        .await;
    }
    let mut small = Vec::new();
    for path in routes {
        small.push(costed(&env, &app, &viewer, path).await);
    }

    for i in 7..157 {
        ids.push(register(&env, &format!("S-{i:03}"), "TP-DC180", "2.0.1").await);
    }
    for (n, group) in ids[7..].chunks(2).enumerate() {
        site(
            &app,
            None,
            json!({"name": format!("Site {:02}", n + 4), "lat": 52.0, "lng": -1.0,
            "power_capacity": 100, "device_ids": group}),
        )
        .await;
    }
    for (path, (before, before_requests)) in routes.into_iter().zip(small) {
        let (after, requests) = costed(&env, &app, &viewer, path).await;
        assert_eq!(
            requests, before_requests,
            "{path}: requests changed with the fleet"
        );
        assert_eq!(before["page"], after["page"], "{path}");
        if path.starts_with("/v1/devices") {
            assert_eq!(
                (before["total"].as_u64(), after["total"].as_u64()),
                (Some(7), Some(157))
            );
        }
        if path == "/v1/devices?size=5" {
            assert_eq!(sns(&before), sns(&after), "the first serials stay first");
        }
    }
    let (page, requests) = costed(&env, &app, &viewer, "/v1/devices?page=3&size=5").await;
    assert_eq!(
        sns(&page),
        (10..15).map(|i| format!("S-{i:03}")).collect::<Vec<_>>()
    );
    assert_eq!(requests.get("BatchGetItem"), Some(&1), "{requests:?}");
    let sites = get(&app, &viewer, "/v1/sites?page=2&size=3").await;
    let names: Vec<&str> = sites.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Site 03", "Site 04", "Site 05"]);
    assert_eq!(sites.data()["total"], 79);
    let models = get(&app, &viewer, "/v1/models").await;
    let counts: Vec<(String, u64)> = models.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["model"].as_str().unwrap().to_owned(),
                m["devices"].as_u64().unwrap(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(counts, [("TP-AC22".into(), 7), ("TP-DC180".into(), 150)]);
}

#[tokio::test]
async fn an_admin_page_merges_operators_in_serial_and_name_order() {
    let env = TestEnv::with_settings(env_settings).await;
    let app = whole_app(&env.domain);
    let volt = env.operator("volt-uk").await;
    let admin = env.operator_token(Role::Admin, vec![]).await;
    let mut to_volt = Vec::new();
    for i in 0..12 {
        let id = register(&env, &format!("M-{i:02}"), "TP-AC22", "1.5.0").await;
        if i % 3 == 0 {
            to_volt.push(id);
        }
    }
    site(
        &app,
        Some(&admin),
        json!({"name": "B volt", "operator_id": volt, "lat": 52.0,
        "lng": -1.0, "power_capacity": 100, "device_ids": to_volt}),
    )
    .await;
    site(
        &app,
        None,
        json!({"name": "A acme", "lat": 52.0, "lng": -1.0, "power_capacity": 100}),
    )
    .await;
    site(
        &app,
        None,
        json!({"name": "C acme", "lat": 52.0, "lng": -1.0, "power_capacity": 100}),
    )
    .await;

    let page = get(&app, &admin, "/v1/devices?page=2&size=4").await;
    assert_eq!(sns(page.data()), ["M-04", "M-05", "M-06", "M-07"]);
    assert_eq!(page.data()["total"], 12);
    assert_eq!(page.data()["items"][2]["operator_id"], "volt-uk");
    let sites = get(&app, &admin, "/v1/sites?size=2").await;
    assert_eq!(sites.data()["total"], 3);
    assert_eq!(sites.data()["items"][1]["name"], "B volt");
    let volt_viewer = env.operator_token(Role::Viewer, vec![volt]).await;
    let theirs = get(&app, &volt_viewer, "/v1/devices?size=20").await;
    assert_eq!(sns(theirs.data()), ["M-00", "M-03", "M-06", "M-09"]);
    assert_eq!(theirs.data()["total"], 4);
    let filtered = get(&app, &admin, "/v1/devices?size=2&model=TP-AC22").await;
    assert_eq!(sns(filtered.data()), ["M-00", "M-01"]);
    assert_eq!(filtered.data()["total"], 12);
}

#[tokio::test]
async fn counters_agree_with_a_recount_after_reregistrations_moves_and_installs() {
    let env = TestEnv::with_settings(env_settings).await;
    let app = whole_app(&env.domain);
    let volt = env.operator("volt-uk").await;
    let admin = env.operator_token(Role::Admin, vec![]).await;
    let a = Charger::of_model(&app, "K-1", "TP-AC22", "1.5.0").await;
    let b = Charger::of_model(&app, "K-2", "TP-AC22", "1.5.0").await;
    let c = Charger::of_model(&app, "K-3", "TP-DC180", "2.0.1").await;
    Charger::of_model(&app, "K-4", "HOMEBREW-1", "0.1").await;
    // Re-registered as another model on another firmware.
    Charger::of_model(&app, "K-1", "TP-DC180", "2.1.0").await;
    let installed = json!({"firmware_version": "1.6.0", "status": "installed"});
    let r = b.post(&app, "/v1/device/firmware/status", installed).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    site(
        &app,
        Some(&admin),
        json!({"name": "Volt", "operator_id": volt, "lat": 52.0,
        "lng": -1.0, "power_capacity": 100, "device_ids": [a.id, c.id]}),
    )
    .await;

    let firmware = get(&app, &admin, "/v1/firmware/versions").await;
    let models = get(&app, &admin, "/v1/models").await;
    let devices = get(&app, &admin, "/v1/devices?size=1").await;
    let volt_viewer = env.operator_token(Role::Viewer, vec![volt]).await;
    let volt_firmware = get(&app, &volt_viewer, "/v1/firmware/versions").await;
    assert_eq!(volt_firmware.data()["summary"]["total_devices"], 2);
    let dc = &volt_firmware.data()["items"][0];
    assert_eq!(dc["model"], "TP-DC180");
    assert_eq!(
        dc["versions"],
        json!([{"version": "2.1.0", "count": 1}, {"version": "2.0.1", "count": 1}])
    );
    assert_eq!(
        models.data()["unknown_models"],
        json!({"models": 1, "devices": 1})
    );
    assert_eq!(devices.data()["total"], 4);

    // Counting the fleet again from its indexes finds what the counters say.
    env.domain.recount.recount_fleets().await.unwrap();
    assert_eq!(
        get(&app, &admin, "/v1/firmware/versions").await.body,
        firmware.body
    );
    assert_eq!(get(&app, &admin, "/v1/models").await.body, models.body);
    assert_eq!(
        get(&app, &admin, "/v1/devices?size=1").await.body,
        devices.body
    );
}
