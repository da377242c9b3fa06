//! Partner platforms (contract §9): partner management, the T/CEC
//! envelope (signature before decryption, time window, replays, tokens),
//! every legacy route's answers and refusals, steering through the
//! console's command pipeline, and tenancy.

use chrono::Duration;
use domain::commands::CommandStore;
use kernel::Clock;
use kernel::ids::OperatorId;
use kernel::model::Role;
use serde_json::{Value, json};
use system_tests::world;
use testkit::partner::{TestPartner, new_code};
use testkit::{Charger, TestEnv, call, call_as};

struct World {
    base: world::World,
    acme: OperatorId,
    partner: TestPartner,
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
        Self::on(TestEnv::new().await).await
    }

    /// Pushes may go to this machine over plain http, as on a developer's
    /// machine with a partner simulator.
    async fn allowing_local_pushes() -> Self {
        Self::on(TestEnv::with_settings(|s| s.allow_local_notify_urls = true).await).await
    }

    async fn on(env: TestEnv) -> Self {
        let base = world::World::on(env);
        let acme = base.acme();
        let partner = TestPartner::create(&base.env, &base.app, &acme).await;
        let admin = base.token(Role::Admin).await;
        Self {
            base,
            acme,
            partner,
            admin,
        }
    }

    /// A charger of `model` in a new site of the default operator, online.
    async fn charger(&self, sn: &str, model: &str) -> (Charger, String) {
        let c = Charger::of_model(&self.app, sn, model, "1.0.0").await;
        let site = c
            .post(
                &self.app,
                "/v1/device/site",
                json!({"name": format!("Site {sn}"), "address": "1 High St", "postcode": "CV1 1AA",
                    "lat": 52.4, "lng": -1.5, "power_capacity": 400.0, "device_ids": [c.id]}),
            )
            .await;
        assert_eq!(site.status, 200, "{:?}", site.body);
        self.heartbeat(&c).await;
        (c, site.data()["site_id"].as_str().unwrap().to_owned())
    }

    async fn state(&self, c: &Charger, state: &str) {
        let r = c
            .post(
                &self.app,
                "/v1/device/status",
                json!({"timestamp": self.at(0), "connector_id": 1, "state": state, "voltage": 400.0,
                    "current": 20.0, "power": 8.0, "energy_delivered": 1.0, "soc": 50.0}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    /// The charger takes its pending start command and answers `status`.
    async fn answer_start(&self, c: &Charger, status: &str) {
        let start = self
            .heartbeat(c)
            .await
            .into_iter()
            .find(|cmd| cmd["command"] == "start_charging" || cmd["command"] == "start_discharging")
            .expect("a start command");
        self.report(c, start["command_id"].as_str().unwrap(), status)
            .await;
    }

    async fn legacy(&self, route: &str, payload: Value) -> testkit::partner::Opened {
        self.partner
            .call(&self.env, &self.app, route, &payload)
            .await
    }

    async fn open_commands(&self, c: &Charger) -> usize {
        self.env
            .store
            .open_commands(c.device_id())
            .await
            .unwrap()
            .len()
    }
}

#[tokio::test]
async fn admins_create_partners_whose_secrets_are_shown_once() {
    let w = World::new().await;
    let body = json!({"partner_operator_id": new_code(), "name": "Hub", "operator_id": w.acme.as_str(),
        "data_secret": "q7Fz2kLp9XwA4mRt", "notify_url": "https://hub.example.net/evcs/"});
    let created = call(
        &w.app,
        "POST",
        "/admin/partners",
        &[("authorization", &format!("Bearer {}", w.admin))],
        Some(body.clone()),
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let data = created.data();
    assert_eq!(data["data_secret"], "q7Fz2kLp9XwA4mRt");
    for generated in ["operator_secret", "data_secret_iv", "sig_secret"] {
        assert_eq!(data[generated].as_str().unwrap().len(), 16, "{generated}");
    }
    assert_eq!(data["notify_url"], "https://hub.example.net/evcs");
    assert_eq!(data["utc_offset_minutes"], 480);

    let listed = call_as(&w.app, &w.admin, "GET", "/admin/partners", None).await;
    assert_eq!(listed.status, 200);
    let text = listed.body.to_string();
    assert!(
        !text.contains("q7Fz2kLp9XwA4mRt") && !text.contains("secret"),
        "{text}"
    );
    assert_eq!(listed.data().as_array().unwrap().len(), 2);

    let again = call_as(&w.app, &w.admin, "POST", "/admin/partners", Some(body)).await;
    assert_eq!(again.status, 409);
    for (field, weak) in [
        ("data_secret", "1234567890abcdef"),
        ("sig_secret", "aaaaaaaaaaaaaaaa"),
        ("operator_secret", "abcabcabcabcabca"),
    ] {
        let body = json!({"partner_operator_id": new_code(), "name": "Weak", "operator_id": w.acme.as_str(),
            field: weak});
        let r = call_as(&w.app, &w.admin, "POST", "/admin/partners", Some(body)).await;
        assert_eq!(r.status, 422, "{field}: {:?}", r.body);
        assert_eq!(r.data()["errors"][0]["field"], field);
    }
    let bad = json!({"partner_operator_id": "lower", "name": "", "operator_id": "acme-charging-uk",
        "sig_secret": "short", "utc_offset_minutes": 9999});
    let bad = call_as(&w.app, &w.admin, "POST", "/admin/partners", Some(bad)).await;
    assert_eq!(bad.status, 422);
    let fields: Vec<&str> = bad.data()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "partner_operator_id",
            "name",
            "sig_secret",
            "utc_offset_minutes"
        ]
    );
    let unknown =
        json!({"partner_operator_id": new_code(), "name": "Hub", "operator_id": "nobody"});
    let unknown = call_as(&w.app, &w.admin, "POST", "/admin/partners", Some(unknown)).await;
    assert_eq!(unknown.status, 422);

    let operator = w
        .env
        .operator_token(Role::Operator, vec![w.acme.clone()])
        .await;
    let denied = call_as(&w.app, &operator, "GET", "/admin/partners", None).await;
    assert_eq!(denied.status, 403);
}

#[tokio::test]
async fn the_creation_answer_is_not_cached() {
    let w = World::new().await;
    let req = axum::http::Request::post("/admin/partners")
        .header("authorization", format!("Bearer {}", w.admin))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"partner_operator_id": new_code(), "name": "Hub", "operator_id": w.acme.as_str()})
                .to_string(),
        ))
        .unwrap();
    let res = tower::ServiceExt::oneshot(w.app.clone(), req)
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn query_token_checks_the_operator_and_its_secret() {
    let w = World::new().await;
    let p = &w.partner;
    let wrong = w
        .legacy(
            "/customer/query_token",
            json!({"OperatorID": p.code, "OperatorSecret": "0000000000000000"}),
        )
        .await;
    assert_eq!(wrong.ret, 0);
    assert_eq!(
        (
            wrong.data["SuccStat"].as_u64(),
            wrong.data["FailReason"].as_u64()
        ),
        (Some(1), Some(2))
    );
    let other = w
        .legacy(
            "/customer/query_token",
            json!({"OperatorID": "999999999", "OperatorSecret": p.operator_secret}),
        )
        .await;
    assert_eq!(other.data["FailReason"], 1);
    let ok = w
        .legacy(
            "/customer/query_token",
            json!({"OperatorID": p.code, "OperatorSecret": p.operator_secret}),
        )
        .await;
    assert_eq!(ok.data["SuccStat"], 0);
    assert_eq!(ok.data["TokenAvailableTime"], 7200);
    assert_eq!(ok.data["AccessToken"].as_str().unwrap().len(), 64);

    // A token expires after 7200 s.
    w.env.clock.advance(Duration::seconds(7201));
    let late = w
        .legacy("/customer/query_station_info", json!({"PageNo": 1}))
        .await;
    assert_eq!(late.ret, 4002);
}

#[tokio::test]
async fn the_envelope_is_checked_signature_first_and_never_answers_5xx() {
    let w = World::new().await;
    let p = &w.partner;
    let route = "/customer/query_station_info";
    let token = Some(p.token.as_str());
    let sealed = |payload: &[u8]| serde_json::to_value(p.seal(&w.env, payload)).unwrap();

    // A changed Data with the old Sig: 4001, and the answer is signed.
    let mut tampered = sealed(b"{\"PageNo\":1}");
    tampered["Data"] = json!("AAAAAAAAAAAAAAAAAAAAAA==");
    let r = p.send(&w.app, route, tampered, token).await;
    assert_eq!(r.ret, 4001);
    assert!(!r.answer.sig.is_empty());

    // Correctly signed but undecryptable Data: 4003 (bad Base64, partial
    // blocks, bad padding); decrypted but not JSON: 4004.
    let seal_raw = |data: &str| {
        let ts = p.time_stamp(w.env.clock.now());
        let seq = p.next_seq();
        let sig = p.keys.sign(&[&p.code, data, &ts, &seq]);
        json!({"OperatorID": p.code, "Data": data, "TimeStamp": ts, "Seq": seq, "Sig": sig})
    };
    // Bad padding, whatever the keys: one block of payload seals to two
    // blocks, the second all padding (0x10); flipping 0x10 into the first
    // block's last byte makes the last decrypted byte 0x00.
    let one_block = sealed(b"0123456789abcdef")["Data"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut blocks =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &one_block).unwrap();
    assert_eq!(blocks.len(), 32);
    blocks[15] ^= 0x10;
    let bad_padding = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &blocks);
    for data in ["%%%not base64", "AAAA", bad_padding.as_str()] {
        let r = p.send(&w.app, route, seal_raw(data), token).await;
        assert_eq!(r.ret, 4003, "{data}: {}", r.msg);
    }
    let r = p.send(&w.app, route, sealed(b"PageNo=1"), token).await;
    assert_eq!(r.ret, 4004, "{}", r.msg);
    let r = p
        .send(&w.app, route, sealed(b"{\"PageSize\":\"ten\"}"), token)
        .await;
    assert_eq!(r.ret, 4004, "{}", r.msg);

    // Not an envelope, or a missing field: 4003, unsigned.
    for body in [json!("text"), json!({"OperatorID": p.code, "Data": ""})] {
        let r = p.send(&w.app, route, body, token).await;
        assert_eq!(r.ret, 4003);
        assert_eq!(r.answer.sig, "");
    }
    // An unknown OperatorID cannot be verified: 4001, unsigned.
    let mut stranger = sealed(b"{}");
    stranger["OperatorID"] = json!("000000000");
    let r = p.send(&w.app, route, stranger, token).await;
    assert_eq!((r.ret, r.answer.sig.as_str()), (4001, ""));
    // A bad Seq.
    let mut bad_seq = seal_raw("AAAA");
    bad_seq["Seq"] = json!("12");
    let sig = p.keys.sign(&[
        &p.code,
        "AAAA",
        bad_seq["TimeStamp"].as_str().unwrap(),
        "12",
    ]);
    bad_seq["Sig"] = json!(sig);
    assert_eq!(p.send(&w.app, route, bad_seq, token).await.ret, 4003);
}

#[tokio::test]
async fn stale_time_stamps_and_replays_are_refused() {
    let w = World::new().await;
    let p = &w.partner;
    let route = "/customer/query_station_info";
    let token = Some(p.token.as_str());
    let now = w.env.clock.now();
    let payload = b"{\"PageNo\":1}";
    for (offset, ret) in [(-360, 4003), (360, 4003), (-240, 0), (240, 0)] {
        let body =
            serde_json::to_value(p.seal_at(now + Duration::seconds(offset), payload)).unwrap();
        assert_eq!(
            p.send(&w.app, route, body, token).await.ret,
            ret,
            "{offset} s"
        );
    }
    let once = serde_json::to_value(p.seal(&w.env, payload)).unwrap();
    assert_eq!(p.send(&w.app, route, once.clone(), token).await.ret, 0);
    let replay = p.send(&w.app, route, once, token).await;
    assert_eq!(replay.ret, 4003);
    assert!(replay.msg.contains("replay"), "{}", replay.msg);
}

#[tokio::test]
async fn every_route_but_query_token_needs_the_partners_own_token() {
    let w = World::new().await;
    let volt = w.env.operator("volt-uk").await;
    let other = TestPartner::create(&w.env, &w.app, &volt).await;
    let p = &w.partner;
    for route in [
        "/customer/query_station_info",
        "/customer/notification_stationStatus",
        "/customer/notify_work_status",
        "/cp/query_station_status",
        "/cp/start_charging",
        "/cp/stop_charging",
        "/cp/start_discharging",
        "/cp/stop_discharging",
    ] {
        for token in [
            None,
            Some(other.token.as_str()),
            Some("f".repeat(64).as_str()),
        ] {
            let body = serde_json::to_value(p.seal(&w.env, b"{}")).unwrap();
            assert_eq!(
                p.send(&w.app, route, body, token).await.ret,
                4002,
                "{route}"
            );
        }
    }
}

#[tokio::test]
async fn put_is_accepted_like_post() {
    let w = World::new().await;
    let p = &w.partner;
    let body = serde_json::to_value(p.seal(&w.env, b"{\"PageNo\":1}")).unwrap();
    let bearer = format!("Bearer {}", p.token);
    let reply = call(
        &w.app,
        "PUT",
        "/customer/query_station_info",
        &[("authorization", &bearer)],
        Some(body),
    )
    .await;
    assert_eq!(p.open(reply).ret, 0);
}

#[tokio::test]
async fn stations_map_sites_devices_and_connectors_with_paging() {
    let w = World::new().await;
    let (ac, site_ac) = w.charger("PT-AC-1", "TP-AC22").await;
    let (dc, site_dc) = w.charger("PT-DC-1", "TP-DC180").await;
    w.state(&dc, "charging").await;

    let page = w
        .legacy(
            "/customer/query_station_info",
            json!({"PageNo": 1, "PageSize": 1}),
        )
        .await;
    assert_eq!(page.ret, 0, "{}", page.msg);
    assert_eq!(
        (
            &page.data["PageNo"],
            &page.data["PageCount"],
            &page.data["ItemSize"]
        ),
        (&json!(1), &json!(2), &json!(2))
    );
    let far = w
        .legacy(
            "/customer/query_station_info",
            json!({"PageNo": 99_999_999_999_i64}),
        )
        .await;
    assert_eq!(far.ret, 4004);
    assert!(far.msg.contains("1..1000000"), "{}", far.msg);
    let all = w
        .legacy("/customer/query_station_info", json!({"PageSize": 50}))
        .await;
    let stations = all.data["StationInfos"].as_array().unwrap();
    let ac_station = stations
        .iter()
        .find(|s| s["StationID"] == site_ac.as_str())
        .unwrap();
    assert_eq!(ac_station["StationStatus"], 50);
    assert_eq!(ac_station["Construction"], 255);
    assert_eq!(ac_station["StationName"], "Site PT-AC-1");
    let equipment = &ac_station["EquipmentInfos"][0];
    assert_eq!(equipment["EquipmentID"], ac.id.as_str());
    assert_eq!(equipment["EquipmentType"], 2);
    let connector = &equipment["ConnectorInfos"][0];
    assert_eq!(connector["ConnectorID"], format!("{}-1", ac.id));
    assert_eq!(connector["ConnectorType"], 3);
    assert_eq!(connector["NationalStandard"], 2);
    let dc_station = stations
        .iter()
        .find(|s| s["StationID"] == site_dc.as_str())
        .unwrap();
    assert_eq!(dc_station["EquipmentInfos"][0]["EquipmentType"], 1);
    assert_eq!(
        dc_station["EquipmentInfos"][0]["ConnectorInfos"][0]["ConnectorType"],
        4
    );

    // LastQueryTime (partner's time zone) keeps stations changed since.
    let later = w
        .partner
        .time_stamp(w.env.clock.now() + Duration::minutes(1));
    let since = format!(
        "{}-{}-{} {}:{}:{}",
        &later[..4],
        &later[4..6],
        &later[6..8],
        &later[8..10],
        &later[10..12],
        &later[12..14]
    );
    let none = w
        .legacy(
            "/customer/query_station_info",
            json!({"LastQueryTime": since}),
        )
        .await;
    assert_eq!(none.data["ItemSize"], 0);
    let too_big = w
        .legacy("/customer/query_station_info", json!({"PageSize": 51}))
        .await;
    assert_eq!(too_big.ret, 4004);

    let status = w
        .legacy(
            "/cp/query_station_status",
            json!({"StationIDs": [site_ac, site_dc, kernel::ids::SiteId::random().to_string(), "junk"]}),
        )
        .await;
    assert_eq!(status.ret, 0);
    assert_eq!(status.data["Total"], 2);
    let infos = status.data["StationStatusInfos"].as_array().unwrap();
    let dc_info = infos
        .iter()
        .find(|s| s["StationID"] == site_dc.as_str())
        .unwrap();
    let first = &dc_info["ConnectorStatusInfos"][0];
    assert_eq!(first["ConnectorID"], format!("{}-1", dc.id));
    assert_eq!(first["Status"], 3);
    let ac_info = infos
        .iter()
        .find(|s| s["StationID"] == site_ac.as_str())
        .unwrap();
    assert_eq!(ac_info["ConnectorStatusInfos"][0]["Status"], 1);

    // Offline devices' connectors are 0.
    w.env.clock.advance(Duration::seconds(200));
    let offline = w
        .legacy("/cp/query_station_status", json!({"StationIDs": [site_ac]}))
        .await;
    assert_eq!(
        offline.data["StationStatusInfos"][0]["ConnectorStatusInfos"][0]["Status"],
        0
    );
    let many: Vec<String> = (0..51)
        .map(|_| kernel::ids::SiteId::random().to_string())
        .collect();
    let over = w
        .legacy("/cp/query_station_status", json!({"StationIDs": many}))
        .await;
    assert_eq!(over.ret, 4004);
}

#[tokio::test]
async fn start_charging_queues_one_command_per_start_charge_seq() {
    let w = World::new().await;
    let (c, _) = w.charger("PT-START-1", "TP-AC22").await;
    let seq = w.partner.start_charge_seq();
    let connector = format!("{}-1", c.id);
    let body = json!({"StartChargeSeq": seq, "ConnectorID": connector});
    let first = w.legacy("/cp/start_charging", body.clone()).await;
    assert_eq!(first.ret, 0, "{}", first.msg);
    assert_eq!(
        first.data,
        json!({"StartChargeSeq": seq, "StartChargeSeqStat": 1, "ConnectorID": connector,
            "SuccStat": 0, "FailReason": 0})
    );
    let again = w.legacy("/cp/start_charging", body).await;
    assert_eq!(again.data, first.data);
    assert_eq!(w.open_commands(&c).await, 1);
    let command = &w.env.store.open_commands(c.device_id()).await.unwrap()[0];
    assert_eq!(command.kind(), kernel::model::CommandKind::StartCharging);

    // The same StartChargeSeq for another connector is refused.
    let reused = w
        .legacy(
            "/cp/start_charging",
            json!({"StartChargeSeq": seq, "ConnectorID": format!("{}-2", c.id)}),
        )
        .await;
    assert_eq!(
        (&reused.data["SuccStat"], &reused.data["FailReason"]),
        (&json!(1), &json!(4))
    );
    // A StartChargeSeq must carry the partner's id.
    let foreign = w
        .legacy(
            "/cp/start_charging",
            json!({"StartChargeSeq": format!("999999999{}", &seq[9..]), "ConnectorID": connector}),
        )
        .await;
    assert_eq!(foreign.ret, 4004);
    let short = w
        .legacy(
            "/cp/start_charging",
            json!({"StartChargeSeq": "ABC", "ConnectorID": connector}),
        )
        .await;
    assert_eq!(short.ret, 4004);
}

#[tokio::test]
async fn start_charging_fails_with_the_standards_reasons() {
    let w = World::new().await;
    let (c, _) = w.charger("PT-FAIL-1", "TP-AC22").await;
    let start = |connector: String| json!({"StartChargeSeq": w.partner.start_charge_seq(), "ConnectorID": connector});
    let reason = |o: &testkit::partner::Opened| {
        assert_eq!(o.ret, 0, "{}", o.msg);
        assert_eq!(o.data["SuccStat"], 1);
        o.data["FailReason"].as_u64().unwrap()
    };
    let unknown_device = format!("{}-1", kernel::ids::DeviceId::random());
    assert_eq!(
        reason(&w.legacy("/cp/start_charging", start(unknown_device)).await),
        1
    );
    let unknown_connector = format!("{}-9", c.id);
    assert_eq!(
        reason(
            &w.legacy("/cp/start_charging", start(unknown_connector))
                .await
        ),
        1
    );
    w.env.clock.advance(Duration::seconds(200));
    assert_eq!(
        reason(
            &w.legacy("/cp/start_charging", start(format!("{}-1", c.id)))
                .await
        ),
        2
    );
    let malformed = w
        .legacy("/cp/start_charging", start("not-a-connector".into()))
        .await;
    assert_eq!(malformed.ret, 4004);
    assert_eq!(w.open_commands(&c).await, 0);
}

#[tokio::test]
async fn stop_charging_needs_a_charging_connector() {
    let w = World::new().await;
    let (c, _) = w.charger("PT-STOP-1", "TP-AC22").await;
    let seq = w.partner.start_charge_seq();
    let body = json!({"StartChargeSeq": seq, "ConnectorID": format!("{}-1", c.id)});
    let idle = w.legacy("/cp/stop_charging", body.clone()).await;
    assert_eq!(
        idle.data,
        json!({"StartChargeSeq": seq, "StartChargeSeqStat": 5, "SuccStat": 1, "FailReason": 3})
    );
    let start = w.legacy("/cp/start_charging", body.clone()).await;
    assert_eq!(start.data["SuccStat"], 0, "{:?}", start.data);
    w.answer_start(&c, "accepted").await;
    w.state(&c, "charging").await;
    let stop = w.legacy("/cp/stop_charging", body.clone()).await;
    assert_eq!(
        stop.data,
        json!({"StartChargeSeq": seq, "StartChargeSeqStat": 3, "SuccStat": 0, "FailReason": 0})
    );
    assert_eq!(w.legacy("/cp/stop_charging", body).await.data, stop.data);
    // One stop, however often it is asked (the start is answered).
    assert_eq!(w.open_commands(&c).await, 1);
}

#[tokio::test]
async fn a_partner_stops_only_the_session_it_started() {
    let w = World::new().await;
    let volt = TestPartner::create(&w.env, &w.app, &w.acme).await;
    let refused = |seq: &str| json!({"StartChargeSeq": seq, "StartChargeSeqStat": 5, "SuccStat": 1, "FailReason": 3});

    // A session the console started: no partner may stop it.
    let (c, _) = w.charger("PT-OWN-1", "TP-AC22").await;
    let operator = w
        .env
        .operator_token(Role::Operator, vec![w.acme.clone()])
        .await;
    let console = call_as(
        &w.app,
        &operator,
        "POST",
        &format!("/v1/devices/{}/connectors/1/start", c.id),
        Some(json!({})),
    )
    .await;
    assert_eq!(console.status.as_u16(), 202, "{:?}", console.body);
    w.state(&c, "charging").await;
    let seq = w.partner.start_charge_seq();
    let stop = json!({"StartChargeSeq": seq, "ConnectorID": format!("{}-1", c.id)});
    assert_eq!(
        w.legacy("/cp/stop_charging", stop).await.data,
        refused(&seq)
    );
    assert_eq!(w.open_commands(&c).await, 1, "nothing sent to the charger");

    // Another partner's session: neither a new nor an old seq stops it.
    let (d, _) = w.charger("PT-OWN-2", "TP-AC22").await;
    let connector = format!("{}-1", d.id);
    let theirs = volt.start_charge_seq();
    let started = volt
        .call(
            &w.env,
            &w.app,
            "/cp/start_charging",
            &json!({"StartChargeSeq": theirs, "ConnectorID": connector}),
        )
        .await;
    assert_eq!(started.data["SuccStat"], 0, "{:?}", started.data);
    w.answer_start(&d, "accepted").await;
    w.state(&d, "charging").await;
    let mine = w.partner.start_charge_seq();
    let stop = json!({"StartChargeSeq": mine, "ConnectorID": connector});
    assert_eq!(
        w.legacy("/cp/stop_charging", stop).await.data,
        refused(&mine)
    );
    assert_eq!(w.open_commands(&d).await, 0, "nothing sent to the charger");

    // Its own session, named by another of its seqs: refused too.
    let (e, _) = w.charger("PT-OWN-3", "TP-AC22").await;
    let connector = format!("{}-1", e.id);
    let own = w.partner.start_charge_seq();
    let start = json!({"StartChargeSeq": own, "ConnectorID": connector});
    assert_eq!(
        w.legacy("/cp/start_charging", start).await.data["SuccStat"],
        0
    );
    w.answer_start(&e, "accepted").await;
    w.state(&e, "charging").await;
    let other = w.partner.start_charge_seq();
    let wrong = json!({"StartChargeSeq": other, "ConnectorID": connector});
    assert_eq!(
        w.legacy("/cp/stop_charging", wrong).await.data,
        refused(&other)
    );
    let right = json!({"StartChargeSeq": own, "ConnectorID": connector});
    assert_eq!(
        w.legacy("/cp/stop_charging", right).await.data["SuccStat"],
        0
    );
    assert_eq!(
        w.open_commands(&e).await,
        1,
        "its stop (the start is answered)"
    );

    // A start the charger refused leaves its mark behind, but a session
    // begun later by someone else is still not the partner's to stop.
    let (f, _) = w.charger("PT-OWN-4", "TP-AC22").await;
    let connector = format!("{}-1", f.id);
    let refused_start = w.partner.start_charge_seq();
    let start = json!({"StartChargeSeq": refused_start, "ConnectorID": connector});
    assert_eq!(
        w.legacy("/cp/start_charging", start).await.data["SuccStat"],
        0
    );
    w.answer_start(&f, "rejected").await;
    w.env.clock.advance(Duration::minutes(2));
    w.state(&f, "charging").await;
    let stale = json!({"StartChargeSeq": refused_start, "ConnectorID": connector});
    assert_eq!(
        w.legacy("/cp/stop_charging", stale).await.data,
        refused(&refused_start)
    );
    assert_eq!(w.open_commands(&f).await, 0, "nothing sent to the charger");
}

#[tokio::test]
async fn discharging_uses_the_console_checks() {
    let w = World::new().await;
    let (ac, _) = w.charger("PT-V2G-AC", "TP-AC22").await;
    let (v2g, _) = w.charger("PT-V2G-DC", "TP-DC180").await;
    let discharge = |c: &Charger, power: f64| {
        json!({"StartChargeSeq": w.partner.start_charge_seq(), "ConnectorID": format!("{}-1", c.id),
            "DischargePower": power, "Duration": 900, "MinSoc": 30})
    };
    let not_v2g = w
        .legacy("/cp/start_discharging", discharge(&ac, 10.0))
        .await;
    assert_eq!(
        (&not_v2g.data["SuccStat"], &not_v2g.data["FailReason"]),
        (&json!(1), &json!(3))
    );
    let over = w
        .legacy("/cp/start_discharging", discharge(&v2g, 10_000.0))
        .await;
    assert_eq!(over.data["FailReason"], 3);
    let ok = w
        .legacy("/cp/start_discharging", discharge(&v2g, 10.0))
        .await;
    assert_eq!(
        (&ok.data["SuccStat"], &ok.data["StartChargeSeqStat"]),
        (&json!(0), &json!(1))
    );
    let seq = ok.data["StartChargeSeq"].as_str().unwrap();
    let stop = json!({"StartChargeSeq": seq, "ConnectorID": format!("{}-1", v2g.id)});
    let not_yet = w.legacy("/cp/stop_discharging", stop.clone()).await;
    assert_eq!(not_yet.data["FailReason"], 3);
    w.answer_start(&v2g, "accepted").await;
    w.state(&v2g, "discharging").await;
    let stopped = w.legacy("/cp/stop_discharging", stop).await;
    assert_eq!(stopped.data["SuccStat"], 0);
    assert_eq!(w.open_commands(&v2g).await, 1, "the stop");
    let missing = w
        .legacy(
            "/cp/start_discharging",
            json!({"StartChargeSeq": w.partner.start_charge_seq(), "ConnectorID": format!("{}-1", v2g.id)}),
        )
        .await;
    assert_eq!(missing.ret, 4004);
}

#[tokio::test]
async fn a_partner_sees_and_steers_only_its_tenants_fleet() {
    let w = World::new().await;
    let (c, site) = w.charger("PT-TEN-1", "TP-AC22").await;
    let volt = w.env.operator("volt-uk").await;
    let outsider = TestPartner::create(&w.env, &w.app, &volt).await;
    let stations = outsider
        .call(
            &w.env,
            &w.app,
            "/customer/query_station_info",
            &json!({"PageSize": 50}),
        )
        .await;
    assert_eq!(stations.data["ItemSize"], 0);
    let status = outsider
        .call(
            &w.env,
            &w.app,
            "/cp/query_station_status",
            &json!({"StationIDs": [site]}),
        )
        .await;
    assert_eq!(status.data["Total"], 0);
    let start = outsider
        .call(
            &w.env,
            &w.app,
            "/cp/start_charging",
            &json!({"StartChargeSeq": outsider.start_charge_seq(), "ConnectorID": format!("{}-1", c.id)}),
        )
        .await;
    assert_eq!(start.data["FailReason"], 1);
    assert_eq!(w.open_commands(&c).await, 0);
}

#[tokio::test]
async fn pushed_values_outside_the_standards_ranges_are_refused_and_not_kept() {
    let w = World::new().await;
    let seq = w.partner.start_charge_seq();
    let good = json!({"StartChargeSeq": seq, "StartChargeSeqStat": 2, "ConnectorID": "HUB-9-1",
        "ConnectorStatus": 3, "CurrentA": 16.0, "VoltageA": 230.0, "Soc": 40.0,
        "StartTime": "2026-11-25 07:30:00", "EndTime": "2026-11-25 07:40:00",
        "TotalPower": 1.0, "ElecMoney": 0.5, "ServiceMoney": 0.1, "TotalMoney": 0.6});
    for (field, value) in [
        ("CurrentA", json!(1e126)),
        ("TotalPower", json!(1e126)),
        ("TotalMoney", json!(1e126)),
        ("ElecMoney", json!(1e126)),
        ("Soc", json!(500)),
        ("VoltageA", json!(-5)),
        ("TotalPower", json!(-1)),
        ("StartTime", json!("x")),
        ("EndTime", json!("2026-11-25 07:00:00")),
        ("StartChargeSeqStat", json!(99)),
    ] {
        let mut body = good.clone();
        body[field] = value.clone();
        let r = w.legacy("/customer/notify_work_status", body).await;
        assert_eq!(r.ret, 4004, "{field} {value}: {}", r.msg);
        assert!(r.msg.contains(field), "{field}: {}", r.msg);
    }
    let park = w
        .legacy(
            "/customer/notification_stationStatus",
            json!({"ConnectorStatusInfo": {"ConnectorID": "HUB-9-1", "Status": 1, "ParkStatus": 7}}),
        )
        .await;
    assert_eq!(park.ret, 4004, "{}", park.msg);
    let admin = w
        .env
        .operator_token(Role::Viewer, vec![w.acme.clone()])
        .await;
    let path = |what: &str| format!("/v1/partners/{}/{what}", w.partner.partner_id);
    for what in ["sessions", "connectors"] {
        let kept = call_as(&w.app, &admin, "GET", &path(what), None).await;
        assert_eq!(kept.data(), &json!([]), "{what}: nothing was kept");
    }
    let r = w.legacy("/customer/notify_work_status", good).await;
    assert_eq!(r.data["SuccStat"], 0, "{}", r.msg);
}

#[tokio::test]
async fn pushes_are_kept_per_partner_newest_wins_and_read_by_the_owner_only() {
    let w = World::new().await;
    let p = &w.partner;
    for status in [2, 3] {
        let r = w
            .legacy(
                "/customer/notification_stationStatus",
                json!({"ConnectorStatusInfo": {"ConnectorID": "HUB-7-1", "Status": status,
                    "ParkStatus": 0, "LockStatus": 0}}),
            )
            .await;
        assert_eq!((r.ret, &r.data), (0, &json!({"Status": 0})));
    }
    let bad = w
        .legacy(
            "/customer/notification_stationStatus",
            json!({"ConnectorStatusInfo": {"ConnectorID": "HUB-7-1", "Status": 9}}),
        )
        .await;
    assert_eq!(bad.ret, 4004);
    let seq = p.start_charge_seq();
    for (soc, power) in [(40.0, 1.0), (60.0, 5.5)] {
        let r = w
            .legacy(
                "/customer/notify_work_status",
                json!({"StartChargeSeq": seq, "StartChargeSeqStat": 2, "ConnectorID": "HUB-7-1",
                    "ConnectorStatus": 3, "CurrentA": 16.0, "VoltageA": 230.0, "Soc": soc,
                    "StartTime": "2026-11-25 07:30:00", "EndTime": "2026-11-25 07:40:00",
                    "TotalPower": power, "SeviceMoney": 0.4}),
            )
            .await;
        assert_eq!(r.data, json!({"StartChargeSeq": seq, "SuccStat": 0}));
    }

    let operator = w
        .env
        .operator_token(Role::Viewer, vec![w.acme.clone()])
        .await;
    let listed = call_as(&w.app, &operator, "GET", "/v1/partners", None).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.data()[0]["partner_operator_id"], p.code.as_str());
    let path = |what: &str| format!("/v1/partners/{}/{what}", p.partner_id);
    let connectors = call_as(&w.app, &operator, "GET", &path("connectors"), None).await;
    assert_eq!(connectors.status, 200);
    let items = connectors.data().as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], 3);
    let sessions = call_as(&w.app, &operator, "GET", &path("sessions"), None).await;
    let items = sessions.data().as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["soc"], 60.0);
    assert_eq!(items[0]["service_money"], 0.4);

    let volt = w.env.operator("volt-uk").await;
    let stranger = w.env.operator_token(Role::Operator, vec![volt]).await;
    let none = call_as(&w.app, &stranger, "GET", "/v1/partners", None).await;
    assert_eq!(none.data(), &json!([]));
    for what in ["connectors", "sessions"] {
        let hidden = call_as(&w.app, &stranger, "GET", &path(what), None).await;
        assert_eq!(hidden.status, 404, "{what}");
    }
    let admin_view = call_as(&w.app, &w.admin, "GET", &path("sessions"), None).await;
    assert_eq!(admin_view.status, 200);
}

#[tokio::test]
async fn a_refused_start_is_pushed_as_failed_and_kept_until_the_partner_answers() {
    let w = World::allowing_local_pushes().await;
    let (c, _) = w.charger("PT-PUSH-1", "TP-AC22").await;
    // Nothing listens on port 9: every attempt fails.
    let hub = TestPartner::create_with(
        &w.env,
        &w.app,
        &w.acme,
        Some("http://127.0.0.1:9/evcs".into()),
    )
    .await;
    let seq = hub.start_charge_seq();
    let start = hub
        .call(
            &w.env,
            &w.app,
            "/cp/start_charging",
            &json!({"StartChargeSeq": seq, "ConnectorID": format!("{}-1", c.id)}),
        )
        .await;
    assert_eq!(start.data["SuccStat"], 0);
    let now = kernel::input::rfc3339(w.env.clock.now());
    let hb = c
        .post(
            &w.app,
            "/v1/device/heartbeat",
            json!({"timestamp": now, "status": "online"}),
        )
        .await;
    let command_id = hb.data()["commands"][0]["command_id"].as_str().unwrap();
    let report = c
        .post(
            &w.app,
            "/v1/device/command-status",
            json!({"command_id": command_id, "status": "rejected", "timestamp": now}),
        )
        .await;
    assert_eq!(report.status, 200, "{:?}", report.body);

    let path = format!("/admin/partners/{}/deliveries", hub.partner_id);
    let listed = call_as(&w.app, &w.admin, "GET", &path, None).await;
    assert_eq!(listed.status, 200);
    let results: Vec<&Value> = listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["route"] == "notification_start_charge_result")
        .collect();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["payload"]["StartChargeSeq"], seq.as_str());
    assert_eq!(results[0]["payload"]["StartChargeSeqStat"], 5);
    assert_eq!(results[0]["status"], "pending");

    let push = notifier::HttpPush::new(&w.env.domain).unwrap();
    assert_eq!(notifier::drain(&w.env.domain, &push).await.unwrap(), 0);
    let after = call_as(&w.app, &w.admin, "GET", &path, None).await;
    for d in after.data().as_array().unwrap() {
        assert_eq!(d["status"], "pending", "kept while the partner is down");
        assert_eq!(d["attempts"], 1);
        assert!(d["last_error"].as_str().unwrap().contains("no answer"));
    }
    // The partner without a notify_url is told nothing.
    let quiet = format!("/admin/partners/{}/deliveries", w.partner.partner_id);
    let quiet = call_as(&w.app, &w.admin, "GET", &quiet, None).await;
    assert_eq!(quiet.data(), &json!([]));
    let operator = w
        .env
        .operator_token(Role::Operator, vec![w.acme.clone()])
        .await;
    assert_eq!(
        call_as(&w.app, &operator, "GET", &path, None).await.status,
        403
    );
}

#[tokio::test]
async fn query_token_is_throttled_per_partner_and_address_right_secret_or_not() {
    let w = World::new().await;
    let p = &w.partner;
    let login = |secret: &str| {
        let payload = json!({"OperatorID": p.code, "OperatorSecret": secret}).to_string();
        serde_json::to_value(p.seal(&w.env, payload.as_bytes())).unwrap()
    };
    let (guesser, owner) = ("198.51.100.30", "203.0.113.30");
    let mut answers = Vec::new();
    for _ in 0..12 {
        let r = testkit::call_from(
            &w.app,
            guesser,
            "POST",
            "/customer/query_token",
            Some(login("0000000000000000")),
        )
        .await;
        answers.push((r.status.as_u16(), r.body["Ret"].as_u64().unwrap()));
    }
    assert_eq!(answers[..10], [(200, 0); 10], "{answers:?}");
    assert!(
        answers[10..].iter().all(|a| *a == (429, 4002)),
        "{answers:?}"
    );
    let right = testkit::call_from(
        &w.app,
        guesser,
        "POST",
        "/customer/query_token",
        Some(login(&p.operator_secret)),
    )
    .await;
    assert_eq!(right.status.as_u16(), 429, "{:?}", right.body);
    assert_eq!(right.body["Ret"], 4002);
    assert_eq!(right.body["Data"], "", "no token for a throttled address");
    let elsewhere = testkit::call_from(
        &w.app,
        owner,
        "POST",
        "/customer/query_token",
        Some(login(&p.operator_secret)),
    )
    .await;
    let opened = p.open(elsewhere);
    assert_eq!((opened.ret, &opened.data["SuccStat"]), (0, &json!(0)));
}
