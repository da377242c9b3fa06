//! Throttling: failed credential attempts are counted per credential and
//! source address, open registrations per source, each per window. While
//! a credential is throttled from a source, every attempt for it from that
//! source is refused, right or wrong, so a guesser cannot tell the right
//! guess by its answer; the rightful owner elsewhere is never affected.

mod port;

pub use port::ThrottleStore;

use chrono::{DateTime, Duration, DurationRound, Utc};
use kernel::error::Error;
use kernel::settings::Limit;
use kernel::{Clock, Settings};
use std::sync::Arc;

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// A wrong device id or secret at `/v1/device/auth`.
    DeviceAuth,
    /// Wrong client credentials at `/v1/oauth/token`.
    ClientAuth,
    /// A wrong `OperatorSecret` at the partners' `query_token`.
    PartnerToken,
    /// A registration while no provisioning key is required.
    Registration,
    /// A wrong OCPP charge point id or password at the WebSocket upgrade.
    ChargePointAuth,
}

impl Attempt {
    fn scope(self) -> &'static str {
        match self {
            Self::DeviceAuth => "device-auth",
            Self::ClientAuth => "client-auth",
            Self::PartnerToken => "partner-token",
            Self::Registration => "register",
            Self::ChargePointAuth => "ocpp-auth",
        }
    }
}

/// Longest part of a source address kept in a key.
const SOURCE_MAX: usize = 64;

fn window_of(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    now.duration_trunc(window).unwrap_or(now)
}

/// The counter's key: the source, and for credentials a digest of the
/// credential's id (bounded, and no id is kept in a key).
fn counter_key(source: &str, subject: Option<&str>) -> String {
    let source: String = match source.parse::<std::net::Ipv6Addr>() {
        // One host holds a whole /64: count it as one source.
        Ok(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => source.chars().take(SOURCE_MAX).collect(),
    };
    match subject {
        Some(id) => format!("{source}#{}", &kernel::secret::hash_secret(id)[..16]),
        None => source,
    }
}

/// The throttles: counters per credential and source, or per source.
#[derive(Clone)]
pub struct Throttle {
    store: Arc<dyn ThrottleStore>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
}

/// What `Throttle` is built on.
pub(crate) struct ThrottleParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Throttle {
    pub(crate) fn new(store: Arc<dyn ThrottleStore>, parts: ThrottleParts) -> Self {
        let ThrottleParts { settings, clock } = parts;
        Self {
            store,
            settings,
            clock,
        }
    }

    fn limit_of(&self, what: Attempt) -> Limit {
        match what {
            Attempt::DeviceAuth
            | Attempt::ClientAuth
            | Attempt::PartnerToken
            | Attempt::ChargePointAuth => self.settings.auth_failure_limit,
            Attempt::Registration => self.settings.registration_limit,
        }
    }

    /// The counter an attempt goes to; `None` when its limit is off.
    fn counter(&self, what: Attempt, subject: Option<&str>, source: &str) -> Option<Counter> {
        let limit = self.limit_of(what);
        if limit.attempts == 0 {
            return None;
        }
        let now = self.clock.now();
        let start = window_of(now, limit.window);
        Some(Counter {
            key: counter_key(source, subject),
            start,
            end: start + limit.window,
            now,
            attempts: limit.attempts,
        })
    }

    /// Refuses every attempt on a credential (`subject`) from `source`
    /// while its failures there are over the limit: one read, before the
    /// credential is checked.
    pub(crate) async fn refuse_while_throttled(
        &self,
        what: Attempt,
        subject: &str,
        source: &str,
    ) -> Result<(), Error> {
        let Some(c) = self.counter(what, Some(subject), source) else {
            return Ok(());
        };
        let seen = self.store.attempts(what.scope(), &c.key, c.start).await?;
        if seen >= c.attempts {
            return Err(c.rate_limited());
        }
        Ok(())
    }

    /// Counts one attempt (a failed credential for `subject`, or a
    /// registration when `subject` is `None`) from `source`; past the
    /// limit in the current window the answer is 429 until the window ends.
    pub(crate) async fn count_attempt(
        &self,
        what: Attempt,
        subject: Option<&str>,
        source: &str,
    ) -> Result<(), Error> {
        let Some(c) = self.counter(what, subject, source) else {
            return Ok(());
        };
        let seen = self
            .store
            .count_attempt(what.scope(), &c.key, c.start, c.end)
            .await?;
        if seen > c.attempts {
            tracing::warn!(scope = what.scope(), source = %c.key, seen, "source throttled");
            return Err(c.rate_limited());
        }
        Ok(())
    }
}

/// One counter: its key, the window it counts in, and the limit.
struct Counter {
    key: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    attempts: u32,
}

impl Counter {
    /// 429 until the window ends.
    fn rate_limited(&self) -> Error {
        Error::RateLimited {
            retry_after_s: (self.end - self.now).num_seconds().max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_counted_apart_and_keys_stay_bounded() {
        let a = counter_key("192.0.2.1", Some("client-a"));
        assert_ne!(a, counter_key("192.0.2.1", Some("client-b")));
        assert_ne!(a, counter_key("192.0.2.2", Some("client-a")));
        assert!(!a.contains("client-a"));
        assert_eq!(counter_key("192.0.2.1", None), "192.0.2.1");
        assert!(counter_key(&"9".repeat(500), Some("x")).len() <= SOURCE_MAX + 17);
        // Addresses of one IPv6 /64 count together.
        assert_eq!(
            counter_key("2001:db8:1:2::10", None),
            counter_key("2001:db8:1:2:ffff::1", None)
        );
        assert_ne!(
            counter_key("2001:db8:1:2::10", None),
            counter_key("2001:db8:1:3::10", None)
        );
    }

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
