//! `notifier`: delivers the partner outbox (see `domain::partners::outbox`).
//! In AWS a schedule runs [`drain`] every minute; the local server runs
//! [`run_forever`] as a background task. Either way the request that
//! wrote a message never waits for the partner.

use async_trait::async_trait;
use domain::partners::outbox::{PUSH_TIMEOUT_SECONDS, Push};
use domain::partners::wire::{WireAnswer, WireRequest};
use domain::{Domain, Error};
use std::time::Duration;

/// Messages sent per store read.
const BATCH: usize = 25;

/// Pushes over HTTP with a bounded wait per partner.
pub struct HttpPush(reqwest::Client);

impl HttpPush {
    pub fn new() -> Result<Self, Error> {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(PUSH_TIMEOUT_SECONDS))
            .build()
            .map(Self)
            .map_err(Error::internal)
    }
}

#[async_trait]
impl Push for HttpPush {
    async fn post(&self, url: &str, body: &WireRequest) -> Result<WireAnswer, String> {
        let res = self
            .0
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = res.status();
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        res.json()
            .await
            .map_err(|_| "the answer is not {Ret, Msg, Data, Sig}".to_owned())
    }
}

/// Delivers every message due now; answers how many were delivered.
pub async fn drain(domain: &Domain, push: &dyn Push) -> Result<usize, Error> {
    let mut total = 0;
    loop {
        let before = total;
        total += domain.deliver_pushes(push, BATCH).await?;
        // A short batch, or nothing delivered in a full one: the rest wait
        // for their next attempt.
        if total == before {
            return Ok(total);
        }
    }
}

/// Drains the outbox every `every`, for ever.
pub async fn run_forever(domain: Domain, every: Duration) {
    let push = match HttpPush::new() {
        Ok(push) => push,
        Err(e) => {
            tracing::error!(error = %e, "the partner notifier cannot start");
            return;
        }
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match drain(&domain, &push).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(delivered = n, "partner pushes delivered"),
            Err(e) => tracing::warn!(error = %e, "partner pushes failed; retrying later"),
        }
    }
}
