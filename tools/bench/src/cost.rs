//! What each charger message costs: DynamoDB capacity as the endpoint
//! reports it, the handler's time, and every line of one charger's month
//! (API Gateway, Lambda, DynamoDB).

use crate::percentile;
use crate::service::{Service, now};
use kernel::settings::RequestLogMode;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Instant;
use store::{RequestCounter, Usage};

/// On-demand list prices (us-east-1), USD per million request units.
const WRU_USD_PER_MILLION: f64 = 0.625;
const RRU_USD_PER_MILLION: f64 = 0.125;
/// Provisioned capacity, USD per capacity-unit-hour (one write or read a
/// second for an hour).
const WCU_HOUR_USD: f64 = 0.00065;
const RCU_HOUR_USD: f64 = 0.00013;
/// Storage, USD per GB-month.
const STORAGE_USD_PER_GB: f64 = 0.25;
/// API Gateway HTTP API, USD per million requests: the first 300 million
/// of an account's month, and every one above.
const API_USD_PER_MILLION: f64 = 1.00;
const API_ABOVE_TIER_USD_PER_MILLION: f64 = 0.90;
const API_TIER_REQUESTS: f64 = 300e6;
/// Lambda, USD per million requests and per GB-second on arm64 (the
/// template's default) and on x86_64.
const LAMBDA_REQUEST_USD_PER_MILLION: f64 = 0.20;
const LAMBDA_ARM_USD_PER_GB_S: f64 = 0.0000133334;
const LAMBDA_X86_USD_PER_GB_S: f64 = 0.0000166667;
/// template.yaml: MemorySize 256 for every function.
const LAMBDA_GB: f64 = 0.25;
/// Round trip of one DynamoDB request from a Lambda in the same region,
/// added to the handler time measured here on the embedded engine.
const DYNAMODB_ROUND_TRIP_MS: f64 = 4.0;
/// `LONG_POLL_MAX_SECONDS`: how long one long-poll holds its execution.
const LONG_POLL_SECONDS: f64 = 20.0;

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

/// One route's figures: DynamoDB usage and the handler's median time.
#[derive(Clone, Copy)]
struct Route {
    usage: Usage,
    handler_ms: f64,
}

/// Sends one message and adds its time to `times`.
async fn timed(
    svc: &Service,
    times: &mut Vec<f64>,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> Result<(), String> {
    let started = Instant::now();
    svc.post(path, token, body).await?;
    times.push(started.elapsed().as_secs_f64() * 1000.0);
    Ok(())
}

fn route(counter: &RequestCounter, mut times: Vec<f64>) -> Route {
    times.sort_by(f64::total_cmp);
    Route {
        usage: per_call(counter, times.len() as f64),
        handler_ms: percentile(&times, 0.5),
    }
}

/// Requests and capacity per call since the counter was last read (which
/// resets it).
pub(crate) fn per_call(counter: &RequestCounter, calls: f64) -> Usage {
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

pub async fn run(moto: bool, endpoint: Option<String>, fleet: u32) -> Result<(), String> {
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
    let mut times = Vec::new();
    for _ in 0..CALLS {
        timed(
            &svc,
            &mut times,
            "/v1/device/heartbeat",
            token,
            &json!({"timestamp": now(), "status": "online"}),
        )
        .await?;
    }
    rows.push(("heartbeat", route(&counter, times)));

    svc.post(
        "/v1/device/events",
        token,
        &json!({"timestamp": now(), "event_type": "start", "connector_id": 1}),
    )
    .await?;
    counter.reset();
    let mut times = Vec::new();
    for i in 0..CALLS {
        timed(&svc, &mut times, "/v1/device/status", token, &json!({"timestamp": now(), "connector_id": 1, "state": "charging",
            "voltage": 400, "current": 50, "power": 11 + i % 8, "energy_delivered": 0.2 * (i + 1) as f64, "soc": 50})).await?;
    }
    rows.push(("status sample", route(&counter, times)));

    let mut times = Vec::new();
    for event in ["stop", "plug_out", "plug_in", "start"]
        .iter()
        .cycle()
        .take(CALLS)
    {
        timed(
            &svc,
            &mut times,
            "/v1/device/events",
            token,
            &json!({"timestamp": now(), "event_type": event, "connector_id": 1}),
        )
        .await?;
    }
    rows.push(("event", route(&counter, times)));

    let mut times = Vec::new();
    for _ in 0..CALLS {
        timed(&svc, &mut times, "/v1/device/charging-records", token, &json!({"record_id": uuid_v4(), "connector_id": 1,
            "start_time": now(), "end_time": now(), "energy": 10.0, "cost": 3.5, "currency": "GBP"})).await?;
    }
    rows.push(("charging record", route(&counter, times)));

    println!("DynamoDB per charger message ({url}), and the handler's median time here:");
    if moto {
        // moto answers ConsumedCapacity with placeholder figures (none for
        // transactions), so only its request counts mean anything.
        println!("  {:<16} {:>8}", "route", "requests");
        for (name, r) in &rows {
            println!("  {name:<16} {:>8}", r.usage.requests);
        }
        return Ok(());
    }
    println!(
        "  {:<16} {:>8} {:>8} {:>8} {:>11}",
        "route", "requests", "WRU", "RRU", "handler ms"
    );
    for (name, r) in &rows {
        println!(
            "  {name:<16} {:>8} {:>8.2} {:>8.2} {:>11.2}",
            r.usage.requests, r.usage.write_units, r.usage.read_units, r.handler_ms
        );
    }
    month(&rows, f64::from(fleet));
    Ok(())
}

/// What a fleet's month of API Gateway requests costs, per charger.
fn api_gateway_usd(requests_per_charger: f64, fleet: f64) -> f64 {
    let total = requests_per_charger * fleet;
    let first = total.min(API_TIER_REQUESTS);
    (first * API_USD_PER_MILLION + (total - first) * API_ABOVE_TIER_USD_PER_MILLION) / 1e6 / fleet
}

/// Every line of one charger's month in a fleet of `fleet`, and what
/// long-polling would add.
fn month(rows: &[(&str, Route)], fleet: f64) {
    let find = |name: &str| rows.iter().find(|(n, _)| *n == name).map(|(_, r)| *r);
    let (mut requests, mut gb_s, mut wru, mut rru) = (0.0, 0.0, 0.0, 0.0);
    let mut billed = Vec::new();
    for (name, per_month) in MONTH {
        let Some(r) = find(name) else { continue };
        // Lambda bills each invocation's duration in whole milliseconds.
        let ms = (r.handler_ms + r.usage.requests as f64 * DYNAMODB_ROUND_TRIP_MS).ceil();
        billed.push(format!("{name} {ms:.0} ms"));
        requests += per_month;
        gb_s += per_month * ms / 1000.0 * LAMBDA_GB;
        wru += per_month * r.usage.write_units;
        rru += per_month * r.usage.read_units;
    }
    // Raw samples are not kept (SAMPLE_TTL_DAYS=0); a month of hour buckets
    // (~200 bytes, 4 charging hours a day, an index entry each) and the
    // device item are what stays.
    let storage_gb = (30.0 * 4.0 * 2.0 * 200.0 + 2_000.0) / 1e9;
    let lines = [
        (
            "API Gateway HTTP API requests",
            format!("{requests:.0} requests"),
            api_gateway_usd(requests, fleet),
        ),
        (
            "Lambda requests",
            format!("{requests:.0} invocations"),
            requests * LAMBDA_REQUEST_USD_PER_MILLION / 1e6,
        ),
        (
            "Lambda duration (arm64)",
            format!("{gb_s:.0} GB-s"),
            gb_s * LAMBDA_ARM_USD_PER_GB_S,
        ),
        (
            "DynamoDB writes",
            format!("{wru:.0} WRU"),
            wru * WRU_USD_PER_MILLION / 1e6,
        ),
        (
            "DynamoDB reads",
            format!("{rru:.0} RRU"),
            rru * RRU_USD_PER_MILLION / 1e6,
        ),
        (
            "DynamoDB storage",
            format!("{storage_gb:.4} GB"),
            storage_gb * STORAGE_USD_PER_GB,
        ),
    ];
    println!("a charger-month in a fleet of {fleet:.0} chargers, assuming:");
    println!("  30 s heartbeats all month; 4 h/day charging with a status sample every 30 s;");
    println!(
        "  one session a day (4 events, 1 charge record); raw samples not kept (SAMPLE_TTL_DAYS=0);"
    );
    println!(
        "  the template's 256 MB arm64 functions and REQUEST_LOG=errors; on-demand us-east-1 prices,"
    );
    println!(
        "  API Gateway at $1.00 per million for the month's first 300 million requests, $0.90 above;"
    );
    println!(
        "  billed Lambda time = handler time here + {DYNAMODB_ROUND_TRIP_MS} ms per DynamoDB request, rounded up: {}",
        billed.join(", ")
    );
    let mut total = 0.0;
    for (line, quantity, usd) in &lines {
        total += usd;
        println!("  {line:<30} {quantity:>18}  ${usd:.4}");
    }
    let dynamodb: f64 = lines[3..].iter().map(|(_, _, usd)| usd).sum();
    println!(
        "  {:<30} {:>18}  ${total:.4} (goal <= $0.20, stretch <= $0.17)",
        "total", ""
    );
    println!("  of which DynamoDB ${dynamodb:.4} (goal <= $0.15)");
    let small = (API_TIER_REQUESTS / requests).floor();
    println!(
        "  a fleet of up to {small:.0} chargers (every request in the first tier) pays ${:.4}",
        total - api_gateway_usd(requests, fleet) + api_gateway_usd(requests, 1.0)
    );
    println!(
        "  on x86_64 Lambda duration is ${:.4}, the total ${:.4}",
        gb_s * LAMBDA_X86_USD_PER_GB_S,
        total + gb_s * (LAMBDA_X86_USD_PER_GB_S - LAMBDA_ARM_USD_PER_GB_S)
    );
    // Units bought for an hour serve 3,600 requests at full use; auto
    // scaling aims at 70 %, and a day's swings and its lag leave less.
    let on_demand = lines[3].2 + lines[4].2;
    for used in [0.7, 0.5] {
        let provisioned = (wru * WCU_HOUR_USD + rru * RCU_HOUR_USD) / (3600.0 * used);
        println!(
            "  TableCapacityMode=provisioned, capacity {:.0} % used: DynamoDB requests ${provisioned:.4}, the total ${:.4}",
            used * 100.0,
            total - on_demand + provisioned
        );
    }
    println!(
        "  REQUEST_LOG=all adds about ${:.4} (1 WRU per request)",
        requests * WRU_USD_PER_MILLION / 1e6
    );
    // A long-poll holds its execution, billed, until a command comes or
    // LONG_POLL_MAX_SECONDS pass; one after another that is all day.
    let polls = 30.0 * 86_400.0 / LONG_POLL_SECONDS;
    let poll_usd = 30.0 * 86_400.0 * LAMBDA_GB * LAMBDA_ARM_USD_PER_GB_S
        + polls * (API_USD_PER_MILLION + LAMBDA_REQUEST_USD_PER_MILLION) / 1e6;
    println!(
        "  a charger long-polling all day ({LONG_POLL_SECONDS} s polls) would add ${poll_usd:.2} a month \
         ({polls:.0} polls, {:.0} GB-s) and hold one execution for ever; heartbeats carry commands instead",
        30.0 * 86_400.0 * LAMBDA_GB
    );
}

fn uuid_v4() -> String {
    kernel::ids::RecordId::random().to_string()
}
