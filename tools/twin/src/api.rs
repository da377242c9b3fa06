//! The backend as a charger sees it: JSON over HTTP, with every request
//! counted and timed.

use crate::stats::Stats;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    pub stats: Arc<Stats>,
    provisioning_key: Option<String>,
}

/// A response: status and body (`Value::Null` when not JSON).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
}

impl Api {
    pub fn new(base: &str, stats: Arc<Stats>, provisioning_key: Option<String>) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(40))
                .build()
                .unwrap_or_default(),
            base: base.trim_end_matches('/').to_owned(),
            stats,
            provisioning_key,
        }
    }

    /// Sends one request; a transport failure is counted as status 0.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let route = path.split('?').next().unwrap_or(path).to_owned();
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let (Some(key), true) = (
            &self.provisioning_key,
            route.ends_with("/register") || route.ends_with("/site"),
        ) {
            req = req.header("X-Provisioning-Key", key);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let started = Instant::now();
        let answer = match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let body = res.json::<Value>().await.unwrap_or(Value::Null);
                Answer { status, body }
            }
            // No answer: status 0, the cause in the body; callers decide
            // whether that is unexpected (after their retries).
            Err(e) => Answer {
                status: 0,
                body: Value::String(e.to_string()),
            },
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        self.stats
            .request(&format!("{method} {route}"), answer.status, ms);
        answer
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }
}
