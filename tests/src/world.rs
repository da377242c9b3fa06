//! The world most system tests start from: a fresh table, every function's
//! routes in one router, and what tests do with them again and again
//! (register chargers, send heartbeats and samples, answer commands, call
//! the console). A test file adds what only it needs on a type of its own
//! that derefs to this one.

use crate::whole_app;
use chrono::Duration;
use kernel::Clock;
use kernel::ids::OperatorId;
use kernel::model::Role;
use serde_json::{Value, json};
use testkit::{Charger, Reply, TestEnv, call_as};

pub struct World {
    pub env: TestEnv,
    pub app: axum::Router,
}

impl World {
    pub async fn new() -> Self {
        Self::on(TestEnv::new().await)
    }

    pub fn on(env: TestEnv) -> Self {
        let app = whole_app(&env.domain);
        Self { env, app }
    }

    /// The operator chargers belong to until a site says otherwise.
    pub fn acme(&self) -> OperatorId {
        self.env.domain.settings.default_operator.clone()
    }

    /// A console token of `role` for the default operator (an admin's acts
    /// for every operator): a new session each call, so a test that moves
    /// the clock by days asks again.
    pub async fn token(&self, role: Role) -> String {
        let operators = match role {
            Role::Admin => vec![],
            _ => vec![self.acme()],
        };
        self.env.operator_token(role, operators).await
    }

    /// The service's clock `offset_s` seconds from now, as chargers write it.
    pub fn at(&self, offset_s: i64) -> String {
        kernel::input::rfc3339(self.env.clock.now() + Duration::seconds(offset_s))
    }

    pub async fn call(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
        call_as(&self.app, token, method, path, body).await
    }

    /// A registered charger that has sent its first heartbeat (online).
    pub async fn charger(&self, sn: &str, model: &str, firmware: &str) -> Charger {
        let c = Charger::of_model(&self.app, sn, model, firmware).await;
        self.heartbeat(&c).await;
        c
    }

    /// A heartbeat now; the commands it hands over.
    pub async fn heartbeat(&self, c: &Charger) -> Vec<Value> {
        let r = c
            .post(
                &self.app,
                "/v1/device/heartbeat",
                json!({"timestamp": self.at(0), "status": "online"}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.data()["commands"].as_array().cloned().unwrap_or_default()
    }

    /// The charger's report on one of its commands, now.
    pub async fn report(&self, c: &Charger, command_id: &str, status: &str) {
        let r = c
            .post(
                &self.app,
                "/v1/device/command-status",
                json!({"command_id": command_id, "status": status, "timestamp": self.at(0)}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
}
