//! The console read API: what operators see must agree with what the
//! chargers reported, with live status derived at read time.

use chrono::Duration;
use kernel::Clock;
use kernel::model::Role;
use serde_json::json;
use system_tests::whole_app;
use testkit::{Charger, Reply, TestEnv, call, call_as};

struct Console {
    app: axum::Router,
    token: String,
}

impl Console {
    async fn admin(env: &TestEnv) -> Self {
        let app = whole_app(&env.domain);
        let token = env.operator_token(Role::Admin, vec![]).await;
        Self { app, token }
    }

    async fn get(&self, path: &str) -> Reply {
        call_as(&self.app, &self.token, "GET", path, None).await
    }
}

async fn charger(app: &axum::Router, sn: &str, firmware: &str) -> Charger {
    Charger::of_model(app, sn, "TP-AC22", firmware).await
}

async fn charger_of(app: &axum::Router, sn: &str, model: &str, firmware: &str) -> Charger {
    Charger::of_model(app, sn, model, firmware).await
}

fn at(env: &TestEnv, offset_s: i64) -> String {
    kernel::input::rfc3339(env.clock.now() + Duration::seconds(offset_s))
}

#[tokio::test]
async fn devices_go_offline_after_three_missed_heartbeats_and_sites_summarise_connectors() {
    let env = TestEnv::new().await;
    let console = Console::admin(&env).await;
    let app = &console.app;
    let a = charger(app, "SUM-A", "1.5.0").await;
    let b = charger(app, "SUM-B", "1.5.0").await;
    let site = call(
        app,
        "POST",
        "/v1/device/site",
        &[],
        Some(json!({"name": "Summary", "lat": 52.0,
        "lng": -1.0, "power_capacity": 100, "device_ids": [a.id, b.id]})),
    )
    .await;
    let site_id = site.data()["site_id"].as_str().unwrap().to_owned();
    let sample = |c: u32, state: &str, power: f64| {
        json!({"timestamp": at(&env, -5), "connector_id": c,
        "state": state, "voltage": 400, "current": 10, "power": power, "energy_delivered": 1.0, "soc": 50})
    };
    a.post(app, "/v1/device/status", sample(1, "charging", 22.0))
        .await;
    a.post(app, "/v1/device/status", sample(2, "idle", 0.0))
        .await;
    b.post(app, "/v1/device/status", sample(1, "fault", 0.0))
        .await;
    for c in [&a, &b] {
        c.post(
            app,
            "/v1/device/heartbeat",
            json!({"timestamp": at(&env, 0), "status": "online"}),
        )
        .await;
    }

    let detail = console.get(&format!("/v1/sites/{site_id}")).await;
    assert_eq!(detail.data()["total_connectors"], 3);
    assert_eq!(
        detail.data()["status_summary"],
        json!({"idle": 1, "charging": 1, "discharging": 0, "fault": 1, "offline": 0})
    );
    assert_eq!(detail.data()["current_power"], 22.0);
    assert_eq!(detail.data()["location"], json!({"lat": 52.0, "lng": -1.0}));
    let device = console.get(&format!("/v1/devices/{}", b.id)).await;
    assert_eq!(device.data()["status"], "fault");
    let faults = console.get("/v1/devices?status=fault").await;
    assert_eq!(faults.data()["total"], 1);

    env.clock.advance(Duration::seconds(91));
    let later = console.get(&format!("/v1/sites/{site_id}")).await;
    assert_eq!(later.data()["status_summary"]["offline"], 3);
    let a_now = console.get(&format!("/v1/devices/{}", a.id)).await;
    assert_eq!(a_now.data()["status"], "offline");
    let connectors = console
        .get(&format!("/v1/devices/{}/connectors", a.id))
        .await;
    assert_eq!(connectors.data()["total"], 2);
    assert_eq!(connectors.data()["items"][0]["status"], "charging");
}

#[tokio::test]
async fn the_energy_series_has_every_bucket_and_totals_from_the_roll_ups() {
    let env = TestEnv::new().await;
    let console = Console::admin(&env).await;
    let app = &console.app;
    let c = charger(app, "NRG-1", "1.5.0").await;
    let now = env.clock.now();
    for (offset, energy, power) in [(-7200, 0.0, 10.0), (-7100, 2.0, 30.0), (-60, 2.5, 20.0)] {
        let r = c.post(app, "/v1/device/status", json!({"timestamp": at(&env, offset), "connector_id": 1,
            "state": "charging", "voltage": 400, "current": 50, "power": power, "energy_delivered": energy, "soc": 50})).await;
        assert_eq!(r.status, 200);
    }
    let from = kernel::input::rfc3339(now - Duration::hours(3));
    let to = kernel::input::rfc3339(now);
    let r = console
        .get(&format!(
            "/v1/aggregated/energy?granularity=hour&device_id={}&from={from}&to={to}",
            c.id
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let series = r.data()["series"].as_array().unwrap();
    assert!(series.len() >= 3 && series.len() <= 4, "{}", series.len());
    assert!(
        series.iter().any(|p| p["charge_energy"] == 0.0),
        "empty hours are zeros"
    );
    assert!((r.data()["total"]["charge_energy"].as_f64().unwrap() - 2.5).abs() < 1e-9);
    assert_eq!(r.data()["total"]["max_power"], 30.0);

    let day = console
        .get(&format!(
            "/v1/aggregated/energy?granularity=day&device_id={}",
            c.id
        ))
        .await;
    assert!((day.data()["total"]["charge_energy"].as_f64().unwrap() - 2.5).abs() < 1e-9);
    let too_long = console
        .get(&format!("/v1/aggregated/energy?granularity=hour&device_id={}&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", c.id))
        .await;
    assert_eq!(too_long.status, 422);
    let no_scope = console.get("/v1/aggregated/energy").await;
    assert_eq!(no_scope.status, 422);
}

#[tokio::test]
async fn firmware_adoption_orders_versions_as_numbers() {
    let env = TestEnv::new().await;
    let console = Console::admin(&env).await;
    // A model the catalogue does not know: the newest version seen is latest.
    for (sn, fw) in [("FW-A", "1.9.0"), ("FW-B", "1.10.0"), ("FW-C", "1.10.0")] {
        charger_of(&console.app, sn, "HB-11", fw).await;
    }
    // A catalogued model: its release is latest even if nobody runs it.
    charger_of(&console.app, "FW-D", "TP-AC22", "250101.0900").await;
    let r = console.get("/v1/firmware/versions").await;
    let items = r.data()["items"].as_array().unwrap();
    let catalogued = items.iter().find(|m| m["model"] == "TP-AC22").unwrap();
    assert_eq!(catalogued["latest_version"], "260122.1606");
    assert_eq!(catalogued["on_latest"], 0);
    let model = items.iter().find(|m| m["model"] == "HB-11").unwrap();
    assert_eq!(model["latest_version"], "1.10.0");
    assert_eq!(model["on_latest"], 2);
    assert_eq!(model["adoption_percentage"], 66.7);
    assert_eq!(model["versions"][0]["version"], "1.10.0");
    assert_eq!(r.data()["summary"]["total_devices"], 4);
    assert_eq!(r.data()["summary"]["on_latest"], 2);
}

#[tokio::test]
async fn records_come_newest_first_filtered_and_paged() {
    let env = TestEnv::new().await;
    let console = Console::admin(&env).await;
    let app = &console.app;
    let a = charger(app, "REC-A", "1.5.0").await;
    let b = charger(app, "REC-B", "1.5.0").await;
    for (c, start) in [(&a, -3600), (&a, -1800), (&b, -900)] {
        let r = c.post(app, "/v1/device/charging-records", json!({"record_id": kernel::ids::RecordId::random().to_string(),
            "connector_id": 1, "start_time": at(&env, start), "end_time": at(&env, start + 600), "energy": 3.0})).await;
        assert_eq!(r.status, 200);
    }
    let all = console.get("/v1/charging-records").await;
    assert_eq!(all.data()["total"], 3);
    let starts: Vec<_> = all.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["start_time"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = starts.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(starts, sorted, "newest first");
    let mine = console
        .get(&format!("/v1/charging-records?device_id={}", a.id))
        .await;
    assert_eq!(mine.data()["total"], 2);
    let page2 = console.get("/v1/charging-records?page=2&size=2").await;
    assert_eq!(page2.data()["items"].as_array().unwrap().len(), 1);
    assert_eq!(page2.data()["page"], 2);
    let recent = console
        .get(&format!("/v1/charging-records?from={}", at(&env, -1000)))
        .await;
    assert_eq!(recent.data()["total"], 1);
}

#[tokio::test]
async fn the_activity_feed_polls_forward_with_its_cursor() {
    let env = TestEnv::new().await;
    let console = Console::admin(&env).await;
    let c = charger(&console.app, "ACT-1", "1.5.0").await;
    let first = console.get("/v1/internal/activity").await;
    let kinds: Vec<_> = first.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["device.registered"]);
    let cursor = first.data()["cursor"].as_str().unwrap().to_owned();
    env.clock.advance(Duration::seconds(1));
    c.post(
        &console.app,
        "/v1/device/events",
        json!({"timestamp": at(&env, 0), "event_type": "plug_in", "connector_id": 1}),
    )
    .await;
    let next = console
        .get(&format!("/v1/internal/activity?since={cursor}"))
        .await;
    let kinds: Vec<_> = next.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["connector.plug_in"]);
}

#[tokio::test]
async fn the_request_log_is_shared_and_holds_no_secret() {
    let env = TestEnv::new().await;
    let console = Console::admin(&env).await;
    let client = env
        .domain
        .tenants
        .bootstrap_client(None, None, Role::Viewer, vec![], None)
        .await
        .unwrap();
    let secret = client.client_secret.expose().clone();
    let token = call(
        &console.app,
        "POST",
        "/v1/oauth/token",
        &[],
        Some(json!({"grant_type": "client_credentials",
        "client_id": client.client_id, "client_secret": secret})),
    )
    .await;
    assert_eq!(token.status, 200, "{:?}", token.body);
    let c = charger(&console.app, "LOG-1", "1.5.0").await;
    c.post(
        &console.app,
        "/v1/device/heartbeat",
        json!({"timestamp": at(&env, 0), "status": "online"}),
    )
    .await;
    let log = console.get("/v1/debug/requests").await;
    let items = log.data()["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|i| i["path"] == "/v1/device/heartbeat"
                && i["caller"] == format!("device:{}", c.id))
    );
    assert!(
        items
            .iter()
            .any(|i| i["path"] == "/v1/oauth/token" && i["status"] == 200)
    );
    let text = log.body.to_string();
    let issued = token.body["access_token"].as_str().unwrap();
    assert!(
        !text.contains(&c.token)
            && !text.contains(&console.token)
            && !text.contains(issued)
            && !text.contains(&secret),
        "a token or secret leaked"
    );
    assert!(!text.contains("Bearer"));
}

#[tokio::test]
async fn operator_tokens_come_from_json_form_or_basic_credentials() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let op = env.domain.settings.default_operator.clone();
    let c = env
        .domain
        .tenants
        .bootstrap_client(None, None, Role::Viewer, vec![op], None)
        .await
        .unwrap();
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        c.client_id,
        c.client_secret.expose()
    );
    let req = axum::http::Request::post("/v1/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(form))
        .unwrap();
    let r = testkit::send(&app, req).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.data()["expires_in"], 86400);

    use base64_like::encode;
    let basic = format!(
        "Basic {}",
        encode(&format!("{}:{}", c.client_id, c.client_secret.expose()))
    );
    let r = call(
        &app,
        "POST",
        "/v1/oauth/token",
        &[("authorization", &basic)],
        Some(json!({"grant_type": "client_credentials"})),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    let wrong = call(
        &app,
        "POST",
        "/v1/oauth/token",
        &[],
        Some(json!({"grant_type": "client_credentials",
        "client_id": c.client_id, "client_secret": "x".repeat(64)})),
    )
    .await;
    assert_eq!((wrong.status.as_u16(), wrong.code()), (401, 40101));
    let dump = format!("{:?}", env.all_items().await);
    assert!(
        !dump.contains(c.client_secret.expose().as_str()),
        "client secret stored in plain"
    );
}

#[tokio::test]
async fn operator_tokens_expire_after_24_hours() {
    let env = TestEnv::new().await;
    let console = Console::admin(&env).await;
    assert_eq!(console.get("/v1/operators").await.status, 200);
    env.clock.advance(Duration::hours(24));
    assert_eq!(console.get("/v1/operators").await.status, 401);
}

/// Standard base64 for a Basic header, without another dependency.
mod base64_like {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

#[tokio::test]
async fn a_json_token_request_labelled_as_a_form_is_read_as_json() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let op = env.domain.settings.default_operator.clone();
    let c = env
        .domain
        .tenants
        .bootstrap_client(None, None, Role::Viewer, vec![op], None)
        .await
        .unwrap();
    let body = json!({"grant_type": "client_credentials", "client_id": c.client_id,
        "client_secret": c.client_secret});
    let req = axum::http::Request::post("/v1/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    assert_eq!(testkit::send(&app, req).await.status, 200);
}

#[tokio::test]
async fn a_from_beyond_every_record_lists_nothing() {
    let env = TestEnv::new().await;
    let console = Console::admin(&env).await;
    let far = console
        .get("/v1/charging-records?from=7505-04-07T07:29:37.6%2B17:52")
        .await;
    assert_eq!(far.status, 200, "{:?}", far.body);
    assert_eq!(far.data()["total"], 0);
}

#[tokio::test]
async fn a_guessed_client_secret_gets_429_from_a_throttled_address_even_when_right() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let op = env.domain.settings.default_operator.clone();
    let c = env
        .domain
        .tenants
        .bootstrap_client(None, None, Role::Viewer, vec![op], None)
        .await
        .unwrap();
    let body = |secret: &str| {
        json!({"grant_type": "client_credentials", "client_id": c.client_id,
            "client_secret": secret})
    };
    let (guesser, owner) = ("198.51.100.20", "203.0.113.20");
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let wrong = body(&"x".repeat(64));
        let r = testkit::call_from(&app, guesser, "POST", "/v1/oauth/token", Some(wrong)).await;
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses[..10], [401; 10], "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    let right = body(c.client_secret.expose());
    let guessed = testkit::call_from(
        &app,
        guesser,
        "POST",
        "/v1/oauth/token",
        Some(right.clone()),
    )
    .await;
    assert_eq!((guessed.status.as_u16(), guessed.code()), (429, 42900));
    assert!(guessed.body.get("access_token").is_none());
    let rightful = testkit::call_from(&app, owner, "POST", "/v1/oauth/token", Some(right)).await;
    assert_eq!(rightful.status, 200, "{:?}", rightful.body);
}
