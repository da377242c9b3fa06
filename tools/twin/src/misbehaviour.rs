//! Faults the Twin injects with `--anomalies`, one kind per misbehaving
//! charger, so the service's anomaly rules have something real to find.
//! Time-based ones run on the wall clock: the service judges by its own.

use std::time::{Duration, Instant};

/// Power reported above the rating: 20 % over, well past the 5 % tolerance.
pub const OVER_POWER: f64 = 1.2;
/// A session's counter falls back to zero once it passes this (kWh).
pub const RESET_AFTER_KWH: f64 = 2.0;
/// A stuck session reports charging without energy this long (the rule's
/// 20 minutes and a margin).
pub const STUCK_FOR: Duration = Duration::from_secs(25 * 60);
/// A silent charger sends nothing for 12 minutes in every hour (the gap
/// rule's 10 minutes and a margin), starting a minute in.
pub const SILENT_FROM: Duration = Duration::from_secs(60);
pub const SILENT_FOR: Duration = Duration::from_secs(12 * 60);
const SILENCE_EVERY: Duration = Duration::from_secs(3600);
/// A fault burst: three faults at once, at most once a simulated hour.
pub const BURST_FAULTS: usize = 3;
pub const BURST_EVERY_S: f64 = 3600.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    OverPower,
    CounterReset,
    FaultBurst,
    StuckSession,
    Silence,
}

impl Misbehaviour {
    const ALL: [Self; 5] = [
        Self::OverPower,
        Self::CounterReset,
        Self::FaultBurst,
        Self::StuckSession,
        Self::Silence,
    ];

    /// Every other charger misbehaves, taking the kinds in turn.
    pub fn for_charger(index: usize) -> Option<Self> {
        (index % 2 == 1).then(|| Self::ALL[(index / 2) % Self::ALL.len()])
    }

    /// Whether a silent charger is quiet `since` its start.
    pub fn silent(since: Duration) -> bool {
        let into_hour = Duration::from_secs(since.as_secs() % SILENCE_EVERY.as_secs());
        into_hour >= SILENT_FROM && into_hour < SILENT_FROM + SILENT_FOR
    }
}

/// A charger's misbehaviour and what it needs to remember.
#[derive(Debug, Clone)]
pub struct Fault {
    pub kind: Misbehaviour,
    pub started: Instant,
    /// Simulated time of the last fault burst.
    pub last_burst: f64,
}

impl Fault {
    pub fn new(kind: Misbehaviour) -> Self {
        Self {
            kind,
            started: Instant::now(),
            last_burst: f64::NEG_INFINITY,
        }
    }

    pub fn is(&self, kind: Misbehaviour) -> bool {
        self.kind == kind
    }

    pub fn silent_now(&self) -> bool {
        self.is(Misbehaviour::Silence) && Misbehaviour::silent(self.started.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_the_fleet_misbehaves_and_every_kind_is_present() {
        let kinds: Vec<_> = (0..10).filter_map(Misbehaviour::for_charger).collect();
        assert_eq!(kinds.len(), 5);
        for k in Misbehaviour::ALL {
            assert!(kinds.contains(&k));
        }
    }

    #[test]
    fn a_silent_charger_is_quiet_twelve_minutes_an_hour() {
        let at = |s| Misbehaviour::silent(Duration::from_secs(s));
        assert!(!at(30));
        assert!(at(61));
        assert!(at(60 + 12 * 60 - 1));
        assert!(!at(60 + 12 * 60));
        assert!(at(3600 + 120));
    }
}
