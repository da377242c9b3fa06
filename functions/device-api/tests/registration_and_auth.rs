//! Registration policy, credentials and tokens (contract §3).

mod common;

use chrono::Duration;
use common::*;
use serde_json::json;
use testkit::{TestEnv, authenticate, call, call_from};

#[tokio::test]
async fn registration_returns_an_id_a_64_hex_secret_and_the_token_lifetime() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let reg = register(&app, "ACME-COV-001").await;
    assert_eq!(reg.status, 200);
    let secret = reg.data()["device_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 64);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(reg.data()["expires_in"], 86400);
    assert!(uuid_ok(reg.data()["device_id"].as_str().unwrap()));
}

fn uuid_ok(s: &str) -> bool {
    kernel::ids::DeviceId::parse(s).is_some()
}

#[tokio::test]
async fn the_secret_is_stored_only_as_a_hash() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "ACME-HASH").await;
    let dump = format!("{:?}", env.all_items().await);
    assert!(!dump.contains(&c.secret), "the plain secret is stored");
    assert!(!dump.contains(&c.token), "the token is stored");
}

#[tokio::test]
async fn a_second_registration_of_a_serial_without_proof_is_a_conflict() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let first = charger(&app, "ACME-DUP").await;
    let again = register(&app, "ACME-DUP").await;
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), 40900);
    assert_eq!(env.items_with_pk_prefix("SN#").await, 1);
    assert_eq!(
        env.items_with_pk_prefix("DEV#").await,
        2,
        "one device and its listing item"
    );
    // The first charger's credentials still work.
    assert_eq!(
        authenticate(&app, &first.id, &first.secret).await.status,
        200
    );
}

#[tokio::test]
async fn re_registering_with_the_current_secret_rotates_it_and_kills_old_tokens() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let old = charger(&app, "ACME-ROT").await;
    let rotated = call(
        &app,
        "POST",
        "/v1/device/register",
        &[],
        Some(
            json!({"sn": "ACME-ROT", "model": "TP-AC22", "manufacturer": "Tellus Power",
                    "firmware_version": "1.6.0", "device_secret": old.secret}),
        ),
    )
    .await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    assert_eq!(rotated.data()["device_id"], old.id.as_str(), "same device");
    let new_secret = rotated.data()["device_secret"].as_str().unwrap();
    assert_ne!(new_secret, old.secret);

    let hb = json!({"timestamp": env.now(), "status": "online"});
    assert_eq!(
        old.post(&app, "/v1/device/heartbeat", hb.clone())
            .await
            .status,
        401
    );
    assert_eq!(authenticate(&app, &old.id, &old.secret).await.status, 401);
    let fresh = authenticate(&app, &old.id, new_secret).await;
    assert_eq!(fresh.status, 200);
    let bearer = format!("Bearer {}", fresh.body["access_token"].as_str().unwrap());
    let beat = call(
        &app,
        "POST",
        "/v1/device/heartbeat",
        &[("authorization", &bearer)],
        Some(hb),
    )
    .await;
    assert_eq!(beat.status, 200);
    let device = env.store_device(&old).await;
    assert_eq!(device.firmware_version, "1.6.0");
}

#[tokio::test]
async fn re_registering_with_a_valid_token_rotates_too() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "ACME-TOK").await;
    let bearer = format!("Bearer {}", c.token);
    let body = json!({"sn": "ACME-TOK", "model": "TP-AC22", "manufacturer": "Tellus Power", "firmware_version": "1.5.0"});
    let again = call(
        &app,
        "POST",
        "/v1/device/register",
        &[("authorization", &bearer)],
        Some(body),
    )
    .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.data()["device_id"], c.id.as_str());
}

#[tokio::test]
async fn staging_may_allow_re_registration_without_proof() {
    let env = TestEnv::with_settings(|s| s.allow_reregister = true).await;
    let app = app(&env);
    let c = charger(&app, "TWIN-1").await;
    let again = register(&app, "TWIN-1").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.data()["device_id"], c.id.as_str());
    assert_eq!(
        authenticate(&app, &c.id, &c.secret).await.status,
        401,
        "rotated"
    );
}

#[tokio::test]
async fn a_configured_provisioning_key_is_required_to_register_and_to_add_sites() {
    let env =
        TestEnv::with_settings(|s| s.provisioning_key = Some("let-me-in".to_owned().into())).await;
    let app = app(&env);
    let body = json!({"sn": "ACME-PK", "model": "TP-AC22", "manufacturer": "Tellus Power", "firmware_version": "1.5.0"});
    let none = call(&app, "POST", "/v1/device/register", &[], Some(body.clone())).await;
    assert_eq!((none.status.as_u16(), none.code()), (401, 40100));
    let wrong = call(
        &app,
        "POST",
        "/v1/device/register",
        &[("x-provisioning-key", "nope")],
        Some(body.clone()),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(env.items_with_pk_prefix("DEV#").await, 0);
    let right = call(
        &app,
        "POST",
        "/v1/device/register",
        &[("x-provisioning-key", "let-me-in")],
        Some(body),
    )
    .await;
    assert_eq!(right.status, 200);

    let site = json!({"name": "Depot", "lat": 52.0, "lng": -1.0, "power_capacity": 50});
    let refused = call(&app, "POST", "/v1/device/site", &[], Some(site.clone())).await;
    assert_eq!(refused.status, 401);
    let allowed = call(
        &app,
        "POST",
        "/v1/device/site",
        &[("x-provisioning-key", "let-me-in")],
        Some(site),
    )
    .await;
    assert_eq!(allowed.status, 200);
}

#[tokio::test]
async fn tokens_are_64_hex_and_die_after_24_hours() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "ACME-TTL").await;
    assert_eq!(c.token.len(), 64);
    let auth = authenticate(&app, &c.id, &c.secret).await;
    assert_eq!(auth.body["token_type"], "Bearer");
    assert_eq!(auth.body["expires_in"], 86400);
    assert_eq!(
        auth.data()["access_token"],
        auth.body["access_token"],
        "both shapes"
    );
    env.clock.advance(Duration::hours(23));
    let hb = || json!({"timestamp": env.now(), "status": "online"});
    assert_eq!(c.post(&app, "/v1/device/heartbeat", hb()).await.status, 200);
    env.clock.advance(Duration::hours(1));
    let expired = c.post(&app, "/v1/device/heartbeat", hb()).await;
    assert_eq!((expired.status.as_u16(), expired.code()), (401, 40100));
}

#[tokio::test]
async fn the_token_alias_route_issues_tokens_too() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "ACME-ALIAS").await;
    let body =
        json!({"device_id": c.id, "device_secret": c.secret, "grant_type": "client_credentials"});
    let reply = call(&app, "POST", "/v1/device/token", &[], Some(body)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["access_token"].as_str().unwrap().len(), 64);
}

#[tokio::test]
async fn wrong_credentials_are_40101_and_other_grant_types_400() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "ACME-WRONG").await;
    let wrong = authenticate(&app, &c.id, &"0".repeat(64)).await;
    assert_eq!((wrong.status.as_u16(), wrong.code()), (401, 40101));
    let unknown = authenticate(
        &app,
        &kernel::ids::DeviceId::random().to_string(),
        &c.secret,
    )
    .await;
    assert_eq!(unknown.code(), 40101);
    let body = json!({"device_id": c.id, "device_secret": c.secret, "grant_type": "password"});
    let grant = call(&app, "POST", "/v1/device/auth", &[], Some(body)).await;
    assert_eq!((grant.status.as_u16(), grant.code()), (400, 40000));
}

fn auth_body(id: &str, secret: &str) -> serde_json::Value {
    json!({"device_id": id, "device_secret": secret, "grant_type": "client_credentials"})
}

#[tokio::test]
async fn a_throttled_address_gets_429_right_or_wrong_and_the_owner_elsewhere_is_unaffected() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "ACME-RATE").await;
    let neighbour = charger(&app, "ACME-RATE-2").await;
    let (attacker, owner) = ("198.51.100.7", "203.0.113.9");
    let wrong = auth_body(&c.id, &"f".repeat(64));
    let mut statuses = Vec::new();
    for _ in 0..30 {
        let r = call_from(
            &app,
            attacker,
            "POST",
            "/v1/device/auth",
            Some(wrong.clone()),
        )
        .await;
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses[..10], [401; 10]);
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    // The right secret from the throttled address tells the guesser nothing.
    let right = auth_body(&c.id, &c.secret);
    let guessed = call_from(
        &app,
        attacker,
        "POST",
        "/v1/device/auth",
        Some(right.clone()),
    )
    .await;
    assert_eq!((guessed.status.as_u16(), guessed.code()), (429, 42900));
    assert!(guessed.body.get("access_token").is_none());
    // The charger itself, from its own address, and another charger behind
    // the attacker's address are not locked out.
    let rightful = call_from(&app, owner, "POST", "/v1/device/auth", Some(right.clone())).await;
    assert_eq!(rightful.status, 200, "the owner elsewhere is unaffected");
    let next_door = auth_body(&neighbour.id, &neighbour.secret);
    let next_door = call_from(&app, attacker, "POST", "/v1/device/auth", Some(next_door)).await;
    assert_eq!(next_door.status, 200, "another device from that address");
    env.clock.advance(Duration::minutes(5));
    let later = call_from(&app, attacker, "POST", "/v1/device/auth", Some(right)).await;
    assert_eq!(later.status, 200, "a new window");
}

#[tokio::test]
async fn open_registration_is_throttled_per_address() {
    let env = TestEnv::with_settings(|s| s.registration_limit.attempts = 3).await;
    let app = app(&env);
    let body = |sn: &str| json!({"sn": sn, "model": "TP-AC22", "manufacturer": "Tellus Power", "firmware_version": "1.5.0"});
    for i in 0..3 {
        let r = call_from(
            &app,
            "198.51.100.7",
            "POST",
            "/v1/device/register",
            Some(body(&format!("FLOOD-{i}"))),
        )
        .await;
        assert_eq!(r.status, 200);
    }
    let flood = call_from(
        &app,
        "198.51.100.7",
        "POST",
        "/v1/device/register",
        Some(body("FLOOD-3")),
    )
    .await;
    assert_eq!((flood.status.as_u16(), flood.code()), (429, 42900));
    let other = call_from(
        &app,
        "203.0.113.9",
        "POST",
        "/v1/device/register",
        Some(body("FLOOD-4")),
    )
    .await;
    assert_eq!(other.status, 200);

    let keyed = TestEnv::with_settings(|s| {
        s.registration_limit.attempts = 1;
        s.provisioning_key = Some("k".to_owned().into());
    })
    .await;
    let keyed_app = common::app(&keyed);
    for i in 0..3 {
        let req = axum::http::Request::post("/v1/device/register")
            .header("content-type", "application/json")
            .header("x-provisioning-key", "k")
            .body(axum::body::Body::from(
                body(&format!("KEYED-{i}")).to_string(),
            ))
            .unwrap();
        assert_eq!(
            testkit::send(&keyed_app, req).await.status,
            200,
            "a provisioning key is the limit"
        );
    }
}

#[tokio::test]
async fn device_routes_need_a_valid_bearer_token() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let hb = json!({"timestamp": env.now(), "status": "online"});
    let none = call(&app, "POST", "/v1/device/heartbeat", &[], Some(hb.clone())).await;
    assert_eq!((none.status.as_u16(), none.code()), (401, 40100));
    let forged = format!("Bearer {}", "ab".repeat(32));
    let bad = call(
        &app,
        "POST",
        "/v1/device/heartbeat",
        &[("authorization", &forged)],
        Some(hb),
    )
    .await;
    assert_eq!(bad.status, 401);
    let poll = call(
        &app,
        "GET",
        "/v1/device/commands?wait=0",
        &[("authorization", "Basic abc")],
        None,
    )
    .await;
    assert_eq!(poll.status, 401);
}

trait StoreDevice {
    async fn store_device(&self, c: &Charger) -> kernel::model::Device;
}

impl StoreDevice for TestEnv {
    async fn store_device(&self, c: &Charger) -> kernel::model::Device {
        use domain::storage::ports::*;
        self.store.get_device(c.device_id()).await.unwrap().unwrap()
    }
}
