//! The Twin counts the heartbeats its chargers' schedules held, answered
//! or not: a backend too slow to answer makes chargers fall behind without
//! any error, and only the two counts parting shows it.

use axum::Router;
use axum::routing::post;
use serde_json::{Value, json};
use std::time::Duration;

/// A backend that answers every charger route, heartbeats after `delay`.
async fn backend(delay: Duration) -> String {
    let ok = || async { axum::Json(json!({"code": 0, "data": {}})) };
    let app = Router::new()
        .route(
            "/v1/device/register",
            post(|| async {
                axum::Json(json!({"data": {"device_id": "d", "device_secret": "s"}}))
            }),
        )
        .route(
            "/v1/device/auth",
            post(|| async { axum::Json(json!({"access_token": "t"})) }),
        )
        .route(
            "/v1/device/site",
            post(|| async { axum::Json(json!({"data": {"site_id": "site"}})) }),
        )
        .route(
            "/v1/device/heartbeat",
            post(move || async move {
                tokio::time::sleep(delay).await;
                axum::Json::<Value>(json!({"data": {"commands": []}}))
            }),
        )
        .fallback(ok);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Two chargers for 2 s at speed 24: a step every 0.42 s, five steps each
/// before the end, a heartbeat every third step (30 simulated seconds), so
/// two heartbeats each on schedule.
async fn fleet(url: String) -> twin::Heartbeats {
    let summary = twin::run(twin::Config {
        url,
        sites: 1,
        chargers: 2,
        duration: Duration::from_secs(2),
        speed: 24.0,
        seed: 1,
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
    })
    .await
    .unwrap();
    summary.heartbeats
}

#[tokio::test]
async fn on_schedule_every_scheduled_heartbeat_is_answered() {
    let hb = fleet(backend(Duration::ZERO).await).await;
    assert_eq!((hb.scheduled, hb.answered), (4, 4));
}

#[tokio::test]
async fn chargers_behind_schedule_still_count_what_they_missed() {
    // Each first heartbeat is answered after the run's end, so the second
    // one each charger's schedule held is never sent.
    let hb = fleet(backend(Duration::from_millis(2500)).await).await;
    assert_eq!((hb.scheduled, hb.answered), (4, 2));
}
