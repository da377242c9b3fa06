//! Two operators share one deployment and never see each other's fleet:
//! every console route is called with each tenant's token.

use chrono::Duration;
use kernel::Clock;
use kernel::ids::OperatorId;
use kernel::model::Role;
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
    profile_id: String,
    campaign_id: String,
    partner_id: String,
    charge_point_id: String,
    /// The charge point's own device.
    charge_point_device: String,
    id_tag: String,
    tariff_id: String,
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
    env.operator_token(role, vec![operator.clone()]).await
}

/// An operator with a site, a charger in it that charged, a CDR and a command.
async fn tenant(env: &TestEnv, app: &axum::Router, slug: &str) -> Tenant {
    let operator = env.operator(slug).await;
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
    let at = |s: i64| kernel::input::rfc3339(now - Duration::seconds(s));
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
    let record_id = kernel::ids::RecordId::random().to_string();
    let cdr = post(app, Some(&device_token), "/v1/device/charging-records", json!({"record_id": record_id,
        "connector_id": 1, "start_time": at(600), "end_time": at(0), "energy": 1.5, "currency": "GBP", "cost": 0.5})).await;
    assert_eq!(cdr.status, 200);
    let command = env
        .queue(
            kernel::ids::DeviceId::parse(&device_id).unwrap(),
            Some(1),
            kernel::model::CommandKind::Reboot,
        )
        .await;
    let profile = post(
        app,
        Some(&token),
        "/v1/configuration/profiles",
        json!({"name": format!("{slug} AC"),
        "model": "TP-AC22", "settings": {"max_current_a": 16}}),
    )
    .await;
    assert_eq!(profile.status, 200, "{:?}", profile.body);
    let campaign = post(
        app,
        Some(&token),
        "/v1/firmware/campaigns",
        json!({"model": "TP-AC22",
        "target_version": "9.9.9", "firmware_url": "https://fw.example.com/9.9.9.bin"}),
    )
    .await;
    assert_eq!(campaign.status, 202, "{:?}", campaign.body);
    let partner = testkit::partner::TestPartner::create(env, app, &operator).await;
    let charge_point = post(
        app,
        Some(&token),
        "/v1/ocpp/charge-points",
        json!({"charge_point_id": format!("{slug}:cp"), "site_id": site_id}),
    )
    .await;
    assert_eq!(charge_point.status, 201, "{:?}", charge_point.body);
    let id_tag = post(
        app,
        Some(&token),
        "/v1/id-tags",
        json!({"id_tag": format!("{}-CARD", &slug[..4]), "label": "fleet card"}),
    )
    .await;
    assert_eq!(id_tag.status, 201, "{:?}", id_tag.body);
    let tariff = post(
        app,
        Some(&token),
        "/v1/tariffs",
        json!({"name": format!("{slug} standard"), "currency": "GBP", "site_id": site_id,
        "elements": [{"price_components": [{"type": "ENERGY", "price": 0.3}]}]}),
    )
    .await;
    assert_eq!(tariff.status, 201, "{:?}", tariff.body);
    Tenant {
        tariff_id: tariff.data()["tariff_id"].as_str().unwrap().to_owned(),
        id_tag: id_tag.data()["id_tag"].as_str().unwrap().to_owned(),
        charge_point_device: charge_point.data()["device_id"]
            .as_str()
            .unwrap()
            .to_owned(),
        charge_point_id: charge_point.data()["charge_point_id"]
            .as_str()
            .unwrap()
            .to_owned(),
        profile_id: profile.data()["profile_id"].as_str().unwrap().to_owned(),
        campaign_id: campaign.data()["campaign_id"].as_str().unwrap().to_owned(),
        partner_id: partner.partner_id.to_string(),
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
            let mut listed = ids(&devices, "device_id");
            listed.sort();
            let mut mine = vec![me.device_id.clone(), me.charge_point_device.clone()];
            mine.sort();
            assert_eq!(listed, mine);
            let records = get(&app, token, "/v1/charging-records").await;
            assert_eq!(ids(&records, "record_id"), vec![me.record_id.clone()]);
            let firmware = get(&app, token, "/v1/firmware/versions").await;
            assert_eq!(firmware.data()["summary"]["total_devices"], 2);

            for read in console_reads() {
                let (path, query) = read.concrete(me);
                let status = get(&app, token, &format!("{path}{query}")).await.status;
                let expected = if read.admin_only { 403 } else { 200 };
                assert_eq!(status, expected, "{path}{query} for its owner");
                let (path, query) = read.concrete(other);
                let r = get(&app, token, &format!("{path}{query}")).await;
                // Platform administration refuses tenants before any lookup.
                if read.admin_only {
                    assert_eq!(r.status, 403, "{path}{query}");
                    continue;
                }
                // An object in the path is not found; a filter naming one
                // may answer 404 or an empty list, never the object.
                if read.path.contains('{') || r.status == 404 {
                    assert_eq!(
                        (r.status.as_u16(), r.code()),
                        (404, 40400),
                        "{path}{query} leaks: {:?}",
                        r.body
                    );
                } else {
                    let text = r.body.to_string();
                    for id in other.ids() {
                        assert!(!text.contains(id.as_str()), "{path} leaks {id}: {text}");
                    }
                }
            }
        }
    }
}

/// A console read of the OpenAPI document, with what it needs filled in.
struct Read {
    path: String,
    query: Vec<String>,
    /// Platform administration: refused to tenants' tokens.
    admin_only: bool,
}

/// Every console GET of the OpenAPI document that needs a token (the
/// charger routes take device tokens). A new
/// route is covered by being in the document; one this test cannot fill
/// in fails it.
fn console_reads() -> Vec<Read> {
    let doc = serde_json::to_value(system_tests::openapi_document()).unwrap();
    let mut reads = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let tags: Vec<&str> = op["tags"]
            .as_array()
            .map_or(vec![], |t| t.iter().filter_map(Value::as_str).collect());
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        if !secured || tags.contains(&"device") {
            continue;
        }
        let query: Vec<String> = op["parameters"].as_array().map_or(vec![], |params| {
            params
                .iter()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str())
                .filter(|n| ["site_id", "device_id"].contains(n))
                .map(str::to_owned)
                .collect()
        });
        let admin_only = tags.contains(&"admin");
        if query.is_empty() {
            reads.push(Read {
                path: path.clone(),
                query: vec![],
                admin_only,
            });
        }
        for name in query {
            reads.push(Read {
                path: path.clone(),
                query: vec![name],
                admin_only,
            });
        }
    }
    assert!(reads.len() >= 12, "the document lists the console reads");
    reads
}

impl Read {
    /// The path and query for one tenant's objects.
    fn concrete(&self, t: &Tenant) -> (String, String) {
        let id = if self.path.starts_with("/v1/operators/") {
            &t.operator
        } else if self.path.starts_with("/v1/sites/") {
            &t.site_id
        } else if self.path.starts_with("/v1/devices/") {
            &t.device_id
        } else if self.path.starts_with("/v1/charging-records/") {
            &t.record_id
        } else if self.path.starts_with("/v1/commands/") {
            &t.command_id
        } else if self.path.starts_with("/v1/configuration/profiles/") {
            &t.profile_id
        } else if self.path.starts_with("/v1/firmware/campaigns/") {
            &t.campaign_id
        } else if self.path.starts_with("/v1/id-tags/") {
            &t.id_tag
        } else if self.path.starts_with("/v1/tariffs/") {
            &t.tariff_id
        } else if self.path.starts_with("/v1/ocpp/charge-points/") {
            &t.charge_point_id
        } else if self.path.starts_with("/v1/partners/")
            || self.path.starts_with("/admin/partners/")
        {
            &t.partner_id
        } else {
            assert!(
                !self.path.contains('{'),
                "no tenant object for the path parameter of {}",
                self.path
            );
            ""
        };
        let path = self
            .path
            .replace("{id}", id)
            .replace("{partner_id}", id)
            .replace("{charge_point_id}", id)
            .replace("{id_tag}", id);
        let query = match self.query.first().map(String::as_str) {
            Some("site_id") => format!("?site_id={}", t.site_id),
            Some("device_id") => format!("?device_id={}", t.device_id),
            _ => String::new(),
        };
        (path, query)
    }
}

impl Tenant {
    fn ids(&self) -> [&String; 12] {
        [
            &self.id_tag,
            &self.tariff_id,
            &self.charge_point_id,
            &self.charge_point_device,
            &self.partner_id,
            &self.site_id,
            &self.device_id,
            &self.record_id,
            &self.command_id,
            &self.operator,
            &self.profile_id,
            &self.campaign_id,
        ]
    }
}

#[tokio::test]
async fn a_platform_admin_sees_every_tenant() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let a = tenant(&env, &app, "acme-charging-uk").await;
    let b = tenant(&env, &app, "volt-uk").await;
    let token = env.operator_token(Role::Admin, vec![]).await;
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
        json!({"timestamp": kernel::input::rfc3339(env.clock.now()), "status": "online"}),
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
    // B's device, claimed into a new site by A's operator client: to A it
    // does not exist.
    let grab = post(
        &app,
        Some(&a.token),
        "/v1/device/site",
        json!({"name": "grab",
        "operator_id": "acme-charging-uk", "lat": 51.0, "lng": 0.0, "power_capacity": 10,
        "device_ids": [b.device_id]}),
    )
    .await;
    assert_eq!(
        (grab.status.as_u16(), grab.code()),
        (404, 40400),
        "{:?}",
        grab.body
    );
    // A names B as the operator without authority there: 403, no site.
    let named = post(
        &app,
        Some(&a.token),
        "/v1/device/site",
        json!({"name": "named",
        "operator_id": "volt-uk", "lat": 51.0, "lng": 0.0, "power_capacity": 10}),
    )
    .await;
    assert_eq!((named.status.as_u16(), named.code()), (403, 40300));
    let b_sites = get(&app, &b.token, "/v1/sites").await;
    assert_eq!(b_sites.data()["total"], 1, "only B's own site");
}
