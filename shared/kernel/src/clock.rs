//! Time as the domain sees it: injected so that expiry and rate windows can
//! be tested without sleeping.

use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// How far ahead of the server's clock a charger's time may be.
const CLOCK_SKEW: Duration = Duration::minutes(10);

/// Refuses a reported time too far ahead of the server's clock.
pub fn not_ahead(field: &str, t: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), crate::Error> {
    if t > now + CLOCK_SKEW {
        return Err(crate::Error::invalid(
            field,
            "is more than 10 minutes in the future",
        ));
    }
    Ok(())
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; for tests of time-dependent rules.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The start of the hour `ts` falls in.
pub fn hour_of(ts: DateTime<Utc>) -> DateTime<Utc> {
    chrono::DurationRound::duration_trunc(ts, chrono::Duration::hours(1)).unwrap_or(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_times_may_run_ahead_by_ten_minutes_only() {
        let now: DateTime<Utc> = "2026-05-10T14:00:00Z".parse().unwrap();
        assert!(not_ahead("t", now + Duration::minutes(9), now).is_ok());
        assert!(not_ahead("t", now + Duration::minutes(11), now).is_err());
    }
}
