//! End to end over OCPP: the service on a loopback port with its OCPP
//! WebSockets, a Twin fleet of OCPP 1.6 and 2.0.1 chargers (their own wire
//! code) charging with the fleet's cards, console commands reaching them
//! over their connections, and the console's view agreeing with the
//! fleet's own totals.

use domain::Domain;
use kernel::model::Role;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use testkit::TestEnv;
use testkit::console::HttpConsole;

/// The local server's shape: the routes and the chargers' sockets, the
/// domain sending commands through them.
async fn serve(env: &TestEnv) -> (String, Domain) {
    let sockets = Arc::new(local_server::ocpp::Sockets::default());
    let domain = sockets.attached(env.domain.clone(), Arc::new(env.store.clone()));
    let app = local_server::app(&domain, sockets, "e2e");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    (base, domain)
}

fn fleet(
    base: &str,
    protocol: &str,
    client: (String, String),
    session_rate: f64,
    seconds: u64,
) -> twin::Config {
    twin::Config {
        url: base.to_owned(),
        sites: 1,
        chargers: 3,
        duration: Duration::from_secs(seconds),
        // 16 s of wall time are 160 simulated minutes: sessions (30 to 120
        // minutes) end within the run. A step (10 simulated seconds) is
        // 16 ms of wall time, which a debug build on a busy machine keeps
        // pace with; at twice the speed it fell behind and no session
        // might end.
        speed: 600.0,
        seed: fastrand::u64(1..1_000_000),
        state: None,
        provisioning_key: None,
        fault_rate: 0.0,
        session_rate,
        firmware_failure_rate: 0.0,
        anomalies: false,
        progress: false,
        protocol: protocol.parse().unwrap(),
        client: Some(client),
        site_capacity_kw: None,
    }
}

/// A queued command's status once it completed, or as it stands after 5 s.
async fn settled(console: &HttpConsole, queued: &serde_json::Value) -> String {
    let command = queued["command_id"].as_str().unwrap();
    let mut status = String::new();
    for _ in 0..100 {
        status = console.get(&format!("/v1/commands/{command}")).await["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if status == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    status
}

async fn admin_client(env: &TestEnv) -> (String, String) {
    let created = env
        .domain
        .tenants
        .bootstrap_client(None, None, Role::Admin, vec![], Some("e2e".into()))
        .await
        .unwrap();
    (created.client_id, created.client_secret.expose().clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ocpp_fleet_charges_with_its_cards_and_the_console_agrees() {
    let env = TestEnv::live(|_| {}).await;
    let (base, _) = serve(&env).await;
    let client = admin_client(&env).await;
    let token = env.operator_token(Role::Admin, vec![]).await;
    let console = HttpConsole::new(&base, token);
    // The operator prices its sessions: energy and a fee per session.
    console
        .post(
            "/v1/tariffs",
            json!({"name": "Fleet", "currency": "GBP", "vat_percent": 20,
                "operator_id": env.domain.settings.default_operator.to_string(),
                "elements": [{"price_components": [{"type": "ENERGY", "price": 0.35},
                    {"type": "FLAT", "price": 0.5}]}]}),
            201,
        )
        .await;
    for protocol in ["ocpp1.6", "ocpp2.0.1"] {
        let summary = twin::run(fleet(&base, protocol, client.clone(), 12.0, 16))
            .await
            .unwrap();
        assert_eq!(
            summary.unexpected_errors, 0,
            "{protocol}: {:?}",
            summary.unexpected
        );
        // Cards started sessions; on the embedded engine some also end
        // within the run (on moto the fleet's simulated time runs slower
        // than sessions last, so none may end there).
        assert!(
            summary.requests.get("OCPP Authorize").copied().unwrap_or(0) > 0,
            "{protocol}: no card was used in the run"
        );
        if env.backend == "dynoxide" {
            assert!(
                summary.charging_records > 0,
                "{protocol}: no session ended in the run"
            );
        }
        let mut records = 0;
        let mut energy = 0.0;
        let cents = |v: &serde_json::Value| (v.as_f64().unwrap() * 100.0).round() as i64;
        let (mut priced, mut revenue) = (0, 0);
        for device in &summary.devices {
            let page = console
                .get(&format!(
                    "/v1/charging-records?device_id={}&size=100",
                    device.device_id
                ))
                .await;
            for r in page["items"].as_array().unwrap() {
                assert!(
                    r["id_tag"].as_str().is_some_and(|t| t.starts_with("TW")),
                    "{protocol}: {r}"
                );
                energy += r["energy"].as_f64().unwrap();
                records += 1;
                assert_eq!(r["price"]["currency"], "GBP", "{protocol}: {r}");
                priced += cents(&r["price"]["incl_vat"]);
            }
            let days = console
                .get(&format!(
                    "/v1/aggregated/revenue?device_id={}",
                    device.device_id
                ))
                .await;
            revenue += days["total"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| cents(&t["incl_vat"]))
                .sum::<i64>();
        }
        assert_eq!(
            revenue, priced,
            "{protocol}: the console's revenue is the records' prices"
        );
        if protocol == "ocpp2.0.1" {
            assert_eq!(
                summary.priced.total_cents, priced,
                "{protocol}: the chargers were told the records' totals"
            );
            assert_eq!(summary.priced.sessions, summary.charging_records);
        }
        assert_eq!(
            records, summary.charging_records,
            "{protocol}: one record per session"
        );
        assert!(
            (energy - summary.energy_charged_kwh).abs()
                < 0.01 * summary.energy_charged_kwh.max(1.0),
            "{protocol}: the records hold {energy} kWh, the fleet charged {}",
            summary.energy_charged_kwh
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_commands_reach_connected_ocpp_chargers_at_once() {
    let env = TestEnv::live(|_| {}).await;
    let (base, _) = serve(&env).await;
    let client = admin_client(&env).await;
    let token = env.operator_token(Role::Admin, vec![]).await;
    let console = HttpConsole::new(&base, token);
    for protocol in ["ocpp1.6", "ocpp2.0.1"] {
        // No sessions of their own: each one is the console's.
        let run = tokio::spawn(twin::run(fleet(&base, protocol, client.clone(), 0.0, 10)));
        let short = protocol.replace('.', "");
        let mut connected = Vec::new();
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let page = console
                .get("/v1/ocpp/charge-points?connected=true&size=100")
                .await;
            connected = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| {
                    c["charge_point_id"]
                        .as_str()
                        .is_some_and(|id| id.contains(&format!("-{short}-")))
                })
                .filter(|c| c["boot"].is_object())
                .map(|c| c["device_id"].as_str().unwrap().to_owned())
                .collect();
            if connected.len() == 3 {
                break;
            }
        }
        assert_eq!(
            connected.len(),
            3,
            "{protocol}: the fleet connected and booted"
        );
        let device = &connected[0];
        let start = console
            .post(
                &format!("/v1/devices/{device}/connectors/1/start"),
                json!({}),
                202,
            )
            .await;
        let status = settled(&console, &start).await;
        assert_eq!(status, "completed", "{protocol}: the remote start");
        let stop = console
            .post(
                &format!("/v1/devices/{device}/connectors/1/stop"),
                json!({}),
                202,
            )
            .await;
        let status = settled(&console, &stop).await;
        assert_eq!(status, "completed", "{protocol}: the remote stop");
        let discharge = console
            .call(
                reqwest::Method::POST,
                &format!("/v1/devices/{device}/connectors/1/discharge"),
                Some(json!({"discharge_power": 5, "duration": 60, "min_soc": 20})),
            )
            .await;
        assert_eq!(
            discharge.0, 422,
            "{protocol}: no V2G over OCPP: {}",
            discharge.1
        );
        let summary = run.await.unwrap().unwrap();
        assert_eq!(
            summary.unexpected_errors, 0,
            "{protocol}: {:?}",
            summary.unexpected
        );
        let records = console
            .get(&format!("/v1/charging-records?device_id={device}"))
            .await;
        assert_eq!(
            records["total"], 1,
            "{protocol}: the remote session's record"
        );
        assert!(
            records["items"][0]["id_tag"].is_null(),
            "a remote start's tag is the platform's"
        );
    }
}
