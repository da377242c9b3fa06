//! The backend as a charger sees it: JSON over HTTP, with every request
//! counted and timed.

use crate::stats::Stats;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Attempts of one request, the first included.
const ATTEMPTS: u32 = 5;
const FIRST_PAUSE: Duration = Duration::from_millis(200);
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// The pause before attempt `n + 1`: doubling from 200 ms, at most 5 s,
/// drawn evenly below that (full jitter), so a fleet refused at once does
/// not come back at once.
fn backoff(n: u32) -> Duration {
    let ceiling = FIRST_PAUSE
        .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)))
        .min(MAX_PAUSE);
    ceiling.mul_f64(fastrand::f64())
}

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

    /// Sends a request as firmware does: a busy or unavailable service
    /// (429, 503, or no answer) is tried again after a pause that doubles
    /// from 200 ms to at most 5 s with full jitter (or the `Retry-After`
    /// it asked for), up to five times. Every attempt is counted.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut attempt = 0;
        loop {
            let (answer, retry_after) = self.once(method.clone(), path, token, body).await;
            attempt += 1;
            if attempt >= ATTEMPTS || !matches!(answer.status, 0 | 429 | 503) {
                return answer;
            }
            tokio::time::sleep(retry_after.unwrap_or_else(|| backoff(attempt))).await;
        }
    }

    /// One attempt; a transport failure is counted as status 0.
    async fn once(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (Answer, Option<Duration>) {
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
        let (answer, retry_after) = match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let retry_after = res
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|s| Duration::from_secs(s.min(MAX_PAUSE.as_secs())));
                let body = res.json::<Value>().await.unwrap_or(Value::Null);
                (Answer { status, body }, retry_after)
            }
            // No answer: status 0, the cause in the body; callers decide
            // whether that is unexpected (after the retries).
            Err(e) => (
                Answer {
                    status: 0,
                    body: Value::String(e.to_string()),
                },
                None,
            ),
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        self.stats
            .request(&format!("{method} {route}"), answer.status, ms);
        (answer, retry_after)
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_to_a_ceiling_and_are_jittered_below_it() {
        for n in 1..8 {
            let ceiling = FIRST_PAUSE * 2u32.pow(n - 1);
            for _ in 0..50 {
                let p = backoff(n);
                assert!(p <= ceiling.min(MAX_PAUSE), "{n}: {p:?}");
            }
        }
        let spread: std::collections::BTreeSet<u128> =
            (0..20).map(|_| backoff(3).as_micros()).collect();
        assert!(spread.len() > 10, "jittered: {spread:?}");
    }
}
