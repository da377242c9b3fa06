//! What a hostile tester or a careless client sends: oversized ids,
//! numbers no store can hold, values outside the enums and the physics,
//! control characters, and the answers must be clear envelopes that change
//! nothing, name no Rust type and cache no secret.

use kernel::model::Role;
use serde_json::{Value, json};
use system_tests::{openapi_document, whole_app};
use testkit::{Charger, Reply, TestEnv, call, call_as};

const HUGE: usize = 5_000;

fn huge() -> String {
    "a".repeat(HUGE)
}

fn status_and_code(r: &Reply) -> (u16, i64) {
    (r.status.as_u16(), r.code())
}

#[tokio::test]
async fn oversized_identifiers_never_reach_the_store() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let admin = env.operator_token(Role::Admin, vec![]).await;
    let c = Charger::new(&app, "BIG-1").await;
    let big = huge();

    // Credential routes: wrong credentials, in every form the route reads.
    let json_form = call(
        &app,
        "POST",
        "/v1/oauth/token",
        &[],
        Some(json!({
        "grant_type": "client_credentials", "client_id": big, "client_secret": "x"})),
    )
    .await;
    assert_eq!(status_and_code(&json_form), (401, 40101));
    let form = axum::http::Request::post("/v1/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!(
            "grant_type=client_credentials&client_id={big}&client_secret=x"
        )))
        .unwrap();
    assert_eq!(testkit::send(&app, form).await.status, 401);
    let basic = format!("Basic {}", base64_of(&format!("{big}:x")));
    let basic = call(
        &app,
        "POST",
        "/v1/oauth/token",
        &[("authorization", &basic)],
        Some(json!({"grant_type": "client_credentials"})),
    )
    .await;
    assert_eq!(basic.status, 401);
    let device = call(
        &app,
        "POST",
        "/v1/device/auth",
        &[],
        Some(json!({
        "device_id": big, "device_secret": "x", "grant_type": "client_credentials"})),
    )
    .await;
    assert_eq!(status_and_code(&device), (401, 40101));

    // Bodies: 422 naming the field.
    let cases = [
        (
            "/v1/device/register",
            json!({"sn": big, "model": "TP-AC22", "manufacturer": "T", "firmware_version": "1"}),
            "sn",
        ),
        (
            "/v1/device/charging-records",
            json!({"record_id": big, "connector_id": 1,
            "start_time": env.now(), "end_time": env.now(), "energy": 1.0}),
            "record_id",
        ),
        (
            "/v1/device/command-status",
            json!({"command_id": big, "status": "accepted", "timestamp": env.now()}),
            "command_id",
        ),
        (
            "/v1/device/site",
            json!({"site_id": big, "name": "n", "lat": 0, "lng": 0, "power_capacity": 1}),
            "site_id",
        ),
        (
            "/v1/device/site",
            json!({"name": "n", "lat": 0, "lng": 0, "power_capacity": 1, "device_ids": [big]}),
            "device_ids",
        ),
    ];
    for (path, body, field) in cases {
        let r = c.post(&app, path, body).await;
        assert_eq!(status_and_code(&r), (422, 42200), "{path}: {:?}", r.body);
        assert_eq!(r.data()["errors"][0]["field"], field, "{path}");
        assert!(r.body.to_string().len() < 1_000, "{path} echoes the value");
    }

    // Every path parameter of the document, oversized: never a 5xx, and a
    // 404 that does not echo the whole value.
    let doc = serde_json::to_value(openapi_document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.contains('{') {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", &big).replace("{cid}", &big);
            let r = call_as(
                &app,
                &admin,
                &method.to_uppercase(),
                &concrete,
                Some(json!({})),
            )
            .await;
            assert!(
                r.status.is_client_error(),
                "{method} {path}: {:?}",
                r.status
            );
            assert!(
                r.body.to_string().len() < 1_000,
                "{method} {path} echoes the value"
            );
        }
    }

    // Query parameters and headers.
    for query in [
        format!("/v1/devices?site_id={big}"),
        format!("/v1/charging-records?device_id={big}"),
    ] {
        let r = call_as(&app, &admin, "GET", &query, None).await;
        assert_eq!(r.status, 422, "{query}");
    }
    let since = call_as(
        &app,
        &admin,
        "GET",
        &format!("/v1/internal/activity?since={}", "ab".repeat(HUGE)),
        None,
    )
    .await;
    assert_eq!(status_and_code(&since), (400, 40000));
    let bearer = format!("Bearer {admin}");
    let key = call(
        &app,
        "POST",
        &format!("/v1/devices/{}/connectors/1/stop", c.id),
        &[("authorization", &bearer), ("idempotency-key", &big)],
        Some(json!({})),
    )
    .await;
    assert_eq!(key.status, 400);
}

fn base64_of(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn numbers_no_store_can_hold_are_refused_by_field() {
    let env =
        TestEnv::with_settings(|s| s.request_log = kernel::settings::RequestLogMode::Off).await;
    let app = whole_app(&env.domain);
    let admin = env.operator_token(Role::Admin, vec![]).await;
    let c = Charger::new(&app, "NUM-1").await;
    c.post(
        &app,
        "/v1/device/heartbeat",
        json!({"timestamp": env.now(), "status": "online"}),
    )
    .await;
    let site = c
        .post(
            &app,
            "/v1/device/site",
            json!({"name": "n", "lat": 0, "lng": 0,
        "power_capacity": 50, "device_ids": [c.id]}),
        )
        .await;
    let site_id = site.data()["site_id"].as_str().unwrap().to_owned();
    let before = env.snapshot().await;
    let sample = |field: &str| {
        let mut s = json!({"timestamp": env.now(), "connector_id": 1, "state": "charging",
            "voltage": 400, "current": 32, "power": 22, "energy_delivered": 1.0, "soc": 50});
        s[field] = json!(1e308);
        s
    };
    let mut refused: Vec<(String, Value)> = Vec::new();
    for field in ["voltage", "current", "power", "energy_delivered", "soc"] {
        refused.push(("/v1/device/status".into(), sample(field)));
    }
    for field in ["energy", "cost", "max_power"] {
        let mut cdr = json!({"record_id": kernel::ids::RecordId::random(), "connector_id": 1,
            "start_time": env.now(), "end_time": env.now(), "energy": 1.0, "currency": "GBP"});
        cdr[field] = json!(1e308);
        refused.push(("/v1/device/charging-records".into(), cdr));
    }
    refused.push((
        "/v1/device/site".into(),
        json!({"name": "n", "lat": 0, "lng": 0, "power_capacity": 1e308}),
    ));
    for (path, body) in &refused {
        let r = c.post(&app, path, body.clone()).await;
        assert_eq!(
            status_and_code(&r),
            (422, 42200),
            "{path} {body}: {:?}",
            r.body
        );
    }
    let console = [
        (
            "/v1/control/flexibility",
            json!({"site_id": site_id, "limit_kw": 1e308, "duration_s": 60}),
            "limit_kw",
        ),
        (
            &*format!("/v1/devices/{}/connectors/1/start", c.id),
            json!({"charge_power": 1e308}),
            "charge_power",
        ),
        (
            "/admin/queue-command",
            json!({"device_id": c.id, "command": "set_power_limit",
            "connector_id": 1, "limit_kw": 1e308}),
            "limit_kw",
        ),
    ];
    for (path, body, field) in console {
        let r = call_as(&app, &admin, "POST", path, Some(body)).await;
        assert_eq!(status_and_code(&r), (422, 42200), "{path}: {:?}", r.body);
        assert_eq!(r.data()["errors"][0]["field"], field, "{path}");
    }
    assert_eq!(env.snapshot().await, before, "nothing was written");
}

#[tokio::test]
async fn the_admin_command_route_checks_parameters_like_the_console() {
    let env =
        TestEnv::with_settings(|s| s.request_log = kernel::settings::RequestLogMode::Off).await;
    let app = whole_app(&env.domain);
    let admin = env.operator_token(Role::Admin, vec![]).await;
    let c = Charger::new(&app, "ADM-Q").await;
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!({ "n": deep });
    }
    let before = env.snapshot().await;
    let refused = [
        (
            json!({"device_id": c.id, "command": "start_charging", "connector_id": 1, "charge_power": -5}),
            "charge_power",
        ),
        (
            json!({"device_id": c.id, "command": "start_charging", "connector_id": 9}),
            "connector_id",
        ),
        (
            json!({"device_id": c.id, "command": "start_charging"}),
            "connector_id",
        ),
        (
            json!({"device_id": c.id, "command": "start_discharging", "connector_id": 1,
            "discharge_power": 10, "duration": 60, "min_soc": 20}),
            "discharge_power",
        ),
        (
            json!({"device_id": c.id, "command": "stop_charging", "connector_id": 1, "reason": "\u{1b}[2J"}),
            "reason",
        ),
        (
            json!({"device_id": c.id, "command": "reboot", "x": 1e308}),
            "x",
        ),
        (
            json!({"device_id": c.id, "command": "reboot", "deep": deep}),
            "deep",
        ),
        (
            json!({"device_id": c.id, "command": "apply_configuration", "profile_id": "x"}),
            "profile_id",
        ),
        (
            json!({"device_id": c.id, "command": "apply_configuration",
            "profile_id": kernel::ids::ProfileId::time_ordered().to_string(),
            "settings": {"heartbeat_interval_s": 60, "meter_interval_s": 30,
                "max_current_a": 99999, "offline_charging": true, "free_vend": false}}),
            "settings.max_current_a",
        ),
        (
            json!({"device_id": c.id, "command": "apply_configuration",
            "profile_id": kernel::ids::ProfileId::time_ordered().to_string(), "max_current_a": 99999}),
            "params",
        ),
        (
            json!({"device_id": c.id, "command": "update_firmware", "version": "1.6.0",
            "location": "https://"}),
            "location",
        ),
        (
            json!({"device_id": c.id, "command": "update_firmware", "version": "1.6.0",
            "location": "https://fw.example.com/a \"b\".bin"}),
            "location",
        ),
    ];
    for (body, field) in refused {
        let r = call_as(
            &app,
            &admin,
            "POST",
            "/admin/queue-command",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status_and_code(&r), (422, 42200), "{body}: {:?}", r.body);
        assert_eq!(r.data()["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(env.snapshot().await, before);
    let fine = call_as(
        &app,
        &admin,
        "POST",
        "/admin/queue-command",
        Some(json!({
        "device_id": c.id, "command": "start_charging", "connector_id": 1, "charge_power": 11})),
    )
    .await;
    assert_eq!(fine.status, 202, "{:?}", fine.body);

    // A profile applied by hand: the console's apply, settings from the profile.
    let profile = call_as(
        &app,
        &admin,
        "POST",
        "/v1/configuration/profiles",
        Some(
            json!({"name": "Depot", "operator_id": "acme-charging-uk", "settings": {
            "heartbeat_interval_s": 60, "meter_interval_s": 30, "max_current_a": 16,
            "offline_charging": true, "free_vend": false}}),
        ),
    )
    .await;
    assert_eq!(profile.status, 200, "{:?}", profile.body);
    let profile_id = profile.data()["profile_id"].as_str().unwrap().to_owned();
    let stale = json!({"device_id": c.id, "command": "apply_configuration",
        "profile_id": profile_id, "version": 2});
    let stale = call_as(&app, &admin, "POST", "/admin/queue-command", Some(stale)).await;
    assert_eq!(status_and_code(&stale), (422, 42200), "{:?}", stale.body);
    let other = json!({"device_id": c.id, "command": "apply_configuration",
        "profile_id": profile_id, "settings": {"heartbeat_interval_s": 60, "meter_interval_s": 30,
            "max_current_a": 10, "offline_charging": true, "free_vend": false}});
    let other = call_as(&app, &admin, "POST", "/admin/queue-command", Some(other)).await;
    assert_eq!(status_and_code(&other), (422, 42200), "{:?}", other.body);
    assert_eq!(other.data()["errors"][0]["field"], "settings");
    let apply = json!({"device_id": c.id, "command": "apply_configuration",
        "profile_id": profile_id, "version": 1, "settings": {"heartbeat_interval_s": 60,
            "meter_interval_s": 30, "max_current_a": 16, "offline_charging": true,
            "free_vend": false}});
    let apply = call_as(&app, &admin, "POST", "/admin/queue-command", Some(apply)).await;
    assert_eq!(apply.status, 202, "{:?}", apply.body);
    let polled = c
        .post(
            &app,
            "/v1/device/heartbeat",
            json!({"timestamp": env.now(), "status": "online"}),
        )
        .await;
    let sent = polled.data()["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cmd| cmd["command"] == "apply_configuration")
        .cloned()
        .expect("apply_configuration delivered");
    assert_eq!(sent["settings"]["max_current_a"], 16.0, "{sent}");
    assert_eq!(sent["version"], 1);
}

#[tokio::test]
async fn enumerated_fields_times_text_and_connectors_are_checked() {
    let env =
        TestEnv::with_settings(|s| s.request_log = kernel::settings::RequestLogMode::Off).await;
    let app = whole_app(&env.domain);
    let c = Charger::new(&app, "ENUM-1").await;
    let year_one = "0001-01-01T00:00:00Z";
    let epoch = "1970-01-01T00:00:00Z";
    let before = env.snapshot().await;
    let refused = [
        (
            "/v1/device/heartbeat",
            json!({"timestamp": env.now(), "status": "hacked"}),
            "status",
        ),
        (
            "/v1/device/status",
            json!({"timestamp": epoch, "connector_id": 1, "state": "charging",
            "voltage": 400, "current": 32, "power": 22, "energy_delivered": 1.0}),
            "timestamp",
        ),
        (
            "/v1/device/events",
            json!({"timestamp": year_one, "event_type": "plug_in", "connector_id": 1}),
            "timestamp",
        ),
        (
            "/v1/device/charging-records",
            json!({"record_id": kernel::ids::RecordId::random(), "connector_id": 1,
            "start_time": epoch, "end_time": env.now(), "energy": 1.0}),
            "start_time",
        ),
        (
            "/v1/device/status",
            json!({"timestamp": env.now(), "connector_id": 32, "state": "charging",
            "voltage": 400, "current": 32, "power": 22, "energy_delivered": 1.0}),
            "connector_id",
        ),
        (
            "/v1/device/events",
            json!({"timestamp": env.now(), "event_type": "plug_in", "connector_id": 3}),
            "connector_id",
        ),
        (
            "/v1/device/firmware/status",
            json!({"firmware_version": "2.0\u{202e}", "status": "installed"}),
            "firmware_version",
        ),
        (
            "/v1/device/charging-records",
            json!({"record_id": kernel::ids::RecordId::random(), "connector_id": 1,
            "start_time": env.now(), "end_time": env.now(), "energy": 1.0, "stop_reason": "ok\u{1b}[31m"}),
            "stop_reason",
        ),
        (
            "/v1/device/site",
            json!({"name": "Depot\u{200b}", "lat": 0, "lng": 0, "power_capacity": 1}),
            "name",
        ),
    ];
    for (path, body, field) in refused {
        let r = c.post(&app, path, body.clone()).await;
        assert_eq!(
            status_and_code(&r),
            (422, 42200),
            "{path} {body}: {:?}",
            r.body
        );
        assert_eq!(r.data()["errors"][0]["field"], field, "{path} {body}");
    }
    let serial = call(
        &app,
        "POST",
        "/v1/device/register",
        &[],
        Some(json!({"sn": "SN\u{7}1",
        "model": "TP-AC22", "manufacturer": "T", "firmware_version": "1"})),
    )
    .await;
    assert_eq!(serial.status, 422);
    let model = call(
        &app,
        "POST",
        "/v1/device/register",
        &[],
        Some(json!({"sn": "SN-2",
        "model": "TP\u{1b}AC", "manufacturer": "T", "firmware_version": "1"})),
    )
    .await;
    assert_eq!(model.data()["errors"][0]["field"], "model");
    assert_eq!(env.snapshot().await, before, "nothing was written");
    let kept = c
        .post(
            &app,
            "/v1/device/site",
            json!({"name": "Zoë's Café – 充电站",
        "lat": 0, "lng": 0, "power_capacity": 1}),
        )
        .await;
    assert_eq!(kept.status, 200, "other text is stored as sent");
}

#[tokio::test]
async fn answers_carrying_secrets_are_not_cached() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let admin = env.operator_token(Role::Admin, vec![]).await;
    let reg = testkit::register(&app, "CACHE-1", "TP-AC22", "1.5.0").await;
    let id = reg.data()["device_id"].as_str().unwrap().to_owned();
    let secret = reg.data()["device_secret"].as_str().unwrap().to_owned();
    let client = env
        .domain
        .tenants
        .bootstrap_client(None, None, Role::Viewer, vec![], None)
        .await
        .unwrap();
    let requests = [
        (
            "/v1/device/register",
            None,
            json!({"sn": "CACHE-2", "model": "TP-AC22", "manufacturer": "T", "firmware_version": "1"}),
        ),
        (
            "/v1/device/auth",
            None,
            json!({"device_id": id, "device_secret": secret, "grant_type": "client_credentials"}),
        ),
        (
            "/v1/device/token",
            None,
            json!({"device_id": id, "device_secret": secret, "grant_type": "client_credentials"}),
        ),
        (
            "/v1/oauth/token",
            None,
            json!({"grant_type": "client_credentials", "client_id": client.client_id,
            "client_secret": client.client_secret.expose()}),
        ),
        (
            "/admin/clients",
            Some(admin.as_str()),
            json!({"operator_ids": [], "role": "admin"}),
        ),
    ];
    for (path, token, body) in requests {
        let mut req = axum::http::Request::post(path).header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req.body(axum::body::Body::from(body.to_string())).unwrap();
        let res = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        let headers = res.headers();
        assert_eq!(
            headers.get("cache-control").map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{path}"
        );
        assert_eq!(
            headers.get("pragma").map(|v| v.to_str().unwrap()),
            Some("no-cache"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn messages_speak_the_apis_words_and_answers_carry_no_storage_attributes() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let admin = env.operator_token(Role::Admin, vec![]).await;
    let c = Charger::new(&app, "WORDS-1").await;
    let array = c.post(&app, "/v1/device/site", json!([1, 2, 3])).await;
    assert_eq!(array.status, 400);
    let text = array.body["message"].as_str().unwrap();
    assert!(
        !text.contains("struct") && !text.contains("SiteRequest"),
        "{text}"
    );
    let long = format!("/v1/devices/{}", "x".repeat(10_000));
    let r = call_as(&app, &admin, "GET", &long, None).await;
    assert_eq!(r.status, 404);
    assert!(r.body["message"].as_str().unwrap().len() < 200);
    for path in ["/v1/debug/requests", "/v1/internal/activity"] {
        let r = call_as(&app, &admin, "GET", path, None).await;
        let items = r.data()["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{path}");
        for item in items {
            for attribute in ["ttl", "PK", "SK", "GSI1PK"] {
                assert!(
                    item.get(attribute).is_none(),
                    "{path} shows {attribute}: {item}"
                );
            }
        }
    }
}

#[tokio::test]
async fn lengths_urls_and_oversized_bodies_answer_as_documented() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let admin = env.operator_token(Role::Admin, vec![]).await;
    let viewer = env
        .operator_token(
            Role::Viewer,
            vec![env.domain.settings.default_operator.clone()],
        )
        .await;

    // A question is measured in characters: 251 "é" are 502 bytes.
    let accented = json!({"question": "é".repeat(251)});
    let r = call_as(
        &app,
        &viewer,
        "POST",
        "/v1/intelligence/ask",
        Some(accented),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let long = json!({"question": "é".repeat(501)});
    let r = call_as(&app, &viewer, "POST", "/v1/intelligence/ask", Some(long)).await;
    assert_eq!(status_and_code(&r), (422, 42200), "{:?}", r.body);

    // Firmware images: absolute http(s) URLs with a host, nothing rewritten.
    for url in [
        "https://",
        "https://fw.example.com/a b.bin",
        "https://fw.example.com/\"x\"",
    ] {
        let body = json!({"model": "TP-AC22", "target_version": "9.9.9", "firmware_url": url,
            "operator_id": "acme-charging-uk"});
        let r = call_as(&app, &admin, "POST", "/v1/firmware/campaigns", Some(body)).await;
        assert_eq!(status_and_code(&r), (422, 42200), "{url}: {:?}", r.body);
        assert_eq!(r.data()["errors"][0]["field"], "firmware_url", "{url}");
    }

    // Over 64 KiB is the envelope's 413, as JSON, on every kind of route.
    let padding = "x".repeat(70 * 1024);
    for path in [
        "/v1/oauth/token",
        "/customer/query_token",
        "/cp/start_charging",
    ] {
        let body = json!({"grant_type": "client_credentials", "client_id": "a",
            "client_secret": "b", "pad": padding});
        let r = call(&app, "POST", path, &[], Some(body)).await;
        assert_eq!(status_and_code(&r), (413, 41300), "{path}: {:?}", r.body);
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
    }
    // A route that reads no body refuses one over the limit too, and acts
    // on nothing: the charge point's password stays.
    let provisioned = call_as(
        &app,
        &admin,
        "POST",
        "/v1/ocpp/charge-points",
        Some(json!({"charge_point_id": "BIG-BODY-1"})),
    )
    .await;
    assert_eq!(provisioned.status, 201, "{:?}", provisioned.body);
    let r = call_as(
        &app,
        &admin,
        "POST",
        "/v1/ocpp/charge-points/BIG-BODY-1/password",
        Some(json!({"pad": padding})),
    )
    .await;
    assert_eq!(status_and_code(&r), (413, 41300), "{:?}", r.body);
    let login = env
        .domain
        .charge_points
        .charge_point_login(
            "BIG-BODY-1",
            provisioned.data()["password"].as_str(),
            "192.0.2.1",
        )
        .await;
    assert!(login.is_ok(), "the password was not rotated");
}
