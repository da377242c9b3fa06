//! OCPP chargers: how soon a console start reaches a connected charger,
//! what a fleet of open connections costs in memory and answer time, and
//! the bill of an OCPP charger-month beside the HTTP one (`bench cost`).

use crate::cost::per_call;
use crate::percentile;
use crate::service::Service;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{RequestCounter, Usage};
use twin::ocpp::{Enrolled, OcppCharger, Version};

/// API Gateway WebSocket, USD per million messages and per million
/// connection minutes; Lambda as in `bench cost` (256 MB, arm64).
const WS_MESSAGE_USD_PER_MILLION: f64 = 1.00;
const WS_MINUTE_USD_PER_MILLION: f64 = 0.25;
const LAMBDA_REQUEST_USD_PER_MILLION: f64 = 0.20;
const LAMBDA_ARM_USD_PER_GB_S: f64 = 0.0000133334;
const LAMBDA_GB: f64 = 0.25;
const WRU_USD_PER_MILLION: f64 = 0.625;
const RRU_USD_PER_MILLION: f64 = 0.125;
const DYNAMODB_ROUND_TRIP_MS: f64 = 4.0;
/// An OCPP charger-month: 300 s heartbeats, 4 h/day of charging with a
/// meter value every 60 s, one session a day.
const HEARTBEATS: f64 = 30.0 * 288.0;
const METER_VALUES: f64 = 30.0 * 240.0;
const SESSIONS: f64 = 30.0;
const CONNECTION_MINUTES: f64 = 30.0 * 24.0 * 60.0;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

async fn provision(svc: &Service, token: &str, id: &str) -> Result<Enrolled, String> {
    let (status, body) = svc
        .post(
            "/v1/ocpp/charge-points",
            Some(token),
            &json!({"charge_point_id": id}),
        )
        .await?;
    let data = &body["data"];
    match (
        status,
        data["device_id"].as_str(),
        data["password"].as_str(),
    ) {
        (201, Some(device_id), Some(password)) => Ok(Enrolled {
            id: id.to_owned(),
            device_id: device_id.to_owned(),
            password: password.to_owned(),
        }),
        _ => Err(format!("provisioning {id}: {status} {body}")),
    }
}

fn ws_url(svc: &Service) -> String {
    format!("{}/ocpp", svc.base.replacen("http", "ws", 1))
}

fn ms(from: Instant) -> f64 {
    from.elapsed().as_secs_f64() * 1000.0
}

fn show(label: &str, mut times: Vec<f64>) {
    times.sort_by(f64::total_cmp);
    println!(
        "  {label:<44} p50 {:>6.2} ms   p99 {:>6.2} ms   ({} rounds)",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.len()
    );
}

pub async fn run(rounds: usize, connections: usize) -> Result<(), String> {
    let counter = RequestCounter::measuring_capacity();
    let svc = Service::start(None, Some(counter.clone()), |_| {}).await?;
    let token = svc.operator_token().await?;
    let stats = Arc::new(twin::Stats::default());

    println!("console start -> the charger holds the remote start (local server):");
    for version in [Version::V16, Version::V201] {
        let who = provision(&svc, &token, &format!("BENCH-{}", version.subprotocol())).await?;
        let device = who.device_id.clone();
        let mut c =
            OcppCharger::connect(&ws_url(&svc), who, version, 1, vec![], 0.0, stats.clone())
                .await?;
        c.boot(0.0).await;
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let sent = Instant::now();
            let (status, body) = svc
                .post(
                    &format!("/v1/devices/{device}/connectors/1/start"),
                    Some(&token),
                    &json!({}),
                )
                .await?;
            if status != 202 {
                return Err(format!("start: {status} {body}"));
            }
            let (_, at) = c
                .obey_next(0.0, Duration::from_secs(5))
                .await
                .ok_or("no remote start arrived")?;
            times.push(at.duration_since(sent).as_secs_f64() * 1000.0);
            svc.post(
                &format!("/v1/devices/{device}/connectors/1/stop"),
                Some(&token),
                &json!({}),
            )
            .await?;
            c.obey_next(0.0, Duration::from_secs(5))
                .await
                .ok_or("no remote stop arrived")?;
        }
        show(version.subprotocol(), times);
    }

    println!("\nDynamoDB requests and capacity per OCPP message (embedded engine):");
    let who = provision(&svc, &token, "BENCH-COST").await?;
    let mut c = OcppCharger::connect(
        &ws_url(&svc),
        who,
        Version::V16,
        2,
        vec![],
        0.0,
        stats.clone(),
    )
    .await?;
    c.boot(0.0).await;
    let mut rows: Vec<(&str, Usage, f64)> = Vec::new();
    let mut measure = async |c: &mut OcppCharger,
                             name: &'static str,
                             n: usize,
                             make: &dyn Fn(usize) -> (String, Value)| {
        counter.reset();
        let mut times = Vec::new();
        for i in 0..n {
            let (action, payload) = make(i);
            let started = Instant::now();
            c.send(&action, payload).await;
            times.push(ms(started));
        }
        times.sort_by(f64::total_cmp);
        let usage = per_call(&counter, n as f64);
        println!(
            "  {name:<22} {:>2} requests  {:>5.2} WRU  {:>5.2} RRU  handler p50 {:.2} ms",
            usage.requests,
            usage.write_units,
            usage.read_units,
            percentile(&times, 0.5)
        );
        rows.push((name, usage, percentile(&times, 0.5)));
    };
    measure(&mut c, "Heartbeat", 50, &|_| {
        ("Heartbeat".into(), json!({}))
    })
    .await;
    let start = c
        .send("StartTransaction", json!({"connectorId": 1, "idTag": "BENCHTAG", "meterStart": 0, "timestamp": crate::service::now()}))
        .await
        .ok_or("start transaction")?;
    let tx = start["transactionId"].as_i64().unwrap_or_default();
    measure(&mut c, "MeterValues", 50, &|i| {
        ("MeterValues".into(), json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": crate::service::now(),
            "sampledValue": [{"value": "7400", "measurand": "Power.Active.Import", "unit": "W"},
                             {"value": format!("{}", (i + 1) * 120), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]}))
    })
    .await;
    measure(&mut c, "StatusNotification", 20, &|i| {
        let status = if i % 2 == 0 { "SuspendedEV" } else { "Charging" };
        ("StatusNotification".into(), json!({"connectorId": 1, "errorCode": "NoError", "status": status, "timestamp": crate::service::now()}))
    })
    .await;
    measure(&mut c, "StopTransaction", 1, &|_| {
        ("StopTransaction".into(), json!({"transactionId": tx, "meterStop": 9000, "timestamp": crate::service::now(), "reason": "Local"}))
    })
    .await;
    bill(&rows);

    println!(
        "\n{connections} connected charge points (this process holds the server and the chargers):"
    );
    let base_rss = rss_kib();
    let mut fleet = Vec::with_capacity(connections);
    let provisioned = Instant::now();
    for i in 0..connections {
        let version = if i % 2 == 0 {
            Version::V16
        } else {
            Version::V201
        };
        let who = provision(&svc, &token, &format!("FLEET-{i:05}")).await?;
        fleet.push(
            OcppCharger::connect(
                &ws_url(&svc),
                who,
                version,
                i as u64,
                vec![],
                0.0,
                stats.clone(),
            )
            .await?,
        );
    }
    println!(
        "  provisioned and connected in {:.1} s",
        provisioned.elapsed().as_secs_f64()
    );
    for c in &mut fleet {
        c.boot(0.0).await;
    }
    let per_connection = (rss_kib().saturating_sub(base_rss)) as f64 / connections.max(1) as f64;
    println!("  memory: {per_connection:.1} KiB per connection (server and client side together)");
    // Every charger heartbeats at once: the worst second of a 300 s cycle.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut c in fleet {
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let answered = c.send("Heartbeat", json!({})).await.is_some();
            (ms(sent), answered, c)
        }));
    }
    let mut times = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (ms, answered, _) = t.await.map_err(|e| e.to_string())?;
        times.push(ms);
        failed += usize::from(!answered);
    }
    println!(
        "  a heartbeat from every charger at once: all answered in {:.0} ms, {failed} errors",
        ms(started)
    );
    show("heartbeat answer time", times);
    Ok(())
}

/// An OCPP charger-month in AWS, from the measured requests per message.
fn bill(rows: &[(&str, Usage, f64)]) {
    let find = |name: &str| rows.iter().find(|(n, _, _)| *n == name);
    let month = [
        ("Heartbeat", HEARTBEATS),
        ("MeterValues", METER_VALUES),
        // A session: StartTransaction, StopTransaction and four statuses,
        // each about a status's cost.
        ("StatusNotification", SESSIONS * 6.0),
    ];
    let (mut messages, mut gb_s, mut wru, mut rru) = (0.0, 0.0, 0.0, 0.0);
    for (name, per_month) in month {
        let Some((_, usage, handler_ms)) = find(name) else {
            continue;
        };
        let billed_ms = (handler_ms + usage.requests as f64 * DYNAMODB_ROUND_TRIP_MS).ceil();
        messages += per_month;
        gb_s += per_month * billed_ms / 1000.0 * LAMBDA_GB;
        wru += per_month * usage.write_units;
        rru += per_month * usage.read_units;
    }
    // Each message in and each answer out is a billed message.
    let ws_messages = messages * 2.0;
    let lines = [
        (
            "API Gateway WebSocket messages",
            ws_messages * WS_MESSAGE_USD_PER_MILLION / 1e6,
        ),
        (
            "API Gateway connection minutes",
            CONNECTION_MINUTES * WS_MINUTE_USD_PER_MILLION / 1e6,
        ),
        (
            "Lambda requests",
            messages * LAMBDA_REQUEST_USD_PER_MILLION / 1e6,
        ),
        ("Lambda duration (arm64)", gb_s * LAMBDA_ARM_USD_PER_GB_S),
        ("DynamoDB writes", wru * WRU_USD_PER_MILLION / 1e6),
        ("DynamoDB reads", rru * RRU_USD_PER_MILLION / 1e6),
    ];
    println!(
        "\nan OCPP charger-month: 300 s heartbeats, 4 h/day of 60 s meter values, a session a day"
    );
    println!(
        "  ({messages:.0} messages, {ws_messages:.0} billed WebSocket messages, {CONNECTION_MINUTES:.0} connection minutes):"
    );
    let mut total = 0.0;
    for (line, usd) in lines {
        total += usd;
        println!("  {line:<34} ${usd:.4}");
    }
    println!("  {:<34} ${total:.4}", "total");
}
