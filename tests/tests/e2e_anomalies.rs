//! End to end: a Twin fleet run with `--anomalies` against the service on
//! a loopback port, and the findings an operator then sees. Over-power,
//! counter resets and fault bursts show within seconds; stuck sessions and
//! silence take real minutes (the service judges by its own clock), so
//! their rules are tested with a hand-moved clock in `intelligence.rs`.

use kernel::model::Role;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use system_tests::whole_app;
use testkit::TestEnv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_fleet_shows_up_in_the_anomalies() {
    let env = TestEnv::live(|_| {}).await;
    let (base, server) = system_tests::serve(whole_app(&env.domain)).await;
    let seed = fastrand::u64(1..u64::MAX / 2);
    println!("twin seed {seed}");
    let summary = twin::run(twin::Config {
        url: base.clone(),
        sites: 1,
        // Chargers 1, 3 and 5 over-power, reset counters and burst faults.
        chargers: 6,
        duration: Duration::from_secs(12),
        speed: 60.0,
        seed,
        state: None,
        provisioning_key: None,
        fault_rate: 0.0,
        // Sessions start at once and run long enough to pass 2 kWh.
        session_rate: 120.0,
        firmware_failure_rate: 0.0,
        anomalies: true,
        progress: false,
        protocol: twin::Protocol::Http,
        client: None,
        site_capacity_kw: None,
    })
    .await
    .expect("the fleet runs");
    assert_eq!(summary.unexpected_errors, 0, "{}", summary.render());

    let token = env
        .operator_token(
            Role::Viewer,
            vec![env.domain.settings.default_operator.clone()],
        )
        .await;
    let res = reqwest::Client::new()
        .get(format!("{base}/v1/intelligence/anomalies?size=100"))
        .bearer_auth(token)
        .send()
        .await
        .expect("anomalies");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let kinds: BTreeSet<&str> = body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .collect();
    for kind in ["power_over_rating", "counter_reset", "fault_burst"] {
        assert!(kinds.contains(kind), "{kind} not among {kinds:?}");
    }
    server.abort();
}
