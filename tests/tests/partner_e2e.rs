//! End to end with a partner: the service on a loopback port, a Twin
//! charger, and a partner platform that starts and stops a session over
//! the T/CEC routes and receives the result and the charge order on its
//! own loopback endpoint (with the connector's status changes), which
//! refuses the first attempts. Nothing is lost: the outbox retries until
//! the partner accepts.

use axum::Json;
use axum::extract::{Path, State};
use chrono::Duration as ChronoDuration;
use domain::partners::outbox::DeliveryStatus;
use kernel::access::Caller;
use kernel::model::Role;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use system_tests::whole_app;
use tcec::{WireAnswer, WireKeys, WireRequest};
use testkit::TestEnv;
use testkit::console::HttpConsole;
use testkit::partner::TestPartner;

/// The partner's push endpoint: refuses the first `failures` requests,
/// then checks, decrypts and keeps each push.
#[derive(Clone)]
struct Receiver {
    keys: Arc<Mutex<Option<WireKeys>>>,
    failures: Arc<AtomicU32>,
    received: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn receive(
    State(r): State<Receiver>,
    Path(route): Path<String>,
    Json(req): Json<WireRequest>,
) -> Result<Json<WireAnswer>, axum::http::StatusCode> {
    if r.failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return Err(axum::http::StatusCode::SERVICE_UNAVAILABLE);
    }
    let keys = r.keys.lock().unwrap().clone().expect("the partner exists");
    assert!(keys.verify(&req.signed_parts(), &req.sig), "signed push");
    let plain = keys.decrypt(&req.data).expect("the push decrypts");
    let payload: Value = serde_json::from_slice(&plain).expect("JSON Data");
    r.received.lock().unwrap().push((route, payload));
    let answer = keys
        .seal_answer(json!({"Status": 0}).to_string().as_bytes())
        .expect("sealed");
    Ok(Json(answer))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_starts_and_stops_a_twin_session_and_gets_every_push() {
    let env = TestEnv::live(|s| s.allow_local_notify_urls = true).await;
    let app = whole_app(&env.domain);
    let (base, server) = system_tests::serve(app.clone()).await;

    let receiver = Receiver {
        keys: Arc::default(),
        failures: Arc::new(AtomicU32::new(2)),
        received: Arc::default(),
    };
    let hook_app = axum::Router::new()
        .route("/evcs/{route}", axum::routing::post(receive))
        .with_state(receiver.clone());
    let (hook, hook_server) = system_tests::serve(hook_app).await;
    let notify_url = format!("{hook}/evcs");

    let acme = env.domain.settings.default_operator.clone();
    let partner = TestPartner::create_with(&env, &app, &acme, Some(notify_url)).await;
    *receiver.keys.lock().unwrap() = Some(partner.keys.clone());
    let console = HttpConsole::new(&base, env.operator_token(Role::Admin, vec![]).await);

    let fleet = twin::run(twin::Config {
        url: base.clone(),
        sites: 1,
        chargers: 1,
        duration: Duration::from_secs(14),
        speed: 60.0,
        seed: 7,
        state: None,
        provisioning_key: None,
        fault_rate: 0.0,
        session_rate: 0.0,
        firmware_failure_rate: 0.0,
        anomalies: false,
        progress: false,
        protocol: twin::Protocol::Http,
        client: None,
        site_capacity_kw: None,
    });
    let steer = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let devices = console.get("/v1/devices").await;
        let device = devices["items"][0]["device_id"]
            .as_str()
            .expect("the twin charger is registered")
            .to_owned();
        let seq = partner.start_charge_seq();
        let connector = format!("{device}-1");
        let body = json!({"StartChargeSeq": seq, "ConnectorID": connector});
        let started = partner.call(&env, &app, "/cp/start_charging", &body).await;
        assert_eq!(started.data["SuccStat"], 0, "{:?}", started.data);
        let mut charging = false;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let d = console.get(&format!("/v1/devices/{device}")).await;
            let state = d["connectors"]
                .as_array()
                .and_then(|c| c.first())
                .map(|c| c["status"].clone());
            if state == Some(json!("charging")) {
                charging = true;
                break;
            }
        }
        assert!(charging, "the Twin charger started for the partner");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let stopped = partner.call(&env, &app, "/cp/stop_charging", &body).await;
        assert_eq!(stopped.data["SuccStat"], 0, "{:?}", stopped.data);
        seq
    };
    let (summary, seq) = tokio::join!(fleet, steer);
    let summary = summary.expect("the fleet ran");
    assert_eq!(summary.unexpected_errors, 0, "{:?}", summary.unexpected);
    assert!(
        summary.charging_records >= 1,
        "the session's record arrived"
    );

    // The pushes wait in the outbox; the partner refuses the first two
    // attempts, and each retry is due a minute later.
    let push = notifier::HttpPush::new(&env.domain).unwrap();
    for _ in 0..4 {
        notifier::drain(&env.domain, &push).await.unwrap();
        env.clock.advance(ChronoDuration::seconds(61));
    }
    let all = receiver.received.lock().unwrap().clone();
    // The connector's moves, as the partner's tenant's status changes.
    let statuses: Vec<&Value> = all
        .iter()
        .filter(|(r, _)| r == "notification_stationStatus")
        .map(|(_, p)| &p["ConnectorStatusInfo"])
        .collect();
    assert!(
        statuses.iter().any(|s| s["Status"] == 3),
        "the partner heard the connector charging: {statuses:?}"
    );
    let received: Vec<_> = all
        .iter()
        .filter(|(r, _)| r != "notification_stationStatus")
        .cloned()
        .collect();
    let routes: Vec<&str> = received.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        routes,
        [
            "notification_start_charge_result",
            "notification_charge_order_info"
        ],
        "{received:?}"
    );
    let result = &received[0].1;
    assert_eq!(result["StartChargeSeq"], seq.as_str());
    assert_eq!(result["StartChargeSeqStat"], 2);
    let order = &received[1].1;
    assert_eq!(order["StartChargeSeq"], seq.as_str());
    assert!(order["TotalPower"].as_f64().unwrap() > 0.0, "{order}");
    assert_eq!(order["StopReason"], 0);
    let start = order["StartTime"].as_str().unwrap();
    assert_eq!(start.len(), "2026-11-25 08:30:00".len(), "{start}");

    let admin = Caller {
        client_id: "test-admin".into(),
        role: Role::Admin,
        operators: vec![],
    };
    let deliveries = env
        .domain
        .partners
        .partner_deliveries(&admin, partner.partner_id)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), all.len(), "one delivery per push");
    assert!(
        deliveries
            .iter()
            .all(|d| d.status == DeliveryStatus::Delivered)
    );
    let attempts: u32 = deliveries.iter().map(|d| d.attempts).sum();
    assert_eq!(
        attempts as usize,
        deliveries.len() + 2,
        "two refused attempts, retried a minute later"
    );
    println!("{}", summary.render());
    server.abort();
    hook_server.abort();
}
