//! What DynamoDB charges for each charger message, measured as the capacity
//! the endpoint reports, and the cost of one charger for a month.

use crate::service::{Service, now};
use domain::settings::RequestLogMode;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use store::{RequestCounter, Usage};

/// On-demand list prices (us-east-1), USD per million request units.
const WRU_USD_PER_MILLION: f64 = 0.625;
const RRU_USD_PER_MILLION: f64 = 0.125;
/// Storage, USD per GB-month.
const STORAGE_USD_PER_GB: f64 = 0.25;

/// A charger-month: 30 s heartbeats, 4 h/day of charging with a sample
/// every 30 s, one session a day (4 events, 1 record).
const MONTH: [(&str, f64); 4] = [
    ("heartbeat", 30.0 * 2880.0),
    ("status sample", 30.0 * 480.0),
    ("event", 30.0 * 4.0),
    ("charging record", 30.0),
];

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_moto() -> Result<(Moto, String), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start moto_server (pip install 'moto[server]'): {e}"))?;
    let moto = Moto(child);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/moto-api/")).await.is_ok() {
            return Ok((moto, url));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    Err("moto_server did not start".into())
}

fn per_call(counter: &RequestCounter, calls: f64) -> Usage {
    let total = counter
        .usage()
        .values()
        .fold(Usage::default(), |a, u| Usage {
            requests: a.requests + u.requests,
            read_units: a.read_units + u.read_units,
            write_units: a.write_units + u.write_units,
        });
    counter.reset();
    Usage {
        requests: (total.requests as f64 / calls).round() as u64,
        read_units: total.read_units / calls,
        write_units: total.write_units / calls,
    }
}

pub async fn run(moto: bool, endpoint: Option<String>) -> Result<(), String> {
    let (_moto, url) = match (moto, endpoint) {
        (true, _) => {
            let (m, u) = start_moto().await?;
            (Some(m), Some(u))
        }
        (false, url) => (None, url),
    };
    let counter = RequestCounter::measuring_capacity();
    let svc = Service::start(url.as_deref(), Some(counter.clone()), |s| {
        s.request_log = RequestLogMode::Off
    })
    .await?;
    let url = url.unwrap_or_else(|| "the embedded engine".into());
    let device = svc.device("COST-1", "TP-AC22").await?;
    svc.post(
        "/v1/device/site",
        None,
        &json!({"name": "Cost", "lat": 52.0, "lng": -1.0,
        "power_capacity": 50, "device_ids": [device.id]}),
    )
    .await?;
    let token = Some(device.token.as_str());
    const CALLS: usize = 20;
    let mut rows = Vec::new();

    counter.reset();
    for _ in 0..CALLS {
        svc.post(
            "/v1/device/heartbeat",
            token,
            &json!({"timestamp": now(), "status": "online"}),
        )
        .await?;
    }
    rows.push(("heartbeat", per_call(&counter, CALLS as f64)));

    svc.post(
        "/v1/device/events",
        token,
        &json!({"timestamp": now(), "event_type": "start", "connector_id": 1}),
    )
    .await?;
    counter.reset();
    for i in 0..CALLS {
        svc.post("/v1/device/status", token, &json!({"timestamp": now(), "connector_id": 1, "state": "charging",
            "voltage": 400, "current": 50, "power": 11 + i % 8, "energy_delivered": 0.2 * (i + 1) as f64, "soc": 50})).await?;
    }
    rows.push(("status sample", per_call(&counter, CALLS as f64)));

    for (i, event) in ["stop", "plug_out", "plug_in", "start"]
        .iter()
        .cycle()
        .take(CALLS)
        .enumerate()
    {
        let _ = i;
        svc.post(
            "/v1/device/events",
            token,
            &json!({"timestamp": now(), "event_type": event, "connector_id": 1}),
        )
        .await?;
    }
    rows.push(("event", per_call(&counter, CALLS as f64)));

    for _ in 0..CALLS {
        svc.post("/v1/device/charging-records", token, &json!({"record_id": uuid_v4(), "connector_id": 1,
            "start_time": now(), "end_time": now(), "energy": 10.0, "cost": 3.5, "currency": "GBP"})).await?;
    }
    rows.push(("charging record", per_call(&counter, CALLS as f64)));

    println!("DynamoDB per charger message ({url}):");
    if moto {
        // moto answers ConsumedCapacity with placeholder figures (none for
        // transactions), so only its request counts mean anything.
        println!("  {:<16} {:>8}", "route", "requests");
        for (name, u) in &rows {
            println!("  {name:<16} {:>8}", u.requests);
        }
        return Ok(());
    }
    println!(
        "  {:<16} {:>8} {:>8} {:>8}",
        "route", "requests", "WRU", "RRU"
    );
    for (name, u) in &rows {
        println!(
            "  {name:<16} {:>8} {:>8.2} {:>8.2}",
            u.requests, u.write_units, u.read_units
        );
    }
    let mut month_usd = 0.0;
    println!(
        "a charger-month (30 s heartbeats, 4 h/day charging telemetry at 30 s, a session a day):"
    );
    for (name, per_month) in MONTH {
        let u = rows
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, u)| *u)
            .unwrap_or_default();
        let usd = per_month
            * (u.write_units * WRU_USD_PER_MILLION + u.read_units * RRU_USD_PER_MILLION)
            / 1e6;
        month_usd += usd;
        println!("  {name:<16} {per_month:>8.0} x  = ${usd:.4}");
    }
    // Samples (~300 bytes) are kept 35 days; roll-ups and the rest are small.
    let storage_gb = 30.0 * 480.0 * 35.0 / 30.0 * 300.0 / 1e9;
    let storage = storage_gb * STORAGE_USD_PER_GB;
    month_usd += storage;
    println!(
        "  {:<16} {:>8.4} GB = ${storage:.4}",
        "sample storage", storage_gb
    );
    println!("  total ${month_usd:.3} per charger-month (goal <= $0.15), request log off");
    let with_log = MONTH.iter().map(|(_, n)| n).sum::<f64>() * WRU_USD_PER_MILLION / 1e6;
    println!(
        "  the shared request log adds about ${with_log:.3} when REQUEST_LOG=all (1 WRU per request)"
    );
    Ok(())
}

fn uuid_v4() -> String {
    domain::ids::RecordId::random().to_string()
}
