//! End to end: the service on a loopback port, a Twin fleet charging with
//! compressed time, console commands during the run, and then the console's
//! view of it all, which must agree with the fleet's own totals.

use kernel::model::Role;
use serde_json::{Value, json};
use std::time::Duration;
use system_tests::whole_app;
use testkit::TestEnv;
use testkit::console::HttpConsole;

fn command_id(queued: &Value) -> String {
    queued["command_id"]
        .as_str()
        .expect("command id")
        .to_owned()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.01 * a.abs().max(b.abs()).max(0.01)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_agrees_with_what_a_simulated_fleet_did() {
    // Server-side warnings and errors show in the output of a failed run.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    let env = TestEnv::live(|_| {}).await;
    // The moto pass is a shorter form of the same run, long enough that
    // its four chargers charge and discharge whatever the seed.
    let (chargers, seconds) = if env.backend == "dynoxide" {
        (8, 30)
    } else {
        (4, 18)
    };
    let (base, server) = system_tests::serve(whole_app(&env.domain)).await;

    let token = env.operator_token(Role::Admin, vec![]).await;
    let console = HttpConsole::new(&base, token);

    // Captured output is shown when the test fails: the seed reproduces
    // the run (E2E_SEED=<seed>).
    let seed = std::env::var("E2E_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(1..u64::MAX / 2));
    println!("twin seed {seed} (rerun with E2E_SEED={seed})");
    let fleet = twin::run(twin::Config {
        url: base.clone(),
        sites: 2,
        chargers,
        duration: Duration::from_secs(seconds),
        speed: 60.0,
        seed,
        state: None,
        provisioning_key: None,
        fault_rate: 0.0,
        session_rate: 3.0,
        firmware_failure_rate: 0.0,
        anomalies: false,
        progress: false,
        protocol: twin::Protocol::Http,
        client: None,
        site_capacity_kw: None,
    });
    let steer = async {
        tokio::time::sleep(Duration::from_secs(seconds / 3)).await;
        let devices = console.get("/v1/devices?size=100").await;
        let devices: Vec<Value> = devices["items"].as_array().unwrap().clone();
        assert_eq!(
            devices.len(),
            chargers,
            "every charger is listed while the run goes on"
        );
        let mut sent = Vec::new();
        let id = |i: usize| devices[i]["device_id"].as_str().unwrap().to_owned();
        for i in [0, 1] {
            let body = json!({"device_id": id(i), "command": "update_firmware",
                "location": "https://firmware.example.com/tp.bin", "version": "260122.1606"});
            sent.push(command_id(
                &console.post("/admin/queue-command", body, 202).await,
            ));
        }
        // A session the console starts and then stops: the fleet charges
        // whatever its own random sessions did (on a short run none may
        // end). The start is refused by a charger already charging, which
        // the stop ends all the same.
        let start = command_id(
            &console
                .post(
                    &format!("/v1/devices/{}/connectors/1/start", id(2)),
                    json!({"charge_power": 11}),
                    202,
                )
                .await,
        );
        tokio::time::sleep(Duration::from_secs(seconds / 6)).await;
        sent.push(command_id(
            &console
                .post(
                    &format!("/v1/devices/{}/connectors/1/stop", id(2)),
                    json!({"reason": "user_request"}),
                    202,
                )
                .await,
        ));
        sent.push(command_id(
            &console
                .post(
                    &format!("/v1/devices/{}/connectors/1/schedule", id(3)),
                    json!({"purpose": "tx_default",
            "kind": "absolute", "unit": "kW", "periods": [{"start_offset_s": 0, "limit": 7}]}),
                    202,
                )
                .await,
        ));
        let v2g = devices
            .iter()
            .find(|d| d["model"] == "TP-DC180")
            .expect("a V2G charger");
        let v2g_id = v2g["device_id"].as_str().unwrap();
        sent.push(command_id(
            &console
                .post(
                    &format!("/v1/devices/{v2g_id}/connectors/1/discharge"),
                    json!({"discharge_power": 30, "duration": 300, "min_soc": 20}),
                    202,
                )
                .await,
        ));
        (sent, vec![id(0), id(1)], start)
    };
    let (summary, (commands, upgraded, start)) = tokio::join!(fleet, steer);
    let summary = summary.expect("the fleet ran");
    assert_eq!(summary.unexpected_errors, 0, "{:?}", summary.unexpected);
    assert!(
        summary.charging_records > 0 && summary.energy_charged_kwh > 0.0,
        "the fleet charged"
    );

    let devices = console.get("/v1/devices?size=100").await;
    assert_eq!(devices["total"], chargers);
    let sites = console.get("/v1/sites").await;
    assert_eq!(sites["total"], summary.sites.len());
    let records = console.get("/v1/charging-records?size=100").await;
    assert_eq!(records["total"], summary.charging_records);

    // The fleet used wall-clock time; a run across midnight spans two days.
    let day = chrono::Duration::days(1);
    let from = (chrono::Utc::now() - day).format("%Y-%m-%dT00:00:00Z");
    let to = (chrono::Utc::now() + day).format("%Y-%m-%dT00:00:00Z");
    let (mut charged, mut discharged) = (0.0, 0.0);
    for site in &summary.sites {
        let series = console
            .get(&format!(
                "/v1/aggregated/energy?granularity=day&site_id={site}&from={from}&to={to}"
            ))
            .await;
        charged += series["total"]["charge_energy"].as_f64().unwrap();
        discharged += series["total"]["discharge_energy"].as_f64().unwrap();
    }
    assert!(
        close(charged, summary.energy_charged_kwh),
        "charged: console {charged} twin {}",
        summary.energy_charged_kwh
    );
    assert!(
        close(discharged, summary.energy_discharged_kwh),
        "discharged: console {discharged} twin {}",
        summary.energy_discharged_kwh
    );
    assert!(
        summary.energy_discharged_kwh > 0.0,
        "the V2G command discharged energy"
    );

    for id in &commands {
        let cmd = console.get(&format!("/v1/commands/{id}")).await;
        assert_eq!(cmd["status"], "completed", "command {id}: {cmd}");
    }
    let started = console.get(&format!("/v1/commands/{start}")).await;
    assert!(
        matches!(started["status"].as_str(), Some("completed" | "rejected")),
        "the console's start: {started}"
    );
    assert!(summary.commands_acknowledged >= commands.len() as u64);
    for id in &upgraded {
        let device = console.get(&format!("/v1/devices/{id}")).await;
        assert_eq!(device["firmware_version"], "260122.1606");
    }
    let firmware = console.get("/v1/firmware/versions").await;
    let ac = firmware["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "TP-AC22")
        .unwrap();
    assert!(ac["on_latest"].as_u64().unwrap() >= 1);
    println!("{}", summary.render());
    server.abort();
}
