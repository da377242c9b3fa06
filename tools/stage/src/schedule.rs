//! EventBridge schedules: a function with a `rate(...)` schedule in the
//! template is invoked with a scheduled event every period, the first one
//! period after the start, as in the cloud. `cron(...)` is not run.

use crate::pool::{Outcome, Pool};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// The period of a `rate(value unit)` expression.
pub fn rate(expression: &str) -> Option<Duration> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (value, unit) = inner.trim().split_once(' ')?;
    let value: u64 = value.parse().ok().filter(|v| *v > 0)?;
    let seconds = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(value * seconds))
}

/// Invokes `pool`'s function every `period` until aborted.
pub fn run(pool: Arc<Pool>, rule: String, period: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            ticks.tick().await;
            let event = event(&rule);
            let trace = crate::event::trace_id(chrono::Utc::now());
            let outcome = pool.invoke(event, &trace).await;
            let ok = matches!(outcome, Ok(Outcome::Response(_)));
            tracing::info!(function = %pool.function, rule, ok, "scheduled run");
        }
    })
}

/// EventBridge's scheduled event.
fn event(rule: &str) -> Bytes {
    let event = serde_json::json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "region": crate::REGION,
        "resources": [format!("arn:aws:events:{}:123456789012:rule/{rule}", crate::REGION)],
        "detail": {}
    });
    Bytes::from(event.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_eventbridge_writes_them() {
        assert_eq!(rate("rate(1 minute)"), Some(Duration::from_secs(60)));
        assert_eq!(rate("rate(5 minutes)"), Some(Duration::from_secs(300)));
        assert_eq!(rate("rate(2 hours)"), Some(Duration::from_secs(7200)));
        assert_eq!(rate("rate(0 minutes)"), None);
        assert_eq!(rate("cron(0 6 * * ? *)"), None);
    }
}
