//! `partner-sim`: a partner platform against the backend's T/CEC routes.
//! It creates itself as a partner (with an admin client) or uses given
//! secrets, takes a token, lists stations, starts and stops a session on a
//! connector (a Twin charger's, say), and receives the pushes on its own
//! loopback endpoint. Progress goes to stderr, a JSON summary to stdout.

mod wire;

use axum::Json;
use axum::extract::{Path, State};
use clap::Parser;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wire::Keys;

#[derive(Debug, Parser)]
#[command(version, about = "Act as a T/CEC 102 partner platform")]
struct Args {
    /// Base URL of the backend.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// Where pushes are received (the partner's notify_url is
    /// `http://<listen>/evcs`).
    #[arg(long, default_value = "127.0.0.1:9100")]
    listen: String,
    /// An admin client that creates this partner (else give the secrets).
    #[arg(long, env = "ADMIN_CLIENT_ID")]
    admin_client_id: Option<String>,
    #[arg(long, env = "ADMIN_CLIENT_SECRET")]
    admin_client_secret: Option<String>,
    /// Our tenant the new partner is bound to.
    #[arg(long, default_value = "acme-charging-uk")]
    tenant: String,
    /// The partner's 9-character OperatorID (generated when creating).
    #[arg(long)]
    operator_id: Option<String>,
    #[arg(long)]
    operator_secret: Option<String>,
    #[arg(long)]
    data_secret: Option<String>,
    #[arg(long)]
    data_secret_iv: Option<String>,
    #[arg(long)]
    sig_secret: Option<String>,
    /// The partner's UTC offset in minutes (the standard's default: UTC+8).
    #[arg(long, default_value_t = 480)]
    offset_minutes: i64,
    /// ConnectorID to charge on (default: the first one listed).
    #[arg(long)]
    connector: Option<String>,
    /// Seconds between the start and the stop.
    #[arg(long, default_value_t = 20)]
    charge_seconds: u64,
    /// Seconds to wait for the start result and the charge order.
    #[arg(long, default_value_t = 120)]
    wait_seconds: u64,
}

type Inbox = Arc<Mutex<Vec<Value>>>;

struct Partner {
    http: reqwest::Client,
    url: String,
    keys: Keys,
    token: Option<String>,
    seq: u32,
}

impl Partner {
    /// One legacy call: its Data, or what went wrong.
    async fn call(&mut self, route: &str, payload: Value) -> Result<Value, String> {
        self.seq += 1;
        let body = self.keys.seal(&payload, self.seq);
        let mut req = self.http.post(format!("{}{route}", self.url)).json(&body);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let answer: Value = req
            .send()
            .await
            .map_err(|e| format!("{route}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("{route}: the answer is not JSON: {e}"))?;
        let (ret, msg, data) = self.keys.open_answer(&answer)?;
        eprintln!("{route}: Ret {ret} {msg} {data}");
        if ret == 0 {
            Ok(data)
        } else {
            Err(format!("{route}: Ret {ret}: {msg}"))
        }
    }
}

async fn receive(
    State(inbox): State<(Keys, Inbox)>,
    Path(route): Path<String>,
    Json(req): Json<Value>,
) -> Json<Value> {
    let (keys, inbox) = inbox;
    match keys.open_request(&req) {
        Ok(payload) => {
            eprintln!("push {route}: {payload}");
            let seq = payload["StartChargeSeq"].clone();
            if let Ok(mut list) = inbox.lock() {
                list.push(json!({"route": route, "payload": payload}));
            }
            let answer = if seq.is_null() {
                json!({"Status": 0})
            } else {
                json!({"StartChargeSeq": seq, "SuccStat": 0})
            };
            Json(keys.answer(&answer))
        }
        Err(e) => {
            eprintln!("push {route} refused: {e}");
            Json(json!({"Ret": 4001, "Msg": e, "Data": "", "Sig": ""}))
        }
    }
}

/// Creates the partner with an admin client; answers its keys and secret.
async fn create(http: &reqwest::Client, a: &Args) -> Result<(Keys, String), String> {
    let (Some(id), Some(secret)) = (&a.admin_client_id, &a.admin_client_secret) else {
        return Err(
            "give --admin-client-id/--admin-client-secret, or the partner's secrets".into(),
        );
    };
    let token: Value = http
        .post(format!("{}/v1/oauth/token", a.url))
        .json(
            &json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret}),
        )
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let token = token["access_token"]
        .as_str()
        .ok_or("the admin client was refused")?;
    let code = a
        .operator_id
        .clone()
        .unwrap_or_else(|| format!("SIM{:06}", chrono::Utc::now().timestamp() % 1_000_000));
    let body = json!({"partner_operator_id": code, "name": "partner-sim", "operator_id": a.tenant,
        "notify_url": format!("http://{}/evcs", a.listen), "utc_offset_minutes": a.offset_minutes});
    let created: Value = http
        .post(format!("{}/admin/partners", a.url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let d = &created["data"];
    let s = |k: &str| {
        d[k].as_str()
            .map(str::to_owned)
            .ok_or(format!("no {k}: {created}"))
    };
    eprintln!("created partner {} ({code})", s("partner_id")?);
    let keys = Keys::new(
        &code,
        &s("data_secret")?,
        &s("data_secret_iv")?,
        &s("sig_secret")?,
        a.offset_minutes,
    )?;
    Ok((keys, s("operator_secret")?))
}

async fn run(a: Args) -> Result<Value, String> {
    let http = reqwest::Client::new();
    let (keys, operator_secret) = match (
        &a.operator_id,
        &a.operator_secret,
        &a.data_secret,
        &a.data_secret_iv,
        &a.sig_secret,
    ) {
        (Some(id), Some(secret), Some(data), Some(iv), Some(sig)) => (
            Keys::new(id, data, iv, sig, a.offset_minutes)?,
            secret.clone(),
        ),
        _ => create(&http, &a).await?,
    };
    let inbox: Inbox = Arc::default();
    let listener = tokio::net::TcpListener::bind(&a.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", a.listen))?;
    let hook = axum::Router::new()
        .route("/evcs/{route}", axum::routing::post(receive))
        .with_state((keys.clone(), inbox.clone()));
    tokio::spawn(async move { axum::serve(listener, hook).await });

    let mut p = Partner {
        http,
        url: a.url.clone(),
        keys: keys.clone(),
        token: None,
        seq: 0,
    };
    let login = json!({"OperatorID": keys.operator_id, "OperatorSecret": operator_secret});
    let token = p.call("/customer/query_token", login).await?;
    p.token = token["AccessToken"].as_str().map(str::to_owned);
    let stations = p
        .call(
            "/customer/query_station_info",
            json!({"PageNo": 1, "PageSize": 50}),
        )
        .await?;
    let infos = stations["StationInfos"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let (station, connector) = match &a.connector {
        Some(c) => (Value::Null, c.clone()),
        None => infos
            .iter()
            .find_map(|s| {
                let c = s["EquipmentInfos"][0]["ConnectorInfos"][0]["ConnectorID"].as_str()?;
                Some((s["StationID"].clone(), c.to_owned()))
            })
            .ok_or("no station with a connector is visible to this partner")?,
    };
    let status = if station.is_null() {
        Value::Null
    } else {
        p.call("/cp/query_station_status", json!({"StationIDs": [station]}))
            .await?
    };
    let seq = format!(
        "{}{:018}",
        keys.operator_id,
        chrono::Utc::now().timestamp_millis().unsigned_abs() % 1_000_000_000_000_000_000
    );
    let order = json!({"StartChargeSeq": seq, "ConnectorID": connector});
    let start = p.call("/cp/start_charging", order.clone()).await?;
    tokio::time::sleep(Duration::from_secs(a.charge_seconds)).await;
    let stop = p.call("/cp/stop_charging", order).await?;
    let wanted = [
        "notification_start_charge_result",
        "notification_charge_order_info",
    ];
    for _ in 0..a.wait_seconds {
        let got = inbox.lock().map(|l| l.clone()).unwrap_or_default();
        if wanted.iter().all(|w| got.iter().any(|g| g["route"] == *w)) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let pushes = inbox.lock().map(|l| l.clone()).unwrap_or_default();
    let count = |r: &str| pushes.iter().filter(|g| g["route"] == r).count();
    Ok(json!({
        "operator_id": keys.operator_id,
        "stations": stations["ItemSize"],
        "connector": connector,
        "station_status": status,
        "start": start,
        "stop": stop,
        "pushes": {
            "notification_stationStatus": count("notification_stationStatus"),
            "notification_start_charge_result": count("notification_start_charge_result"),
            "notification_charge_order_info": count("notification_charge_order_info"),
        },
        "received": pushes,
    }))
}

#[tokio::main]
async fn main() {
    match run(Args::parse()).await {
        Ok(summary) => println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        ),
        Err(e) => {
            eprintln!("partner-sim: {e}");
            std::process::exit(1);
        }
    }
}
