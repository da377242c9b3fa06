//! Helpers for driving the charger routes the way a charger does.

#![allow(dead_code)]

use axum::Router;
use serde_json::{Value, json};
use testkit::{Reply, TestEnv, call};

pub struct Charger {
    pub id: String,
    pub sn: String,
    pub secret: String,
    pub token: String,
}

/// Settings without the shared request log, for tests that count writes.
pub fn no_request_log(s: &mut domain::Settings) {
    s.request_log = domain::settings::RequestLogMode::Off;
}

pub fn app(env: &TestEnv) -> Router {
    api::finish(
        device_api::router(env.domain.clone()),
        &env.domain,
        "device-api",
    )
}

pub async fn register(app: &Router, sn: &str) -> Reply {
    call(
        app,
        "POST",
        "/v1/device/register",
        &[],
        Some(json!({"sn": sn, "model": "TP-AC22", "manufacturer": "Tellus Power", "firmware_version": "1.5.0"})),
    )
    .await
}

pub async fn authenticate(app: &Router, id: &str, secret: &str) -> Reply {
    call(
        app,
        "POST",
        "/v1/device/auth",
        &[],
        Some(json!({"device_id": id, "device_secret": secret, "grant_type": "client_credentials"})),
    )
    .await
}

/// Registers and authenticates a charger.
pub async fn charger(app: &Router, sn: &str) -> Charger {
    let reg = register(app, sn).await;
    assert_eq!(reg.status, 200, "{:?}", reg.body);
    let id = reg.data()["device_id"].as_str().unwrap().to_owned();
    let secret = reg.data()["device_secret"].as_str().unwrap().to_owned();
    let auth = authenticate(app, &id, &secret).await;
    assert_eq!(auth.status, 200, "{:?}", auth.body);
    Charger {
        id,
        sn: sn.into(),
        secret,
        token: auth.body["access_token"].as_str().unwrap().to_owned(),
    }
}

impl Charger {
    pub async fn post(&self, app: &Router, path: &str, body: Value) -> Reply {
        let bearer = format!("Bearer {}", self.token);
        call(app, "POST", path, &[("authorization", &bearer)], Some(body)).await
    }

    pub async fn get(&self, app: &Router, path: &str) -> Reply {
        let bearer = format!("Bearer {}", self.token);
        call(app, "GET", path, &[("authorization", &bearer)], None).await
    }

    pub fn device_id(&self) -> domain::ids::DeviceId {
        domain::ids::DeviceId::parse(&self.id).unwrap()
    }
}

pub fn sample(ts: &str, connector: u32, state: &str, power: f64, energy: f64) -> Value {
    json!({
        "timestamp": ts, "connector_id": connector, "state": state,
        "voltage": 400, "current": 100, "power": power, "energy_delivered": energy, "soc": 50
    })
}
