//! Site load management (contract §16): a site's connection shared among
//! the sessions plugged in, each change sent as power limits, and never
//! more handed out than the site has, even when sessions start at once.

use kernel::model::Role;
use serde_json::{Value, json};
use system_tests::world::World;
use testkit::Charger;

/// A site of `n` 22 kW chargers on a connection of `capacity_kw`.
async fn site(w: &World, name: &str, n: usize, capacity_kw: f64) -> (String, Vec<Charger>) {
    let mut chargers = Vec::new();
    for i in 0..n {
        chargers.push(w.charger(&format!("{name}-{i}"), "TP-AC22", "1.6.0").await);
    }
    let ids: Vec<&str> = chargers.iter().map(|c| c.id.as_str()).collect();
    let r = testkit::call(
        &w.app,
        "POST",
        "/v1/device/site",
        &[],
        Some(
            json!({"name": name, "lat": 51.5, "lng": -0.1, "power_capacity": capacity_kw,
            "device_ids": ids}),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    (r.data()["site_id"].as_str().unwrap().to_owned(), chargers)
}

async fn start(w: &World, c: &Charger) {
    let r = c
        .post(
            &w.app,
            "/v1/device/events",
            json!({"timestamp": w.at(0), "event_type": "start", "connector_id": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

async fn stop(w: &World, c: &Charger) {
    let r = c
        .post(
            &w.app,
            "/v1/device/events",
            json!({"timestamp": w.at(0), "event_type": "stop", "connector_id": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// The last power limit a heartbeat hands the charger, if any.
async fn limit(w: &World, c: &Charger) -> Option<f64> {
    w.heartbeat(c)
        .await
        .iter()
        .rev()
        .filter(|cmd| cmd["command"] == "set_power_limit")
        .find_map(|cmd| cmd["limit_kw"].as_f64())
}

async fn managed(w: &World, operator: &str, site: &str, lm: Value) -> testkit::Reply {
    w.call(
        operator,
        "PATCH",
        &format!("/v1/sites/{site}"),
        Some(json!({"load_management": lm})),
    )
    .await
}

#[tokio::test]
async fn sessions_share_the_site_and_a_session_ending_frees_its_share() {
    let w = World::new().await;
    let operator = w.token(Role::Operator).await;
    let (site, c) = site(&w, "SHARE", 3, 30.0).await;
    let on = managed(&w, &operator, &site, json!({"enabled": true})).await;
    assert_eq!(on.status, 200, "{:?}", on.body);
    assert_eq!(
        on.data()["load_management"],
        json!({"enabled": true, "capacity_kw": 30.0, "min_session_kw": 1.4, "reserve_kw": 0.0,
            "allocated_kw": 0.0, "connectors": []})
    );

    start(&w, &c[0]).await;
    assert_eq!(limit(&w, &c[0]).await, Some(22.0), "alone: its rating");
    start(&w, &c[1]).await;
    assert_eq!(limit(&w, &c[0]).await, Some(15.0));
    assert_eq!(limit(&w, &c[1]).await, Some(15.0));
    start(&w, &c[2]).await;
    for charger in &c {
        assert_eq!(limit(&w, charger).await, Some(10.0));
    }
    stop(&w, &c[1]).await;
    assert_eq!(limit(&w, &c[0]).await, Some(15.0));
    assert_eq!(
        limit(&w, &c[1]).await,
        None,
        "an ended session gets nothing"
    );
    assert_eq!(limit(&w, &c[2]).await, Some(15.0));
    // A limit that does not change is not sent again.
    let viewer = w.token(Role::Viewer).await;
    let read = w
        .call(&viewer, "GET", &format!("/v1/sites/{site}"), None)
        .await;
    let lm = &read.data()["load_management"];
    assert_eq!(lm["allocated_kw"], 30.0);
    assert_eq!(lm["connectors"].as_array().unwrap().len(), 2);
    assert_eq!(limit(&w, &c[0]).await, None);

    // A reserve lowers what is shared, at once.
    let reserved = managed(
        &w,
        &operator,
        &site,
        json!({"enabled": true, "reserve_kw": 10}),
    )
    .await;
    assert_eq!(reserved.data()["load_management"]["allocated_kw"], 20.0);
    assert_eq!(limit(&w, &c[0]).await, Some(10.0));
    assert_eq!(
        managed(&w, &viewer, &site, json!({"enabled": false}))
            .await
            .status,
        403,
        "viewers read"
    );
    // Turned off, the limits it sent are lifted to each model's rating.
    let off = managed(&w, &operator, &site, json!({"enabled": false})).await;
    assert_eq!(off.data()["load_management"]["allocated_kw"], 0.0);
    assert_eq!(off.data()["load_management"]["connectors"], json!([]));
    assert_eq!(limit(&w, &c[0]).await, Some(22.0));
    assert_eq!(limit(&w, &c[2]).await, Some(22.0));
}

#[tokio::test]
async fn the_newest_sessions_wait_when_not_all_can_have_the_minimum() {
    let w = World::new().await;
    let operator = w.token(Role::Operator).await;
    let (site, c) = site(&w, "WAIT", 3, 5.0).await;
    let on = managed(
        &w,
        &operator,
        &site,
        json!({"enabled": true, "min_session_kw": 2}),
    )
    .await;
    assert_eq!(on.status, 200, "{:?}", on.body);
    for charger in &c {
        start(&w, charger).await;
        w.env.clock.advance(chrono::Duration::seconds(1));
    }
    assert_eq!(limit(&w, &c[0]).await, Some(2.5));
    assert_eq!(limit(&w, &c[1]).await, Some(2.5));
    assert_eq!(limit(&w, &c[2]).await, Some(0.0), "waits, not stopped");
}

#[tokio::test]
async fn sessions_starting_at_once_are_never_given_more_than_the_site() {
    let w = World::new().await;
    let operator = w.token(Role::Operator).await;
    let (site, c) = site(&w, "RACE", 4, 40.0).await;
    managed(&w, &operator, &site, json!({"enabled": true})).await;
    tokio::join!(
        start(&w, &c[0]),
        start(&w, &c[1]),
        start(&w, &c[2]),
        start(&w, &c[3])
    );
    let viewer = w.token(Role::Viewer).await;
    let read = w
        .call(&viewer, "GET", &format!("/v1/sites/{site}"), None)
        .await;
    let lm = &read.data()["load_management"];
    assert_eq!(lm["connectors"].as_array().unwrap().len(), 4, "{lm}");
    assert_eq!(lm["allocated_kw"], 40.0, "{lm}");
    for charger in &c {
        assert_eq!(limit(&w, charger).await, Some(10.0));
    }
}

#[tokio::test]
async fn bad_load_management_is_named_and_changes_nothing() {
    let w = World::new().await;
    let operator = w.token(Role::Operator).await;
    let (site, _) = site(&w, "BAD", 1, 30.0).await;
    let cases = [
        (
            json!({"enabled": true, "capacity_kw": 0}),
            "load_management.capacity_kw",
        ),
        (
            json!({"enabled": true, "capacity_kw": 200000}),
            "load_management.capacity_kw",
        ),
        (
            json!({"enabled": true, "min_session_kw": -1}),
            "load_management.min_session_kw",
        ),
        (
            json!({"enabled": true, "min_session_kw": 31}),
            "load_management.min_session_kw",
        ),
        (
            json!({"enabled": true, "reserve_kw": 30}),
            "load_management.reserve_kw",
        ),
    ];
    for (lm, field) in cases {
        let r = managed(&w, &operator, &site, lm.clone()).await;
        assert_eq!(r.status, 422, "{lm}: {:?}", r.body);
        assert_eq!(r.data()["errors"][0]["field"], field, "{lm}");
    }
    let read = w
        .call(&operator, "GET", &format!("/v1/sites/{site}"), None)
        .await;
    assert!(
        read.data().get("load_management").is_none(),
        "nothing was set"
    );
}

#[tokio::test]
async fn a_charger_that_refuses_its_limit_counts_at_its_rating_until_its_session_ends() {
    let w = World::new().await;
    let operator = w.token(Role::Operator).await;
    let (site, c) = site(&w, "REFUSE", 2, 30.0).await;
    managed(&w, &operator, &site, json!({"enabled": true})).await;
    start(&w, &c[0]).await;
    let commands = w.heartbeat(&c[0]).await;
    let limit = commands
        .iter()
        .find(|cmd| cmd["command"] == "set_power_limit")
        .expect("a limit");
    w.report(&c[0], limit["command_id"].as_str().unwrap(), "rejected")
        .await;
    start(&w, &c[1]).await;
    assert_eq!(
        self::limit(&w, &c[1]).await,
        Some(8.0),
        "the refuser keeps its 22 kW"
    );
    assert_eq!(
        self::limit(&w, &c[0]).await,
        None,
        "nothing more is sent it"
    );
    // Its next session can be steered again.
    stop(&w, &c[0]).await;
    w.env.clock.advance(chrono::Duration::seconds(1));
    start(&w, &c[0]).await;
    assert_eq!(self::limit(&w, &c[0]).await, Some(15.0));
    assert_eq!(self::limit(&w, &c[1]).await, Some(15.0));
}
