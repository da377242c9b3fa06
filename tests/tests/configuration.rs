//! Configuration profiles and firmware campaigns through the routes:
//! validation against the catalogue, versions, apply and the device's
//! record of it, drift; campaign waves, the failure threshold, pause,
//! resume, cancel, time-outs; and tenancy.

use chrono::Duration;
use kernel::model::Role;
use serde_json::{Value, json};
use system_tests::world;
use testkit::{Charger, Reply};

struct World {
    base: world::World,
    operator: String,
    viewer: String,
    other: String,
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
        let volt = base.env.operator("volt-uk").await;
        let operator = base.token(Role::Operator).await;
        let viewer = base.token(Role::Viewer).await;
        let other = base.env.operator_token(Role::Operator, vec![volt]).await;
        Self {
            base,
            operator,
            viewer,
            other,
        }
    }

    /// `n` online chargers of the default operator.
    async fn fleet(&self, n: usize, model: &str) -> Vec<Charger> {
        let mut out = Vec::new();
        for i in 0..n {
            let c =
                Charger::of_model(&self.app, &format!("CFG-{model}-{i:03}"), model, "1.0.0").await;
            out.push(c);
        }
        out
    }

    async fn firmware(&self, c: &Charger, version: &str, status: &str) {
        let r = c
            .post(
                &self.app,
                "/v1/device/firmware/status",
                json!({"firmware_version": version, "status": status}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    /// The chargers that got an `update_firmware` on their heartbeat.
    async fn updated(&self, fleet: &[Charger]) -> Vec<Charger> {
        let mut out = Vec::new();
        for c in fleet {
            let got = self.heartbeat(c).await;
            if got.iter().any(|cmd| cmd["command"] == "update_firmware") {
                out.push(c.clone());
            }
        }
        out
    }

    async fn campaign(&self, body: Value) -> Value {
        let r = self
            .call(&self.operator, "POST", "/v1/firmware/campaigns", Some(body))
            .await;
        assert_eq!(r.status, 202, "{:?}", r.body);
        r.data().clone()
    }

    async fn campaign_now(&self, id: &str) -> Value {
        let r = self
            .call(
                &self.viewer,
                "GET",
                &format!("/v1/firmware/campaigns/{id}"),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.data().clone()
    }
}

fn settings(max_current_a: f64) -> Value {
    json!({"heartbeat_interval_s": 60, "meter_interval_s": 15,
        "max_current_a": max_current_a, "offline_charging": true, "free_vend": false})
}

fn errors(r: &Reply) -> Vec<String> {
    r.data()["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

const PROFILES: &str = "/v1/configuration/profiles";

#[tokio::test]
async fn profiles_are_validated_against_the_catalogue_and_versioned() {
    let w = World::new().await;
    let over = json!({"name": "Depot", "model": "TP-AC22", "settings": settings(40.0)});
    let r = w.call(&w.operator, "POST", PROFILES, Some(over)).await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(errors(&r), ["settings.max_current_a"]);
    let bounds = json!({"name": "Depot", "model": "NOPE-1",
        "settings": {"heartbeat_interval_s": 5, "meter_interval_s": 4000, "max_current_a": 16}});
    let r = w.call(&w.operator, "POST", PROFILES, Some(bounds)).await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(
        errors(&r),
        ["settings.heartbeat_interval_s", "settings.meter_interval_s"]
    );

    let theirs = json!({"name": "Depot", "operator_id": "volt-uk", "settings": settings(16.0)});
    let r = w.call(&w.operator, "POST", PROFILES, Some(theirs)).await;
    assert_eq!(r.status, 403, "not an operator it acts for: {:?}", r.body);

    let body = json!({"name": "Depot", "model": "TP-AC22", "settings": settings(32.0)});
    let r = w
        .call(&w.viewer, "POST", PROFILES, Some(body.clone()))
        .await;
    assert_eq!(r.status, 403, "viewers read only: {:?}", r.body);
    let r = w.call(&w.operator, "POST", PROFILES, Some(body)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["version"], 1);
    assert_eq!(r.data()["settings"]["max_current_a"], 32.0);
    let id = r.data()["profile_id"].as_str().unwrap().to_owned();

    let changed = json!({"name": "Depot", "model": "TP-AC22", "settings": settings(16.0)});
    let path = format!("{PROFILES}/{id}");
    let r = w.call(&w.viewer, "PUT", &path, Some(changed.clone())).await;
    assert_eq!(r.status, 403);
    let r = w.call(&w.operator, "PUT", &path, Some(changed)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["version"], 2);
    let r = w.call(&w.viewer, "GET", &path, None).await;
    assert_eq!(r.data()["version"], 2);
    assert_eq!(r.data()["settings"]["max_current_a"], 16.0);
    let list = w.call(&w.viewer, "GET", PROFILES, None).await;
    assert_eq!(list.data()["total"], 1);
}

#[tokio::test]
async fn an_applied_profile_is_recorded_on_the_device_and_drifts_after_a_change() {
    let w = World::new().await;
    let fleet = w.fleet(2, "TP-AC22").await;
    let dc = w.fleet(1, "TP-DC180").await;
    let body = json!({"name": "Depot", "model": "TP-AC22", "settings": settings(16.0)});
    let r = w.call(&w.operator, "POST", PROFILES, Some(body)).await;
    let id = r.data()["profile_id"].as_str().unwrap().to_owned();
    let apply = format!("{PROFILES}/{id}/apply");

    let r = w
        .call(
            &w.operator,
            "POST",
            &apply,
            Some(json!({"device_ids": [dc[0].id]})),
        )
        .await;
    assert_eq!(r.status, 422, "another model: {:?}", r.body);
    assert_eq!(errors(&r), ["device_ids"]);
    let r = w
        .call(
            &w.viewer,
            "POST",
            &apply,
            Some(json!({"device_ids": [fleet[0].id]})),
        )
        .await;
    assert_eq!(r.status, 403);

    let r = w
        .call(
            &w.operator,
            "POST",
            &apply,
            Some(json!({"device_ids": [fleet[0].id, fleet[1].id]})),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.data()["commands"].as_array().unwrap().len(), 2);
    let profile = w
        .call(&w.viewer, "GET", &format!("{PROFILES}/{id}"), None)
        .await;
    assert_eq!(
        profile.data()["devices"],
        json!({"applied": 0, "pending": 2, "drifted": 0})
    );

    // The first charger applies it; the second rejects it.
    for (c, outcome) in [(&fleet[0], "completed"), (&fleet[1], "rejected")] {
        let commands = w.heartbeat(c).await;
        let cmd = commands
            .iter()
            .find(|c| c["command"] == "apply_configuration")
            .expect("apply_configuration delivered");
        assert_eq!(cmd["profile_id"], id.as_str());
        assert_eq!(cmd["version"], 1);
        assert_eq!(cmd["settings"]["heartbeat_interval_s"], 60);
        let command_id = cmd["command_id"].as_str().unwrap();
        if outcome == "completed" {
            w.report(c, command_id, "accepted").await;
        }
        w.report(c, command_id, outcome).await;
    }
    let device = w
        .call(
            &w.viewer,
            "GET",
            &format!("/v1/devices/{}", fleet[0].id),
            None,
        )
        .await;
    assert_eq!(device.data()["configuration"]["profile_id"], id.as_str());
    assert_eq!(device.data()["configuration"]["version"], 1);
    assert!(device.data()["configuration"]["applied_at"].is_string());
    let untouched = w
        .call(
            &w.viewer,
            "GET",
            &format!("/v1/devices/{}", fleet[1].id),
            None,
        )
        .await;
    assert!(untouched.data()["configuration"].is_null());
    let profile = w
        .call(&w.viewer, "GET", &format!("{PROFILES}/{id}"), None)
        .await;
    assert_eq!(
        profile.data()["devices"],
        json!({"applied": 1, "pending": 0, "drifted": 0})
    );

    let changed = json!({"name": "Depot", "model": "TP-AC22", "settings": settings(20.0)});
    let r = w
        .call(
            &w.operator,
            "PUT",
            &format!("{PROFILES}/{id}"),
            Some(changed),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.data()["devices"],
        json!({"applied": 0, "pending": 0, "drifted": 1})
    );
}

#[tokio::test]
async fn another_tenant_sees_no_profile_and_no_campaign() {
    let w = World::new().await;
    let fleet = w.fleet(1, "TP-AC22").await;
    let body = json!({"name": "Depot", "model": null, "settings": settings(16.0)});
    let r = w
        .call(&w.operator, "POST", PROFILES, Some(body.clone()))
        .await;
    let id = r.data()["profile_id"].as_str().unwrap().to_owned();
    let campaign = w
        .campaign(json!({"model": "TP-AC22", "target_version": "2.0.0",
            "firmware_url": "https://fw.example.com/2.0.0.bin"}))
        .await;
    let cid = campaign["campaign_id"].as_str().unwrap();

    let list = w.call(&w.other, "GET", PROFILES, None).await;
    assert_eq!(list.data()["total"], 0);
    for (method, path, body) in [
        ("GET", format!("{PROFILES}/{id}"), None),
        ("PUT", format!("{PROFILES}/{id}"), Some(body)),
        (
            "POST",
            format!("{PROFILES}/{id}/apply"),
            Some(json!({"device_ids": [fleet[0].id]})),
        ),
        ("GET", format!("/v1/firmware/campaigns/{cid}"), None),
        ("POST", format!("/v1/firmware/campaigns/{cid}/pause"), None),
        ("POST", format!("/v1/firmware/campaigns/{cid}/cancel"), None),
    ] {
        let r = w.call(&w.other, method, &path, body).await;
        assert_eq!(r.status, 404, "{method} {path}: {:?}", r.body);
    }
    let campaigns = w
        .call(&w.other, "GET", "/v1/firmware/campaigns", None)
        .await;
    assert_eq!(campaigns.data()["total"], 0);
    // Its own profile cannot reach the other operator's devices either.
    let r = w
        .call(
            &w.other,
            "POST",
            PROFILES,
            Some(json!({"name": "Volt",
        "settings": settings(16.0)})),
        )
        .await;
    let theirs = r.data()["profile_id"].as_str().unwrap().to_owned();
    let r = w
        .call(
            &w.other,
            "POST",
            &format!("{PROFILES}/{theirs}/apply"),
            Some(json!({"device_ids": [fleet[0].id]})),
        )
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    let r = w
        .call(
            &w.other,
            "POST",
            "/v1/firmware/campaigns",
            Some(json!({"model": "TP-AC22", "target_version": "2.0.0",
                "firmware_url": "https://fw.example.com/2.0.0.bin"})),
        )
        .await;
    assert_eq!(
        r.status, 422,
        "no device of theirs is eligible: {:?}",
        r.body
    );
}

#[tokio::test]
async fn a_campaign_sends_its_waves_one_after_the_other() {
    let w = World::new().await;
    let fleet = w.fleet(10, "TP-AC22").await;
    let viewer = w
        .call(
            &w.viewer,
            "POST",
            "/v1/firmware/campaigns",
            Some(json!({"model": "TP-AC22", "target_version": "2.0.0",
                "firmware_url": "https://fw.example.com/2.0.0.bin"})),
        )
        .await;
    assert_eq!(viewer.status, 403);
    let bad = w
        .call(
            &w.operator,
            "POST",
            "/v1/firmware/campaigns",
            Some(json!({"model": "TP-AC22", "target_version": "2.0.0",
                "firmware_url": "ftp://x", "waves": [50, 20], "failure_threshold_pct": 150})),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        errors(&bad),
        ["firmware_url", "waves", "failure_threshold_pct"]
    );

    let c = w
        .campaign(json!({"model": "TP-AC22", "target_version": "2.0.0",
            "firmware_url": "https://fw.example.com/2.0.0.bin", "waves": [20, 100],
            "failure_threshold_pct": 10}))
        .await;
    let id = c["campaign_id"].as_str().unwrap().to_owned();
    assert_eq!(c["status"], "running");
    assert_eq!(c["wave"], 1);
    assert_eq!(
        c["counts"],
        json!({"eligible": 10, "pending": 8, "updating": 2, "installed": 0, "failed": 0})
    );
    let first = w.updated(&fleet).await;
    assert_eq!(first.len(), 2, "the first wave is 20%");

    w.firmware(&first[0], "2.0.0", "downloading").await;
    w.firmware(&first[0], "2.0.0", "installed").await;
    let now = w.campaign_now(&id).await;
    assert_eq!(now["wave"], 1, "one device is still updating");
    assert_eq!(w.updated(&fleet).await.len(), 0);

    w.firmware(&first[1], "2.0.0", "installed").await;
    let now = w.campaign_now(&id).await;
    assert_eq!(now["wave"], 2, "{now}");
    assert_eq!(now["counts"]["updating"], 8);
    let second = w.updated(&fleet).await;
    assert_eq!(second.len(), 8, "the rest go in the second wave");
    assert!(second.iter().all(|c| !first.iter().any(|f| f.id == c.id)));

    for c in &second {
        w.firmware(c, "2.0.0", "installed").await;
    }
    let done = w.campaign_now(&id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["counts"]["installed"], 10);
    let device = w
        .call(
            &w.viewer,
            "GET",
            &format!("/v1/devices/{}", fleet[3].id),
            None,
        )
        .await;
    assert_eq!(device.data()["firmware_version"], "2.0.0");
    // Already on the target: nothing left to update.
    let again = w
        .call(
            &w.operator,
            "POST",
            "/v1/firmware/campaigns",
            Some(json!({"model": "TP-AC22", "target_version": "2.0.0",
                "firmware_url": "https://fw.example.com/2.0.0.bin"})),
        )
        .await;
    assert_eq!(again.status, 422);
}

#[tokio::test]
async fn failures_above_the_threshold_pause_the_campaign_until_resumed() {
    let w = World::new().await;
    let fleet = w.fleet(10, "TP-AC22").await;
    let c = w
        .campaign(json!({"model": "TP-AC22", "target_version": "2.0.0",
            "firmware_url": "https://fw.example.com/2.0.0.bin", "waves": [20, 100],
            "failure_threshold_pct": 10}))
        .await;
    let id = c["campaign_id"].as_str().unwrap().to_owned();
    let first = w.updated(&fleet).await;
    w.firmware(&first[0], "2.0.0", "installed").await;
    w.firmware(&first[1], "2.0.0", "installation_failed").await;
    let paused = w.campaign_now(&id).await;
    assert_eq!(paused["status"], "paused");
    assert_eq!(paused["wave"], 1);
    assert!(
        paused["paused_reason"]
            .as_str()
            .is_some_and(|r| r.contains("1 of 2 devices failed")),
        "{paused}"
    );
    assert_eq!(
        paused["counts"],
        json!({"eligible": 10, "pending": 8, "updating": 0, "installed": 1, "failed": 1})
    );
    assert_eq!(w.updated(&fleet).await.len(), 0, "nothing more is sent");
    let r = w
        .call(
            &w.operator,
            "POST",
            &format!("/v1/firmware/campaigns/{id}/pause"),
            None,
        )
        .await;
    assert_eq!(r.status, 409);

    // Resuming accepts this wave's failures and sends the next.
    let r = w
        .call(
            &w.operator,
            "POST",
            &format!("/v1/firmware/campaigns/{id}/resume"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["status"], "running");
    assert_eq!(r.data()["wave"], 2);
    assert_eq!(w.updated(&fleet).await.len(), 8);
}

#[tokio::test]
async fn a_cancelled_campaign_sends_nothing_more() {
    let w = World::new().await;
    let fleet = w.fleet(4, "TP-AC22").await;
    let c = w
        .campaign(json!({"model": "TP-AC22", "target_version": "2.0.0",
            "firmware_url": "https://fw.example.com/2.0.0.bin", "waves": [25, 100]}))
        .await;
    let id = c["campaign_id"].as_str().unwrap().to_owned();
    let first = w.updated(&fleet).await;
    assert_eq!(first.len(), 1);
    let r = w
        .call(
            &w.viewer,
            "POST",
            &format!("/v1/firmware/campaigns/{id}/cancel"),
            None,
        )
        .await;
    assert_eq!(r.status, 403);
    let r = w
        .call(
            &w.operator,
            "POST",
            &format!("/v1/firmware/campaigns/{id}/cancel"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["status"], "cancelled");
    // The device already updating still reports, and counts.
    w.firmware(&first[0], "2.0.0", "installed").await;
    let now = w.campaign_now(&id).await;
    assert_eq!(now["status"], "cancelled");
    assert_eq!(now["counts"]["installed"], 1);
    assert_eq!(now["counts"]["pending"], 3);
    assert_eq!(w.updated(&fleet).await.len(), 0);
    for action in ["cancel", "resume", "pause"] {
        let r = w
            .call(
                &w.operator,
                "POST",
                &format!("/v1/firmware/campaigns/{id}/{action}"),
                None,
            )
            .await;
        assert_eq!(r.status, 409, "{action}");
    }
    let list = w
        .call(&w.viewer, "GET", "/v1/firmware/campaigns", None)
        .await;
    assert_eq!(list.data()["items"][0]["campaign_id"], id.as_str());
}

#[tokio::test]
async fn a_silent_device_times_out_after_an_hour_and_counts_as_failed() {
    let w = World::new().await;
    let fleet = w.fleet(4, "TP-AC22").await;
    let c = w
        .campaign(json!({"model": "TP-AC22", "target_version": "2.0.0",
            "firmware_url": "https://fw.example.com/2.0.0.bin", "waves": [50, 100],
            "failure_threshold_pct": 50}))
        .await;
    let id = c["campaign_id"].as_str().unwrap().to_owned();
    let first = w.updated(&fleet).await;
    assert_eq!(first.len(), 2);
    w.firmware(&first[0], "2.0.0", "installed").await;

    w.env.clock.advance(Duration::minutes(59));
    w.env.domain.campaigns.sweep_campaigns().await.unwrap();
    assert_eq!(w.campaign_now(&id).await["counts"]["updating"], 1);

    w.env.clock.advance(Duration::minutes(1));
    let sweep = w.env.domain.campaigns.sweep_campaigns().await.unwrap();
    assert_eq!(sweep.timed_out, 1);
    let now = w.campaign_now(&id).await;
    assert_eq!(now["counts"]["failed"], 1, "{now}");
    assert_eq!(now["wave"], 2, "1 of 2 failed is within 50%: {now}");

    // It reports after all: the late install counts.
    w.firmware(&first[1], "2.0.0", "installed").await;
    let now = w.campaign_now(&id).await;
    assert_eq!(now["counts"]["failed"], 0, "{now}");
    assert_eq!(now["counts"]["installed"], 2, "{now}");
}

#[tokio::test]
async fn a_device_belongs_to_one_running_campaign_at_a_time() {
    let w = World::new().await;
    let fleet = w.fleet(4, "TP-AC22").await;
    let first = w
        .campaign(json!({"model": "TP-AC22", "target_version": "2.0.0",
            "firmware_url": "https://fw.example.com/2.0.0.bin", "waves": [50, 100]}))
        .await;
    let first_id = first["campaign_id"].as_str().unwrap().to_owned();
    let second = json!({"model": "TP-AC22", "target_version": "2.1.0",
        "firmware_url": "https://fw.example.com/2.1.0.bin"});
    let before = w
        .call(&w.viewer, "GET", "/v1/firmware/campaigns", None)
        .await;
    let overlap = w
        .call(
            &w.operator,
            "POST",
            "/v1/firmware/campaigns",
            Some(second.clone()),
        )
        .await;
    assert_eq!(overlap.status, 409, "{:?}", overlap.body);
    let message = overlap.body["message"].as_str().unwrap();
    assert!(message.contains(&first_id), "names the campaign: {message}");
    assert!(message.contains("4 of these devices"), "{message}");
    let after = w
        .call(&w.viewer, "GET", "/v1/firmware/campaigns", None)
        .await;
    assert_eq!(before.body, after.body, "nothing was created");
    // Updates reach a device from one campaign only.
    let sent: Vec<usize> = {
        let mut n = Vec::new();
        for c in &fleet {
            let got = w.heartbeat(c).await;
            n.push(
                got.iter()
                    .filter(|cmd| cmd["command"] == "update_firmware")
                    .count(),
            );
        }
        n
    };
    assert!(sent.iter().all(|n| *n <= 1), "{sent:?}");

    // Paused still holds its devices; cancelled frees them.
    let pause = format!("/v1/firmware/campaigns/{first_id}/pause");
    assert_eq!(w.call(&w.operator, "POST", &pause, None).await.status, 200);
    let paused = w
        .call(
            &w.operator,
            "POST",
            "/v1/firmware/campaigns",
            Some(second.clone()),
        )
        .await;
    assert_eq!(paused.status, 409, "{:?}", paused.body);
    let cancel = format!("/v1/firmware/campaigns/{first_id}/cancel");
    assert_eq!(w.call(&w.operator, "POST", &cancel, None).await.status, 200);
    let freed = w.campaign(second).await;
    assert_eq!(freed["counts"]["eligible"], 4);
}
