//! Two operators share one deployment and never see each other's fleet:
//! every console route is called with each tenant's token.

use chrono::Duration;
use domain::Clock;
use domain::ids::OperatorId;
use domain::model::{Operator, Role};
use serde_json::{Value, json};
use system_tests::whole_app;
use testkit::{Reply, TestEnv, call};

struct Tenant {
    operator: String,
    token: String,
    viewer_token: String,
    site_id: String,
    device_id: String,
    record_id: String,
    command_id: String,
}

async fn get(app: &axum::Router, token: &str, path: &str) -> Reply {
    let bearer = format!("Bearer {token}");
    call(app, "GET", path, &[("authorization", &bearer)], None).await
}

async fn post(app: &axum::Router, token: Option<&str>, path: &str, body: Value) -> Reply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("authorization", b.as_str()))
        .collect();
    call(app, "POST", path, &headers, Some(body)).await
}

async fn client_token(env: &TestEnv, role: Role, operator: &OperatorId) -> String {
    let c = env
        .domain
        .bootstrap_client(None, None, role, vec![operator.clone()], None)
        .await
        .unwrap();
    env.domain
        .issue_operator_token(&c.client_id, &c.client_secret, "client_credentials")
        .await
        .unwrap()
        .access_token
}

/// An operator with a site, a charger in it that charged, a CDR and a command.
async fn tenant(env: &TestEnv, app: &axum::Router, slug: &str) -> Tenant {
    let operator = OperatorId::parse(slug).unwrap();
    env.domain
        .store
        .ensure_operator(&Operator {
            id: operator.clone(),
            name: slug.into(),
            country: "GB".into(),
            status: "active".into(),
        })
        .await
        .unwrap();
    let token = client_token(env, Role::Operator, &operator).await;
    let viewer_token = client_token(env, Role::Viewer, &operator).await;
    let reg = post(
        app,
        None,
        "/v1/device/register",
        json!({"sn": format!("{slug}-1"),
        "model": "TP-AC22", "manufacturer": "Tellus Power", "firmware_version": "1.5.0"}),
    )
    .await;
    let device_id = reg.data()["device_id"].as_str().unwrap().to_owned();
    let secret = reg.data()["device_secret"].as_str().unwrap().to_owned();
    let site = post(app, Some(&token), "/v1/device/site", json!({"name": format!("{slug} depot"),
        "operator_id": slug, "lat": 52.0, "lng": -1.0, "power_capacity": 50, "device_ids": [device_id]})).await;
    assert_eq!(site.status, 200, "{:?}", site.body);
    let site_id = site.data()["site_id"].as_str().unwrap().to_owned();
    let auth = post(
        app,
        None,
        "/v1/device/auth",
        json!({"device_id": device_id,
        "device_secret": secret, "grant_type": "client_credentials"}),
    )
    .await;
    let device_token = auth.body["access_token"].as_str().unwrap().to_owned();
    let now = env.clock.now();
    let at = |s: i64| domain::validate::rfc3339(now - Duration::seconds(s));
    for (s, energy) in [(60, 0.5), (30, 1.5)] {
        post(app, Some(&device_token), "/v1/device/status", json!({"timestamp": at(s), "connector_id": 1,
            "state": "charging", "voltage": 400, "current": 50, "power": 20, "energy_delivered": energy, "soc": 40})).await;
    }
    post(
        app,
        Some(&device_token),
        "/v1/device/heartbeat",
        json!({"timestamp": at(0), "status": "online"}),
    )
    .await;
    let record_id = domain::ids::RecordId::random().to_string();
    let cdr = post(app, Some(&device_token), "/v1/device/charging-records", json!({"record_id": record_id,
        "connector_id": 1, "start_time": at(600), "end_time": at(0), "energy": 1.5, "currency": "GBP", "cost": 0.5})).await;
    assert_eq!(cdr.status, 200);
    let device = env
        .domain
        .store
        .get_device(domain::ids::DeviceId::parse(&device_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let command = env
        .domain
        .enqueue_command(
            &device,
            Some(1),
            domain::model::CommandKind::Reboot,
            Default::default(),
        )
        .await
        .unwrap();
    Tenant {
        operator: slug.into(),
        token,
        viewer_token,
        site_id,
        device_id,
        record_id,
        command_id: command.command_id.to_string(),
    }
}

fn ids(reply: &Reply, field: &str) -> Vec<String> {
    let list = reply.data()["items"]
        .as_array()
        .or_else(|| reply.data().as_array())
        .unwrap();
    list.iter()
        .map(|i| i[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn no_console_route_shows_one_tenant_anything_of_another() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let a = tenant(&env, &app, "acme-charging-uk").await;
    let b = tenant(&env, &app, "volt-uk").await;
    for (me, other) in [(&a, &b), (&b, &a)] {
        for token in [&me.token, &me.viewer_token] {
            let ops = get(&app, token, "/v1/operators").await;
            assert_eq!(ids(&ops, "id"), vec![me.operator.clone()]);
            let sites = get(&app, token, "/v1/sites").await;
            assert_eq!(ids(&sites, "site_id"), vec![me.site_id.clone()]);
            let devices = get(&app, token, "/v1/devices").await;
            assert_eq!(ids(&devices, "device_id"), vec![me.device_id.clone()]);
            let records = get(&app, token, "/v1/charging-records").await;
            assert_eq!(ids(&records, "record_id"), vec![me.record_id.clone()]);
            let firmware = get(&app, token, "/v1/firmware/versions").await;
            assert_eq!(firmware.data()["summary"]["total_devices"], 1);

            let mine = [
                format!("/v1/operators/{}", me.operator),
                format!("/v1/sites/{}", me.site_id),
                format!("/v1/devices/{}", me.device_id),
                format!("/v1/devices/{}/connectors", me.device_id),
                format!("/v1/charging-records/{}", me.record_id),
                format!("/v1/commands/{}", me.command_id),
                format!("/v1/aggregated/energy?site_id={}", me.site_id),
                format!("/v1/aggregated/energy?device_id={}", me.device_id),
                format!("/v1/devices?site_id={}", me.site_id),
            ];
            for path in &mine {
                assert_eq!(get(&app, token, path).await.status, 200, "{path}");
            }
            let theirs = [
                format!("/v1/operators/{}", other.operator),
                format!("/v1/sites/{}", other.site_id),
                format!("/v1/devices/{}", other.device_id),
                format!("/v1/devices/{}/connectors", other.device_id),
                format!("/v1/charging-records/{}", other.record_id),
                format!("/v1/commands/{}", other.command_id),
                format!("/v1/aggregated/energy?site_id={}", other.site_id),
                format!("/v1/aggregated/energy?device_id={}", other.device_id),
                format!("/v1/devices?site_id={}", other.site_id),
            ];
            for path in &theirs {
                let r = get(&app, token, path).await;
                assert_eq!(
                    (r.status.as_u16(), r.code()),
                    (404, 40400),
                    "{path} leaks: {:?}",
                    r.body
                );
            }
        }
    }
}

#[tokio::test]
async fn a_platform_admin_sees_every_tenant() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let a = tenant(&env, &app, "acme-charging-uk").await;
    let b = tenant(&env, &app, "volt-uk").await;
    let admin = env
        .domain
        .bootstrap_client(None, None, Role::Admin, vec![], None)
        .await
        .unwrap();
    let token = env
        .domain
        .issue_operator_token(&admin.client_id, &admin.client_secret, "client_credentials")
        .await
        .unwrap()
        .access_token;
    let mut sites = ids(&get(&app, &token, "/v1/sites").await, "site_id");
    sites.sort();
    let mut expected = vec![a.site_id.clone(), b.site_id.clone()];
    expected.sort();
    assert_eq!(sites, expected);
    assert_eq!(
        get(&app, &token, &format!("/v1/commands/{}", b.command_id))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn roles_and_token_kinds_are_kept_apart() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let a = tenant(&env, &app, "acme-charging-uk").await;
    for path in ["/v1/internal/activity", "/v1/debug/requests"] {
        let r = get(&app, &a.viewer_token, path).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, 40300), "{path}");
        assert_eq!(get(&app, &a.token, path).await.status, 403, "{path}");
    }
    let op = post(
        &app,
        Some(&a.viewer_token),
        "/admin/operators",
        json!({"id": "sneaky", "name": "Sneaky", "country": "GB"}),
    )
    .await;
    assert_eq!(op.status, 403);
    let client = post(
        &app,
        Some(&a.token),
        "/admin/clients",
        json!({"operator_ids": ["acme-charging-uk"], "role": "admin"}),
    )
    .await;
    assert_eq!(client.status, 403);

    // An operator token on a device route, a device token on a console route.
    let hb = post(
        &app,
        Some(&a.token),
        "/v1/device/heartbeat",
        json!({"timestamp": domain::validate::rfc3339(env.clock.now()), "status": "online"}),
    )
    .await;
    assert_eq!(hb.status, 401);
    let reg = post(
        &app,
        None,
        "/v1/device/register",
        json!({"sn": "TOKEN-KIND",
        "model": "TP-AC22", "manufacturer": "Tellus Power", "firmware_version": "1.5.0"}),
    )
    .await;
    let auth = post(
        &app,
        None,
        "/v1/device/auth",
        json!({"device_id": reg.data()["device_id"],
        "device_secret": reg.data()["device_secret"], "grant_type": "client_credentials"}),
    )
    .await;
    let device_token = auth.body["access_token"].as_str().unwrap();
    let sites = get(&app, device_token, "/v1/sites").await;
    assert_eq!((sites.status.as_u16(), sites.code()), (401, 40100));
}

#[tokio::test]
async fn an_operator_client_cannot_place_a_site_under_another_operator() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let a = tenant(&env, &app, "acme-charging-uk").await;
    let b = tenant(&env, &app, "volt-uk").await;
    // B's device, claimed into a new site by A's operator client: 403.
    let grab = post(
        &app,
        Some(&a.token),
        "/v1/device/site",
        json!({"name": "grab",
        "operator_id": "acme-charging-uk", "lat": 51.0, "lng": 0.0, "power_capacity": 10,
        "device_ids": [b.device_id]}),
    )
    .await;
    assert_eq!(grab.status, 403);
    // A names B as the operator: A has no authority there, so it is A's default.
    let named = post(
        &app,
        Some(&a.token),
        "/v1/device/site",
        json!({"name": "named",
        "operator_id": "volt-uk", "lat": 51.0, "lng": 0.0, "power_capacity": 10}),
    )
    .await;
    let id = named.data()["site_id"].as_str().unwrap();
    let seen_by_b = get(&app, &b.token, &format!("/v1/sites/{id}")).await;
    assert_eq!(seen_by_b.status, 404);
}
