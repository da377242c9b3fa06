//! End to end, fleet management: a Twin fleet takes a configuration
//! profile and a firmware campaign to completion; a second fleet whose
//! updates fail pauses its campaign on its own. The console's counts must
//! agree with what the chargers themselves record.

use kernel::model::Role;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use system_tests::whole_app;
use testkit::TestEnv;
use testkit::console::HttpConsole;

/// What these runs read of the console.
trait ConsoleExt {
    async fn devices(&self, prefix: &str, count: usize) -> Vec<Value>;
    async fn campaign_until(&self, id: &str, status: &str, within: Duration) -> Value;
}

impl ConsoleExt for HttpConsole {
    /// The fleet's devices whose serial numbers start with `prefix`, once
    /// `count` of them are listed.
    async fn devices(&self, prefix: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let all = self.get("/v1/devices?size=100").await;
            let mine: Vec<Value> = all["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["sn"].as_str().unwrap().starts_with(prefix))
                .filter(|d| d["site_id"].is_string())
                .cloned()
                .collect();
            if mine.len() == count || Instant::now() > deadline {
                return mine;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The campaign once it has `status`, or as it is at the deadline.
    async fn campaign_until(&self, id: &str, status: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let c = self.get(&format!("/v1/firmware/campaigns/{id}")).await;
            if c["status"] == status || Instant::now() > deadline {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

fn fleet(
    base: &str,
    seed: u64,
    chargers: usize,
    sites: usize,
    seconds: u64,
    failure_rate: f64,
) -> twin::Config {
    twin::Config {
        url: base.to_owned(),
        sites,
        chargers,
        duration: Duration::from_secs(seconds),
        speed: 60.0,
        seed,
        state: None,
        provisioning_key: None,
        fault_rate: 0.0,
        session_rate: 1.0,
        firmware_failure_rate: failure_rate,
        anomalies: false,
        progress: false,
        protocol: twin::Protocol::Http,
        client: None,
        site_capacity_kw: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_takes_a_profile_and_a_campaign_and_a_failing_fleet_pauses_its_own() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    let env = TestEnv::live(|_| {}).await;
    let chargers = if env.backend == "dynoxide" { 8 } else { 4 };
    let (base, server) = system_tests::serve(whole_app(&env.domain)).await;
    let console = HttpConsole::new(&base, env.operator_token(Role::Admin, vec![]).await);
    let seed = std::env::var("E2E_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(1..u64::MAX / 4));
    println!("twin seed {seed} (rerun with E2E_SEED={seed})");

    // A healthy fleet: a profile on every charger, new firmware on the AC ones.
    let steer = async {
        let devices = console.devices(&format!("TWIN-{seed}-"), chargers).await;
        assert_eq!(devices.len(), chargers, "the fleet is listed");
        let profile = console
            .post(
                "/v1/configuration/profiles",
                json!({"name": "Twin fleet", "model": null, "settings": {
                    "heartbeat_interval_s": 60, "meter_interval_s": 30, "max_current_a": 16,
                    "offline_charging": true, "free_vend": false}}),
                200,
            )
            .await;
        let profile_id = profile["profile_id"].as_str().unwrap().to_owned();
        let mut sites: Vec<&str> = devices
            .iter()
            .filter_map(|d| d["site_id"].as_str())
            .collect();
        sites.sort();
        sites.dedup();
        for site in sites {
            console
                .post(
                    &format!("/v1/configuration/profiles/{profile_id}/apply"),
                    json!({"site_id": site}),
                    202,
                )
                .await;
        }
        let campaign = console
            .post(
                "/v1/firmware/campaigns",
                json!({"model": "TP-AC22", "target_version": "2.0.0",
                    "firmware_url": "https://firmware.example.com/tp-ac22-2.0.0.bin",
                    "waves": [50, 100], "failure_threshold_pct": 10}),
                202,
            )
            .await;
        let id = campaign["campaign_id"].as_str().unwrap().to_owned();
        let done = console
            .campaign_until(&id, "completed", Duration::from_secs(18))
            .await;
        (profile_id, done)
    };
    let (summary, (profile_id, campaign)) =
        tokio::join!(twin::run(fleet(&base, seed, chargers, 2, 24, 0.0)), steer);
    let summary = summary.expect("the healthy fleet ran");
    assert_eq!(summary.unexpected_errors, 0, "{:?}", summary.unexpected);

    let ac: Vec<_> = summary
        .devices
        .iter()
        .filter(|d| d.model == "TP-AC22")
        .collect();
    assert_eq!(campaign["status"], "completed", "{campaign}");
    let counts = &campaign["counts"];
    assert_eq!(counts["eligible"], ac.len());
    let installed = ac
        .iter()
        .filter(|d| d.firmware_installs == 1 && d.firmware_version == "2.0.0")
        .count();
    assert_eq!(counts["installed"], installed, "{campaign}");
    assert_eq!(installed, ac.len());
    let failures: u32 = summary.devices.iter().map(|d| d.firmware_failures).sum();
    assert_eq!(counts["failed"], failures);

    let profile = console
        .get(&format!("/v1/configuration/profiles/{profile_id}"))
        .await;
    let configured = summary
        .devices
        .iter()
        .filter(|d| d.configuration.profile_id.as_deref() == Some(profile_id.as_str()))
        .collect::<Vec<_>>();
    assert_eq!(configured.len(), chargers, "every charger took the profile");
    assert_eq!(profile["devices"]["applied"], configured.len(), "{profile}");
    for d in &configured {
        assert_eq!(d.configuration.version, Some(1));
        assert_eq!(d.configuration.heartbeat_interval_s, 60.0);
        assert_eq!(d.configuration.max_current_a, Some(16.0));
        let device = console.get(&format!("/v1/devices/{}", d.device_id)).await;
        assert_eq!(device["configuration"]["profile_id"], profile_id.as_str());
        assert_eq!(device["configuration"]["version"], 1);
    }

    // A fleet whose updates all fail: its campaign pauses after one wave.
    let failing = seed + 1;
    let steer = async {
        let devices = console.devices(&format!("TWIN-{failing}-"), 4).await;
        let site = devices[0]["site_id"].as_str().unwrap().to_owned();
        let campaign = console
            .post(
                "/v1/firmware/campaigns",
                json!({"model": "TP-AC22", "target_version": "3.0.0",
                    "firmware_url": "https://firmware.example.com/tp-ac22-3.0.0.bin",
                    "site_id": site, "waves": [50, 100], "failure_threshold_pct": 10}),
                202,
            )
            .await;
        let id = campaign["campaign_id"].as_str().unwrap().to_owned();
        console
            .campaign_until(&id, "paused", Duration::from_secs(14))
            .await
    };
    let (summary, campaign) = tokio::join!(twin::run(fleet(&base, failing, 4, 1, 18, 1.0)), steer);
    let summary = summary.expect("the failing fleet ran");
    assert_eq!(summary.unexpected_errors, 0, "{:?}", summary.unexpected);
    assert_eq!(campaign["status"], "paused", "{campaign}");
    assert!(campaign["paused_reason"].is_string(), "{campaign}");
    let failures: u32 = summary.devices.iter().map(|d| d.firmware_failures).sum();
    let counts = &campaign["counts"];
    assert!(failures > 0);
    assert_eq!(counts["failed"], failures, "{campaign}");
    assert_eq!(counts["installed"], 0);
    assert_eq!(counts["updating"], 0);
    let eligible = summary
        .devices
        .iter()
        .filter(|d| d.model == "TP-AC22")
        .count() as u32;
    assert_eq!(counts["eligible"], eligible);
    assert_eq!(
        counts["pending"],
        eligible - failures,
        "the rest never got it"
    );
    assert!(
        summary
            .devices
            .iter()
            .all(|d| d.firmware_version != "3.0.0")
    );
    server.abort();
}
