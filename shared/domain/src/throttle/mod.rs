//! Throttling by source address: failed credential attempts and open
//! registrations are counted per source and per window, never per device
//! or client, so no one can lock a rightful owner out (and the right
//! secret is never refused).

mod port;

pub use port::ThrottleStore;

use crate::Domain;
use crate::error::Error;
use chrono::{DateTime, Duration, DurationRound, Utc};

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// A wrong device id or secret at `/v1/device/auth`.
    DeviceAuth,
    /// Wrong client credentials at `/v1/oauth/token`.
    ClientAuth,
    /// A registration while no provisioning key is required.
    Registration,
}

impl Attempt {
    fn scope(self) -> &'static str {
        match self {
            Self::DeviceAuth => "device-auth",
            Self::ClientAuth => "client-auth",
            Self::Registration => "register",
        }
    }
}

/// How many attempts a source may make in a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// 0 turns the limit off.
    pub attempts: u32,
    pub window: Duration,
}

/// Longest part of a source address kept in a key.
const SOURCE_MAX: usize = 64;

fn window_of(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    now.duration_trunc(window).unwrap_or(now)
}

impl Domain {
    /// Counts one attempt from `source`; past the limit in the current
    /// window the answer is 429 until the window ends.
    pub(crate) async fn count_attempt(&self, what: Attempt, source: &str) -> Result<(), Error> {
        let limit = match what {
            Attempt::DeviceAuth | Attempt::ClientAuth => self.settings.auth_failure_limit,
            Attempt::Registration => self.settings.registration_limit,
        };
        if limit.attempts == 0 {
            return Ok(());
        }
        let now = self.clock.now();
        let start = window_of(now, limit.window);
        let end = start + limit.window;
        let source: String = source.chars().take(SOURCE_MAX).collect();
        let seen = self
            .store
            .count_attempt(what.scope(), &source, start, end)
            .await?;
        if seen > limit.attempts {
            tracing::warn!(scope = what.scope(), %source, seen, "source throttled");
            return Err(Error::RateLimited {
                retry_after_s: (end - now).num_seconds().max(1),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_so_every_request_of_one_counts_together() {
        let w = Duration::minutes(5);
        let a: DateTime<Utc> = "2026-05-10T14:01:10Z".parse().unwrap();
        let b: DateTime<Utc> = "2026-05-10T14:04:59Z".parse().unwrap();
        let c: DateTime<Utc> = "2026-05-10T14:05:00Z".parse().unwrap();
        assert_eq!(window_of(a, w), window_of(b, w));
        assert_ne!(window_of(b, w), window_of(c, w));
    }
}
