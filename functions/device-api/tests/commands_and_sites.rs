//! Command delivery by long-poll, command reports, and site registration
//! with its ownership rules.

mod common;

use chrono::Duration;
use common::*;
use domain::sites::{SiteAuthority, SiteRegistration};
use domain::storage::ports::*;
use kernel::access::Caller;
use kernel::ids::{DeviceId, SiteId};
use kernel::model::Role;
use kernel::model::{CommandKind, CommandStatus};
use serde_json::json;
use std::time::Instant;
use testkit::{TestEnv, call};

async fn queue(env: &TestEnv, c: &Charger, kind: CommandKind) -> kernel::command::Command {
    env.queue(c.device_id(), Some(1), kind).await
}

#[tokio::test]
async fn a_long_poll_returns_a_command_queued_while_it_waits() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "LP-1").await;
    let queue_later = async {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        env.queue(c.device_id(), Some(1), CommandKind::StartCharging)
            .await
    };
    let started = Instant::now();
    let (reply, queued) = tokio::join!(c.get(&app, "/v1/device/commands?wait=10"), queue_later);
    let waited = started.elapsed();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.data()["command_id"], queued.command_id.to_string());
    assert_eq!(reply.data()["status"], "delivered");
    assert!(
        waited < std::time::Duration::from_secs(3),
        "took {waited:?}"
    );
}

#[tokio::test]
async fn an_empty_long_poll_answers_null_after_the_wait_and_writes_only_last_seen() {
    let env = TestEnv::with_settings(no_request_log).await;
    let app = app(&env);
    let c = charger(&app, "LP-2").await;
    env.counter.reset();
    let started = Instant::now();
    let reply = c.get(&app, "/v1/device/commands?wait=1").await;
    let waited = started.elapsed();
    assert_eq!(reply.status, 200);
    assert!(reply.data().is_null());
    assert!(
        waited >= std::time::Duration::from_millis(950),
        "{waited:?}"
    );
    let ops = env.counter.snapshot();
    assert_eq!(
        ops.get("UpdateItem"),
        Some(&1),
        "the poll marks the device seen once: {ops:?}"
    );
    assert!(
        ops.keys().all(|op| op == "UpdateItem" || op == "Query"),
        "while waiting, a poll only reads: {ops:?}"
    );
}

#[tokio::test]
async fn the_server_caps_the_long_poll_wait() {
    let env = TestEnv::with_settings(|s| s.long_poll_max = Duration::seconds(1)).await;
    let app = app(&env);
    let c = charger(&app, "LP-3").await;
    let started = Instant::now();
    let reply = c.get(&app, "/v1/device/commands?wait=60").await;
    assert!(reply.data().is_null());
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}

#[tokio::test]
async fn a_command_moves_through_its_lifecycle_and_repeated_reports_are_harmless() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "CS-1").await;
    let cmd = queue(&env, &c, CommandKind::StartCharging).await;
    let polled = c.get(&app, "/v1/device/commands?wait=0").await;
    assert_eq!(polled.data()["command_id"], cmd.command_id.to_string());
    let report = |status: &str| json!({"command_id": cmd.command_id.to_string(), "status": status, "timestamp": env.now()});
    for status in ["accepted", "accepted", "completed", "completed"] {
        let r = c
            .post(&app, "/v1/device/command-status", report(status))
            .await;
        assert_eq!(r.status, 200, "{status}: {:?}", r.body);
    }
    let back = c
        .post(&app, "/v1/device/command-status", report("rejected"))
        .await;
    assert_eq!((back.status.as_u16(), back.code()), (409, 40900));
    let stored = env
        .store
        .get_command(cmd.command_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, CommandStatus::Completed);
    let trail: Vec<_> = stored.history.iter().map(|h| h.status.as_str()).collect();
    assert_eq!(trail, ["queued", "delivered", "accepted", "completed"]);
    let d = env.store.get_device(c.device_id()).await.unwrap().unwrap();
    assert_eq!(d.open_commands, 0);
}

#[tokio::test]
async fn a_report_on_an_undelivered_command_is_a_conflict() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "CS-2").await;
    let cmd = queue(&env, &c, CommandKind::Reboot).await;
    let body = json!({"command_id": cmd.command_id.to_string(), "status": "completed", "timestamp": env.now()});
    assert_eq!(
        c.post(&app, "/v1/device/command-status", body).await.status,
        409
    );
}

#[tokio::test]
async fn another_devices_command_is_not_found() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let owner = charger(&app, "CS-3").await;
    let other = charger(&app, "CS-4").await;
    let cmd = queue(&env, &owner, CommandKind::Reboot).await;
    owner.get(&app, "/v1/device/commands?wait=0").await;
    let body = json!({"command_id": cmd.command_id.to_string(), "status": "accepted", "timestamp": env.now()});
    let r = other.post(&app, "/v1/device/command-status", body).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, 40400));
    assert!(
        other
            .get(&app, "/v1/device/commands?wait=0")
            .await
            .data()
            .is_null()
    );
}

#[tokio::test]
async fn an_unanswered_command_expires_without_any_scheduler() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "EXP-1").await;
    let cmd = queue(&env, &c, CommandKind::Reboot).await;
    env.clock.advance(Duration::minutes(6));
    let hb = c
        .post(
            &app,
            "/v1/device/heartbeat",
            json!({"timestamp": env.now(), "status": "online"}),
        )
        .await;
    assert_eq!(hb.data()["commands"], json!([]));
    let stored = env
        .store
        .get_command(cmd.command_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, CommandStatus::Expired);
    assert_eq!(
        env.store
            .get_device(c.device_id())
            .await
            .unwrap()
            .unwrap()
            .open_commands,
        0
    );
}

fn site_body(name: &str, devices: &[&str]) -> serde_json::Value {
    json!({"name": name, "address": "1 Hertford St", "postcode": "CV1 1LF", "lat": 52.4068,
           "lng": -1.5197, "power_capacity": 176, "device_ids": devices})
}

#[tokio::test]
async fn a_site_gets_an_id_and_its_devices_join_it() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let a = charger(&app, "SITE-A").await;
    let b = charger(&app, "SITE-B").await;
    let r = a
        .post(
            &app,
            "/v1/device/site",
            site_body("Coventry", &[&a.id, &b.id]),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let site_id = SiteId::parse(r.data()["site_id"].as_str().unwrap()).unwrap();
    let site = env.store.get_site(site_id).await.unwrap().unwrap();
    assert_eq!(site.operator_id, env.domain.settings.default_operator);
    for c in [&a, &b] {
        let d = env.store.get_device(c.device_id()).await.unwrap().unwrap();
        assert_eq!(d.site_id, Some(site_id));
    }
    let mut renamed = site_body("Coventry Central", &[&a.id]);
    renamed["site_id"] = json!(site_id.to_string());
    let again = a.post(&app, "/v1/device/site", renamed).await;
    assert_eq!(again.data()["site_id"], site_id.to_string(), "upsert");
    let updated = env.store.get_site(site_id).await.unwrap().unwrap();
    assert_eq!(updated.name, "Coventry Central");
    assert_eq!(updated.created_at, site.created_at);
}

#[tokio::test]
async fn unknown_devices_are_named_and_nothing_is_written() {
    let env = TestEnv::with_settings(no_request_log).await;
    let app = app(&env);
    let a = charger(&app, "SITE-C").await;
    let ghost = kernel::ids::DeviceId::random().to_string();
    let before = env.snapshot().await;
    let r = a
        .post(
            &app,
            "/v1/device/site",
            site_body("Ghosts", &[&a.id, &ghost]),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.data()["errors"][0]["problem"]
            .as_str()
            .unwrap()
            .contains(&ghost)
    );
    assert_eq!(env.snapshot().await, before);
}

async fn foreign_site(env: &TestEnv, devices: Vec<String>) -> SiteId {
    let other = env.operator("other-operator").await;
    let devices = devices
        .iter()
        .map(|d| DeviceId::parse(d).unwrap())
        .collect();
    env.domain
        .sites
        .register_site(
            &SiteAuthority::Console(Caller {
                client_id: "other-client".into(),
                role: Role::Operator,
                operators: vec![other.clone()],
            }),
            SiteRegistration {
                site_id: None,
                operator_id: Some(other.clone()),
                name: "Theirs".into(),
                address: String::new(),
                postcode: String::new(),
                lat: 51.5,
                lng: -0.1,
                power_capacity: 50.0,
                device_ids: devices,
            },
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn another_operators_site_cannot_be_overwritten() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let a = charger(&app, "SITE-D").await;
    let theirs = foreign_site(&env, vec![]).await;
    let mut body = site_body("Mine now", &[]);
    body["site_id"] = json!(theirs.to_string());
    let r = a.post(&app, "/v1/device/site", body).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, 40400));
    assert_eq!(
        env.store.get_site(theirs).await.unwrap().unwrap().name,
        "Theirs"
    );
}

#[tokio::test]
async fn a_device_of_another_operators_site_cannot_be_pulled_in() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let theirs_device = charger(&app, "SITE-E").await;
    let site = foreign_site(&env, vec![theirs_device.id.clone()]).await;
    let r = theirs_device
        .post(
            &app,
            "/v1/device/site",
            site_body("Grab", &[&theirs_device.id]),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, 40300));
    let d = env
        .store
        .get_device(theirs_device.device_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.site_id, Some(site));
    assert_eq!(d.operator_id.as_str(), "other-operator");
}

#[tokio::test]
async fn naming_an_operator_without_a_token_for_it_is_forbidden_and_writes_nothing() {
    let env = TestEnv::with_settings(no_request_log).await;
    let app = app(&env);
    let a = charger(&app, "SITE-F").await;
    env.operator("other-operator").await;
    let before = env.snapshot().await;
    let mut body = site_body("Claimed", &[]);
    body["operator_id"] = json!("other-operator");
    let r = a.post(&app, "/v1/device/site", body.clone()).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, 40300), "{:?}", r.body);
    let anonymous = call(&app, "POST", "/v1/device/site", &[], Some(body)).await;
    assert_eq!(anonymous.status.as_u16(), 403);
    assert_eq!(env.snapshot().await, before);
}

/// A site with charger `a` in it, registered by `a`.
async fn site_of(app: &axum::Router, a: &Charger, name: &str) -> String {
    let r = a
        .post(app, "/v1/device/site", site_body(name, &[&a.id]))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.data()["site_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_existing_site_is_changed_only_by_its_operator_or_a_charger_in_it() {
    let env = TestEnv::with_settings(no_request_log).await;
    let app = app(&env);
    let a = charger(&app, "OWN-A").await;
    let outsider = charger(&app, "OWN-B").await;
    let site_id = site_of(&app, &a, "Depot").await;
    let mut takeover = site_body("Taken", &[]);
    takeover["site_id"] = json!(site_id);
    takeover["power_capacity"] = json!(0.2);
    let before = env.snapshot().await;
    let anonymous = call(&app, "POST", "/v1/device/site", &[], Some(takeover.clone())).await;
    assert_eq!((anonymous.status.as_u16(), anonymous.code()), (404, 40400));
    let foreign = outsider
        .post(&app, "/v1/device/site", takeover.clone())
        .await;
    assert_eq!((foreign.status.as_u16(), foreign.code()), (404, 40400));
    assert_eq!(env.snapshot().await, before, "nothing changed");

    let acme = env.domain.settings.default_operator.clone();
    let operator = env.operator_token(Role::Operator, vec![acme]).await;
    let viewer = env
        .operator_token(
            Role::Viewer,
            vec![env.domain.settings.default_operator.clone()],
        )
        .await;
    let as_viewer = testkit::call_as(
        &app,
        &viewer,
        "POST",
        "/v1/device/site",
        Some(takeover.clone()),
    )
    .await;
    assert_eq!(as_viewer.status.as_u16(), 404, "viewers do not place sites");
    let as_operator = testkit::call_as(
        &app,
        &operator,
        "POST",
        "/v1/device/site",
        Some(takeover.clone()),
    )
    .await;
    assert_eq!(as_operator.status, 200, "{:?}", as_operator.body);
    let by_member = a.post(&app, "/v1/device/site", takeover).await;
    assert_eq!(by_member.status, 200, "{:?}", by_member.body);
    let site = env
        .store
        .get_site(SiteId::parse(&site_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(site.name, "Taken");
}

#[tokio::test]
async fn a_device_in_a_site_is_moved_only_with_that_sites_rights() {
    let env = TestEnv::with_settings(no_request_log).await;
    let app = app(&env);
    let a = charger(&app, "MOVE-A").await;
    let b = charger(&app, "MOVE-B").await;
    let free = charger(&app, "MOVE-C").await;
    let site_id = site_of(&app, &a, "Home").await;
    let before = env.snapshot().await;
    // Another charger, or anyone without a token, may create a new site,
    // but not with a device that is in one already.
    for (caller, name) in [(Some(&b), "Grab"), (None, "Grab anonymously")] {
        let body = site_body(name, &[&free.id, &a.id]);
        let r = match caller {
            Some(c) => c.post(&app, "/v1/device/site", body).await,
            None => call(&app, "POST", "/v1/device/site", &[], Some(body)).await,
        };
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (404, 40400),
            "{name}: {:?}",
            r.body
        );
    }
    assert_eq!(env.snapshot().await, before, "nothing changed");
    let fresh = call(
        &app,
        "POST",
        "/v1/device/site",
        &[],
        Some(site_body("New", &[&free.id])),
    )
    .await;
    assert_eq!(fresh.status, 200, "unplaced devices may found a site");
    // A charger in the site may move its site's devices on.
    let moved = a
        .post(&app, "/v1/device/site", site_body("Next door", &[&a.id]))
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    let d = env.store.get_device(a.device_id()).await.unwrap().unwrap();
    assert_ne!(d.site_id.unwrap().to_string(), site_id);
}

#[tokio::test]
async fn a_report_after_expiry_is_refused_and_a_late_repeat_is_harmless() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "CS-9").await;
    let cmd = queue(&env, &c, CommandKind::Reboot).await;
    c.get(&app, "/v1/device/commands?wait=0").await;
    let report = |status: &str| json!({"command_id": cmd.command_id.to_string(), "status": status, "timestamp": env.now()});
    assert_eq!(
        c.post(&app, "/v1/device/command-status", report("accepted"))
            .await
            .status,
        200
    );
    assert_eq!(
        c.post(&app, "/v1/device/command-status", report("completed"))
            .await
            .status,
        200
    );
    assert_eq!(
        c.post(&app, "/v1/device/command-status", report("accepted"))
            .await
            .status,
        200,
        "a repeated earlier report is success"
    );

    let late = queue(&env, &c, CommandKind::Reboot).await;
    c.get(&app, "/v1/device/commands?wait=0").await;
    env.clock.advance(Duration::minutes(6));
    let body = json!({"command_id": late.command_id.to_string(), "status": "accepted", "timestamp": env.now()});
    let r = c.post(&app, "/v1/device/command-status", body).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, 40900));
    let stored = env
        .store
        .get_command(late.command_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, CommandStatus::Expired);
}

#[tokio::test]
async fn a_charger_that_only_long_polls_stays_seen() {
    let env = TestEnv::new().await;
    let app = app(&env);
    let c = charger(&app, "LP-SEEN").await;
    env.clock.advance(Duration::minutes(5));
    c.get(&app, "/v1/device/commands?wait=0").await;
    let d = env.store.get_device(c.device_id()).await.unwrap().unwrap();
    assert_eq!(d.last_seen, Some(kernel::Clock::now(env.clock.as_ref())));
}

#[tokio::test]
async fn a_site_of_500_chargers_registers_moves_whole_and_a_foreign_member_moves_none() {
    let env = TestEnv::with_settings(|s| {
        no_request_log(s);
        s.registration_limit.attempts = 0;
    })
    .await;
    let app = app(&env);
    // Moto copies every table for each transaction: fewer there, still
    // several transactions' worth.
    let size = if env.backend == "dynoxide" { 500 } else { 120 };
    let installer = charger(&app, "BIG-000").await;
    let mut ids = vec![installer.id.clone()];
    for i in 1..size {
        let reg = domain::devices::Registration {
            sn: kernel::ids::SerialNumber::parse(&format!("BIG-{i:03}")).unwrap(),
            model: "TP-AC22".into(),
            manufacturer: "Tellus Power".into(),
            firmware_version: kernel::version::FirmwareVersion::parse("1.5.0").unwrap(),
        };
        let creds = env
            .domain
            .devices
            .register(reg, Default::default(), "test")
            .await
            .unwrap();
        ids.push(creds.device_id.to_string());
    }
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();
    let in_site = |site: SiteId| {
        let env = &env;
        let ids: Vec<DeviceId> = ids.iter().map(|d| DeviceId::parse(d).unwrap()).collect();
        async move {
            let devices = env.store.get_devices(&ids).await.unwrap();
            devices.len() == ids.len() && devices.iter().all(|d| d.site_id == Some(site))
        }
    };

    let r = call(
        &app,
        "POST",
        "/v1/device/site",
        &[],
        Some(site_body("Big", &all)),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let big = SiteId::parse(r.data()["site_id"].as_str().unwrap()).unwrap();
    assert!(in_site(big).await, "every member joined");

    // A charger of the site moves all of them to a new one.
    let r = installer
        .post(&app, "/v1/device/site", site_body("Bigger", &all))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let bigger = SiteId::parse(r.data()["site_id"].as_str().unwrap()).unwrap();
    assert!(in_site(bigger).await, "every member moved");
    assert_eq!(env.store.site_devices(big).await.unwrap().len(), 0);

    // One member of another operator's site: nothing moves.
    let theirs = charger(&app, "THEIRS-1").await;
    foreign_site(&env, vec![theirs.id.clone()]).await;
    let mut with_foreign = all[1..].to_vec();
    with_foreign.push(&theirs.id);
    let before = env.snapshot().await;
    let r = installer
        .post(&app, "/v1/device/site", site_body("Grab", &with_foreign))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (404, 40400), "{:?}", r.body);
    assert_eq!(env.snapshot().await, before);
    assert!(in_site(bigger).await);
}
