//! Helpers for driving the charger routes the way a charger does.

#![allow(dead_code)]

use axum::Router;
use serde_json::{Value, json};
pub use testkit::Charger;
use testkit::{Reply, TestEnv};

/// Settings without the shared request log, for tests that count writes.
pub fn no_request_log(s: &mut kernel::Settings) {
    s.request_log = kernel::settings::RequestLogMode::Off;
}

pub fn app(env: &TestEnv) -> Router {
    api::finish(
        device_api::router(env.domain.clone()),
        &env.domain,
        "device-api",
    )
}

pub async fn register(app: &Router, sn: &str) -> Reply {
    testkit::register(app, sn, "TP-AC22", "1.5.0").await
}

/// Registers and authenticates a charger.
pub async fn charger(app: &Router, sn: &str) -> Charger {
    Charger::new(app, sn).await
}

pub fn sample(ts: &str, connector: u32, state: &str, power: f64, energy: f64) -> Value {
    json!({
        "timestamp": ts, "connector_id": connector, "state": state,
        "voltage": 400, "current": 100, "power": power, "energy_delivered": energy, "soc": 50
    })
}
