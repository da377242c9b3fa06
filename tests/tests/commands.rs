//! Steering chargers: console commands with their checks, delivery by
//! heartbeat and long-poll, reports, schedules, site capacity and
//! flexibility, and the admin's command injection.

use chrono::Duration;
use kernel::model::Role;
use serde_json::{Value, json};
use system_tests::world;
use testkit::{Charger, Reply, call};

struct World {
    base: world::World,
    operator: String,
    viewer: String,
    admin: String,
}

impl std::ops::Deref for World {
    type Target = world::World;

    fn deref(&self) -> &world::World {
        &self.base
    }
}

impl World {
    async fn new() -> Self {
        let base = world::World::new().await;
        let operator = base.token(Role::Operator).await;
        let viewer = base.token(Role::Viewer).await;
        let admin = base.token(Role::Admin).await;
        Self {
            base,
            operator,
            viewer,
            admin,
        }
    }

    /// An online charger of `model`.
    async fn charger(&self, sn: &str, model: &str) -> Charger {
        self.base.charger(sn, model, "1.0.0").await
    }

    async fn device(&self, c: &Charger, path: &str, body: Value) -> Reply {
        c.post(&self.app, path, body).await
    }

    async fn poll(&self, c: &Charger, wait: u32) -> Reply {
        c.get(&self.app, &format!("/v1/device/commands?wait={wait}"))
            .await
    }

    async fn command(&self, c: &Charger, kind: &str, body: Value) -> Reply {
        self.call(
            &self.operator,
            "POST",
            &format!("/v1/devices/{}/connectors/1/{kind}", c.id),
            Some(body),
        )
        .await
    }

    async fn sample(&self, c: &Charger, connector: u32, state: &str, power: f64) {
        let r = self.device(c, "/v1/device/status", json!({"timestamp": self.at(0), "connector_id": connector,
            "state": state, "voltage": 400, "current": 30, "power": power, "energy_delivered": 1.0, "soc": 40})).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    async fn site(&self, capacity: f64, devices: &[&Charger]) -> String {
        let ids: Vec<&str> = devices.iter().map(|c| c.id.as_str()).collect();
        let r = call(
            &self.app,
            "POST",
            "/v1/device/site",
            &[],
            Some(json!({"name": "Depot", "lat": 52.0,
            "lng": -1.0, "power_capacity": capacity, "device_ids": ids})),
        )
        .await;
        r.data()["site_id"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn a_start_travels_to_the_charger_and_its_reports_come_back() {
    let w = World::new().await;
    let c = w.charger("LOOP-1", "TP-AC22").await;

    // Delivery by heartbeat.
    let start = w
        .command(&c, "start", json!({"charge_power": 11, "target_soc": 80}))
        .await;
    assert_eq!(
        (start.status.as_u16(), start.data()["status"].as_str()),
        (202, Some("queued")),
        "{:?}",
        start.body
    );
    let id = start.data()["command_id"].as_str().unwrap().to_owned();
    let hb = w
        .device(
            &c,
            "/v1/device/heartbeat",
            json!({"timestamp": w.at(0), "status": "online"}),
        )
        .await;
    let delivered = &hb.data()["commands"][0];
    assert_eq!(delivered["command_id"], id.as_str());
    assert_eq!(delivered["command"], "start_charging");
    assert_eq!(delivered["charge_power"], 11.0);
    assert_eq!(delivered["target_soc"], 80.0);
    for status in ["accepted", "completed"] {
        let r = w
            .device(
                &c,
                "/v1/device/command-status",
                json!({"command_id": id, "status": status, "timestamp": w.at(0)}),
            )
            .await;
        assert_eq!(r.status, 200);
    }
    let seen = w
        .call(&w.viewer, "GET", &format!("/v1/commands/{id}"), None)
        .await;
    assert_eq!(seen.data()["status"], "completed");
    let trail: Vec<_> = seen.data()["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(trail, ["queued", "delivered", "accepted", "completed"]);

    // Delivery by an open long-poll.
    let poll = w.poll(&c, 5);
    let queue = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        w.command(&c, "stop", json!({"reason": "user_request"}))
            .await
    };
    let (polled, stop) = tokio::join!(poll, queue);
    assert_eq!(polled.data()["command_id"], stop.data()["command_id"]);
    assert_eq!(polled.data()["reason"], "user_request");
}

#[tokio::test]
async fn commands_are_checked_before_anything_is_queued() {
    let w = World::new().await;
    let c = w.charger("CHK-1", "TP-AC22").await;
    let start = json!({"charge_power": 11, "target_soc": 80});

    let viewer = w
        .call(
            &w.viewer,
            "POST",
            &format!("/v1/devices/{}/connectors/1/start", c.id),
            Some(start.clone()),
        )
        .await;
    assert_eq!((viewer.status.as_u16(), viewer.code()), (403, 40300));
    let nine = w
        .call(
            &w.operator,
            "POST",
            &format!("/v1/devices/{}/connectors/9/start", c.id),
            Some(start.clone()),
        )
        .await;
    assert_eq!(nine.status, 404, "TP-AC22 has two connectors");
    let ghost = w
        .call(
            &w.operator,
            "POST",
            &format!(
                "/v1/devices/{}/connectors/1/start",
                kernel::ids::DeviceId::random()
            ),
            Some(start.clone()),
        )
        .await;
    assert_eq!(ghost.status, 404);
    let too_much = w
        .command(&c, "start", json!({"charge_power": 50, "target_soc": 80}))
        .await;
    assert_eq!(too_much.status, 422);
    assert_eq!(too_much.data()["errors"][0]["field"], "charge_power");
    let soc = w
        .command(&c, "start", json!({"charge_power": 11, "target_soc": 0}))
        .await;
    assert_eq!(soc.status, 422);
    let no_v2g = w
        .command(
            &c,
            "discharge",
            json!({"discharge_power": 10, "duration": 300, "min_soc": 20}),
        )
        .await;
    assert_eq!(no_v2g.status, 422);

    w.env.clock.advance(Duration::seconds(91));
    let offline = w.command(&c, "start", start).await;
    assert_eq!((offline.status.as_u16(), offline.code()), (409, 40900));
    assert_eq!(
        w.env.items_with_pk_prefix("CMD#").await,
        0,
        "nothing was queued"
    );
}

#[tokio::test]
async fn another_operators_charger_cannot_be_commanded() {
    let w = World::new().await;
    let c = w.charger("TEN-1", "TP-AC22").await;
    let volt = w.env.operator("volt-uk").await;
    let other = w.env.operator_token(Role::Operator, vec![volt]).await;
    let r = w
        .call(
            &other,
            "POST",
            &format!("/v1/devices/{}/connectors/1/stop", c.id),
            Some(json!({})),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (404, 40400));
}

#[tokio::test]
async fn v2g_models_discharge() {
    let w = World::new().await;
    let c = w.charger("V2G-1", "TP-DC180").await;
    let r = w
        .command(
            &c,
            "discharge",
            json!({"discharge_power": 50, "duration": 600, "min_soc": 30}),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let hb = w
        .device(
            &c,
            "/v1/device/heartbeat",
            json!({"timestamp": w.at(0), "status": "online"}),
        )
        .await;
    let cmd = &hb.data()["commands"][0];
    assert_eq!(cmd["command"], "start_discharging");
    assert_eq!(
        (
            cmd["discharge_power"].as_f64(),
            cmd["duration"].as_i64(),
            cmd["min_soc"].as_f64()
        ),
        (Some(50.0), Some(600), Some(30.0))
    );
}

#[tokio::test]
async fn a_retried_post_with_the_same_idempotency_key_returns_the_first_command() {
    let w = World::new().await;
    let c = w.charger("IDEM-1", "TP-AC22").await;
    let path = format!("/v1/devices/{}/connectors/1/start", c.id);
    let bearer = format!("Bearer {}", w.operator);
    let headers = [
        ("authorization", bearer.as_str()),
        ("idempotency-key", "retry-me"),
    ];
    let body = json!({"charge_power": 7, "target_soc": 90});
    let first = call(&w.app, "POST", &path, &headers, Some(body.clone())).await;
    let again = call(&w.app, "POST", &path, &headers, Some(body.clone())).await;
    assert_eq!(first.status, 202);
    assert_eq!(again.status, 202);
    assert_eq!(first.data()["command_id"], again.data()["command_id"]);
    assert_eq!(w.env.items_with_pk_prefix("CMD#").await, 1);
    let other_key = call(
        &w.app,
        "POST",
        &path,
        &[
            ("authorization", bearer.as_str()),
            ("idempotency-key", "another"),
        ],
        Some(body),
    )
    .await;
    assert_ne!(other_key.data()["command_id"], first.data()["command_id"]);
    let stop = format!("/v1/devices/{}/connectors/1/stop", c.id);
    let reused = call(&w.app, "POST", &stop, &headers, Some(json!({}))).await;
    assert_eq!(
        reused.status, 409,
        "a key reused for another request: {:?}",
        reused.body
    );
    let other_body = json!({"charge_power": 11, "target_soc": 90});
    let changed = call(&w.app, "POST", &path, &headers, Some(other_body)).await;
    assert_eq!(
        (changed.status.as_u16(), changed.code()),
        (409, 40900),
        "the same key with another body: {:?}",
        changed.body
    );
    assert_eq!(w.env.items_with_pk_prefix("CMD#").await, 2);
}

#[tokio::test]
async fn concurrent_first_uses_of_one_key_queue_one_command() {
    let w = World::new().await;
    // moto's server applies concurrent transactions without isolating
    // them (two conditional puts of one new key can both succeed under
    // load), so the race is judged on the embedded engine, which, like
    // DynamoDB, serialises them.
    if w.env.backend != "dynoxide" {
        return;
    }
    let c = w.charger("IDEM-2", "TP-AC22").await;
    let path = format!("/v1/devices/{}/connectors/1/start", c.id);
    // Ten bodies, two of them alike, sent at once: the winner's twin gets
    // its answer, every other body a conflict.
    let powers = [7, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    let mut sent = tokio::task::JoinSet::new();
    for kw in powers {
        let (app, path, bearer) = (
            w.app.clone(),
            path.clone(),
            format!("Bearer {}", w.operator),
        );
        sent.spawn(async move {
            let headers = [
                ("authorization", bearer.as_str()),
                ("idempotency-key", "raced"),
            ];
            let body = json!({"charge_power": kw});
            (kw, call(&app, "POST", &path, &headers, Some(body)).await)
        });
    }
    let replies = sent.join_all().await;
    let accepted: Vec<_> = replies.iter().filter(|(_, r)| r.status == 202).collect();
    let ids: std::collections::BTreeSet<String> = accepted
        .iter()
        .map(|(_, r)| r.data()["command_id"].to_string())
        .collect();
    assert_eq!(ids.len(), 1, "one command: {replies:?}");
    let winner = accepted[0].0;
    for (kw, r) in &replies {
        let expected = if *kw == winner { 202 } else { 409 };
        assert_eq!(r.status.as_u16(), expected, "{kw} kW: {:?}", r.body);
    }
    assert_eq!(w.env.items_with_pk_prefix("CMD#").await, 1);
}

#[tokio::test]
async fn a_start_is_lowered_to_fit_the_site_or_refused_when_nothing_fits() {
    let w = World::new().await;
    let busy = w.charger("CAP-1", "TP-AC22").await;
    let c = w.charger("CAP-2", "TP-AC22").await;
    w.site(30.0, &[&busy, &c]).await;
    w.sample(&busy, 1, "charging", 22.0).await;
    let r = w
        .command(&c, "start", json!({"charge_power": 22, "target_soc": 80}))
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.data()["charge_power"], 8.0);
    assert_eq!(r.data()["requested_charge_power"], 22.0);
    assert!(r.data()["note"].as_str().unwrap().contains("capacity"));
    w.sample(&busy, 2, "charging", 8.0).await;
    let full = w
        .command(&c, "start", json!({"charge_power": 11, "target_soc": 80}))
        .await;
    assert_eq!((full.status.as_u16(), full.code()), (409, 40900));
}

#[tokio::test]
async fn a_schedule_is_validated_queued_and_shown_on_the_connector() {
    let w = World::new().await;
    let c = w.charger("SCH-1", "TP-AC22").await;
    let profile = json!({"purpose": "tx_profile", "kind": "absolute", "unit": "kW",
        "valid_from": w.at(-60), "valid_to": w.at(3600),
        "periods": [{"start_offset_s": 0, "limit": 11}, {"start_offset_s": 1800, "limit": 7}]});
    let r = w.command(&c, "schedule", profile).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let connectors = w
        .call(
            &w.viewer,
            "GET",
            &format!("/v1/devices/{}/connectors", c.id),
            None,
        )
        .await;
    w.sample(&c, 1, "charging", 7.0).await;
    let connectors_after = w
        .call(
            &w.viewer,
            "GET",
            &format!("/v1/devices/{}/connectors", c.id),
            None,
        )
        .await;
    assert!(
        connectors.data()["items"].as_array().unwrap().is_empty(),
        "no connector reported yet"
    );
    let schedule = &connectors_after.data()["items"][0]["schedule"];
    assert_eq!(schedule["periods"][1]["limit"], 7.0);
    let hb = w
        .device(
            &c,
            "/v1/device/heartbeat",
            json!({"timestamp": w.at(0), "status": "online"}),
        )
        .await;
    assert_eq!(hb.data()["commands"][0]["command"], "set_schedule");
    assert_eq!(hb.data()["commands"][0]["schedule"]["unit"], "kW");

    let bad = w
        .command(
            &c,
            "schedule",
            json!({"purpose": "tx_profile", "kind": "absolute", "unit": "kW",
        "periods": [{"start_offset_s": 0, "limit": 40}]}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.data()["errors"][0]["field"], "periods[0].limit");
}

#[tokio::test]
async fn a_flexibility_cap_is_shared_fairly_and_later_starts_respect_it() {
    let w = World::new().await;
    let a = w.charger("FLX-1", "TP-AC22").await;
    let b = w.charger("FLX-2", "TP-AC22").await;
    let d = w.charger("FLX-3", "TP-DC180").await;
    let site = w.site(200.0, &[&a, &b, &d]).await;
    w.sample(&a, 1, "charging", 22.0).await;
    w.sample(&b, 1, "charging", 5.0).await;
    w.sample(&d, 1, "discharging", 10.0).await;
    let r = w
        .call(
            &w.operator,
            "POST",
            "/v1/control/flexibility",
            Some(json!({"site_id": site, "limit_kw": 20, "duration_s": 900})),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let limit_of = |device: &Charger| {
        r.data()
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["device_id"] == device.id.as_str())
            .unwrap()["connectors"][0]
            .clone()
    };
    // Budget 20 + 10 discharged = 30: b asks 5, a gets the remaining 25 but asked 22.
    assert_eq!(limit_of(&b)["limit_kw"], 5.0);
    assert_eq!(limit_of(&a)["limit_kw"], 22.0);
    assert!(limit_of(&a)["command_id"].is_string());
    assert!(
        limit_of(&d)["command_id"].is_null(),
        "discharging connectors are not limited"
    );
    let hb = w
        .device(
            &a,
            "/v1/device/heartbeat",
            json!({"timestamp": w.at(0), "status": "online"}),
        )
        .await;
    assert_eq!(hb.data()["commands"][0]["command"], "set_power_limit");
    assert_eq!(hb.data()["commands"][0]["duration_s"], 900);

    // Under the cap (not the 200 kW capacity), a new start on a's second
    // connector gets what is left: 20 - (22 + 5 - 10) = 3 kW.
    let r = w
        .call(
            &w.operator,
            "POST",
            &format!("/v1/devices/{}/connectors/2/start", a.id),
            Some(json!({"charge_power": 22})),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.data()["charge_power"], 3.0);
    // Once the cap lapses, the site's capacity applies again.
    w.env.clock.advance(Duration::seconds(901));
    for c in [&a, &b, &d] {
        w.device(
            c,
            "/v1/device/heartbeat",
            json!({"timestamp": w.at(0), "status": "online"}),
        )
        .await;
    }
    let r = w
        .call(
            &w.operator,
            "POST",
            &format!("/v1/devices/{}/connectors/2/start", a.id),
            Some(json!({"charge_power": 22})),
        )
        .await;
    assert_eq!(r.status, 202);
    assert!(
        r.data()["charge_power"].is_null(),
        "not lowered: {:?}",
        r.body
    );
}

#[tokio::test]
async fn an_admin_can_queue_any_command_and_others_cannot() {
    let w = World::new().await;
    let c = w.charger("ADM-1", "TP-AC22").await;
    let body = json!({"device_id": c.id, "command": "update_firmware",
        "location": "https://firmware.example.com/tp-ac22.bin", "version": "260122.1606"});
    let r = w
        .call(&w.admin, "POST", "/admin/queue-command", Some(body.clone()))
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let hb = w
        .device(
            &c,
            "/v1/device/heartbeat",
            json!({"timestamp": w.at(0), "status": "online"}),
        )
        .await;
    assert_eq!(
        hb.data()["commands"][0]["location"],
        "https://firmware.example.com/tp-ac22.bin"
    );
    assert_eq!(
        w.call(&w.operator, "POST", "/admin/queue-command", Some(body))
            .await
            .status,
        403
    );
    let unknown = w
        .call(
            &w.admin,
            "POST",
            "/admin/queue-command",
            Some(json!({"device_id": c.id, "command": "self_destruct"})),
        )
        .await;
    assert_eq!(unknown.status, 422);
    let no_url = w
        .call(
            &w.admin,
            "POST",
            "/admin/queue-command",
            Some(json!({"device_id": c.id, "command": "update_firmware", "version": "2"})),
        )
        .await;
    assert_eq!(no_url.data()["errors"][0]["field"], "location");
}

#[tokio::test]
async fn an_unanswered_command_reads_as_expired_without_any_sweep() {
    let w = World::new().await;
    let c = w.charger("EXP-1", "TP-AC22").await;
    let r = w.command(&c, "stop", json!({})).await;
    let id = r.data()["command_id"].as_str().unwrap().to_owned();
    w.env.clock.advance(Duration::minutes(6));
    let seen = w
        .call(&w.viewer, "GET", &format!("/v1/commands/{id}"), None)
        .await;
    assert_eq!(seen.data()["status"], "expired");
    assert_eq!(
        seen.data()["history"].as_array().unwrap().last().unwrap()["status"],
        "expired"
    );
}

#[tokio::test]
async fn the_model_catalogue_lists_ratings_and_the_callers_devices() {
    let w = World::new().await;
    w.charger("CAT-1", "TP-AC22").await;
    w.charger("CAT-2", "HOMEBREW-7").await;
    let r = w.call(&w.viewer, "GET", "/v1/models", None).await;
    let items = r.data()["items"].as_array().unwrap();
    let ac = items.iter().find(|m| m["model"] == "TP-AC22").unwrap();
    assert_eq!(
        (
            ac["current_type"].as_str(),
            ac["max_power_kw"].as_f64(),
            ac["devices"].as_u64()
        ),
        (Some("AC"), Some(22.0), Some(1))
    );
    assert!(
        items
            .iter()
            .any(|m| m["current_type"] == "DC" && m["v2g"] == true)
    );
    assert!(
        items.iter().all(|m| m["model"] != "HOMEBREW-7"),
        "a registration does not add to the catalogue"
    );
    assert_eq!(
        r.data()["unknown_models"],
        json!({"models": 1, "devices": 1})
    );
}

#[tokio::test]
async fn command_parameters_cannot_shadow_the_command_fields() {
    let w = World::new().await;
    let c = w.charger("ADM-2", "TP-AC22").await;
    let r = w
        .call(
            &w.admin,
            "POST",
            "/admin/queue-command",
            Some(json!({"device_id": c.id, "command": "reboot", "status": "completed"})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.data()["errors"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("status")
    );
}
