//! A connector's live state, and the trace of its session: what pricing
//! needs of a session (contract §14) kept where every reading is written
//! anyway, so that no reading costs a request of its own. The trace holds
//! the session's energy and state at each state change and at the last
//! reading before every UTC quarter hour (time-of-day restrictions fall on
//! quarter hours in every time zone's offset); between two points energy
//! is spread evenly.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

wire_enum! {
    /// Wire names are snake case, the same for serde and for parsing at the
    /// edge (`strum`), so that value lists come from the enum itself.
    pub enum ConnectorState {
        Idle,
        Preparing,
        Charging,
        Suspended,
        Discharging,
        Finishing,
        Fault,
        Unavailable,
}
}

/// Peak power seen by one connector in the current hour bucket, so that a
/// bucket's `max_power` is written only when it may rise.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Peaks {
    /// The start of the hour the peak belongs to.
    pub hour: Option<DateTime<Utc>>,
    pub hour_kw: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    pub state: ConnectorState,
    /// Time of the newest sample or event applied; older ones do not move state.
    pub ts: DateTime<Utc>,
    pub voltage: f64,
    pub current: f64,
    pub power: f64,
    /// The session's energy counter (kWh) as last reported.
    pub energy_delivered: f64,
    pub soc: Option<f64>,
    #[serde(default)]
    pub peaks: Peaks,
    /// Time of the newest sample counted: the energy baseline, kept apart
    /// from `ts` so that an event cannot make a later sample look old.
    #[serde(default)]
    pub sample_ts: Option<DateTime<Utc>>,
    /// Bumped on every write; writes are conditional on the version read.
    #[serde(default)]
    pub version: u64,
    /// When the connector entered its state, and its energy counter then:
    /// what a stuck session is measured from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_energy: Option<f64>,
    /// The last sample counted into an hour bucket: the next one's energy
    /// applies only over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_mark: Option<DateTime<Utc>>,
    /// The connector's last session as pricing needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionTrace>,
}

impl Connector {
    /// A connector first heard of at `ts`, in `state`: no readings yet, its
    /// session counter at 0.
    pub fn first_seen(state: ConnectorState, ts: DateTime<Utc>) -> Self {
        Self {
            state,
            ts,
            voltage: 0.0,
            current: 0.0,
            power: 0.0,
            energy_delivered: 0.0,
            soc: None,
            peaks: Peaks::default(),
            sample_ts: None,
            version: 0,
            since: Some(ts),
            since_energy: Some(0.0),
            bucket_mark: None,
            session: None,
        }
    }
}

/// Most points one trace keeps (a day of quarter hours and some state
/// changes); past it every other point within a state is dropped, so the
/// connector's item stays small however long the session.
pub const MAX_POINTS: usize = 100;

/// One moment of a session: its energy so far (kWh) and the state from
/// then on. Short names: the trace rides on every write of its device.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TracePoint {
    #[serde(rename = "t")]
    pub at: DateTime<Utc>,
    #[serde(rename = "e")]
    pub kwh: f64,
    #[serde(rename = "s")]
    pub state: ConnectorState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionTrace {
    pub started_at: DateTime<Utc>,
    pub points: Vec<TracePoint>,
    /// Set when the connector is unplugged: nothing more is added, and
    /// the record that comes later still finds the session.
    #[serde(default)]
    pub closed: bool,
}

fn quarter(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::minutes(15)).unwrap_or(t)
}

impl SessionTrace {
    pub fn open(at: DateTime<Utc>, kwh: f64, state: ConnectorState) -> Self {
        Self {
            started_at: at,
            points: vec![TracePoint { at, kwh, state }],
            closed: false,
        }
    }

    /// Follows the connector from its last reading `before` to `now`.
    pub fn follow(&mut self, before: Option<TracePoint>, now: TracePoint) {
        if self.closed {
            return;
        }
        let last = self.points.last().copied();
        // The last reading before a quarter hour the session crossed.
        if let Some(b) = before
            && quarter(b.at) < quarter(now.at)
            && last.is_none_or(|l| l.at < b.at)
            && b.at >= self.started_at
        {
            self.push(b);
        }
        if self.points.last().is_none_or(|l| l.state != now.state) {
            self.push(now);
        }
        if now.state == ConnectorState::Idle {
            self.closed = true;
        }
    }

    fn push(&mut self, p: TracePoint) {
        if self.points.last().is_some_and(|l| l.at > p.at) {
            return;
        }
        self.points.push(p);
        if self.points.len() > MAX_POINTS {
            self.thin();
        }
    }

    /// Drops every other point that changes no state (the first and the
    /// last stay).
    fn thin(&mut self) {
        let last = self.points.len() - 1;
        let mut plain = 0;
        let mut kept = Vec::with_capacity(self.points.len());
        for (i, p) in self.points.iter().enumerate() {
            let changes_state = i == 0 || self.points[i - 1].state != p.state;
            if changes_state || i == last {
                kept.push(*p);
                continue;
            }
            plain += 1;
            if plain % 2 == 0 {
                kept.push(*p);
            }
        }
        self.points = kept;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .to_utc()
            + Duration::minutes(min)
    }

    fn point(min: i64, kwh: f64, state: ConnectorState) -> TracePoint {
        TracePoint {
            at: at(min),
            kwh,
            state,
        }
    }

    #[test]
    fn keeps_state_changes_and_the_last_reading_before_each_quarter_hour() {
        let charging = ConnectorState::Charging;
        let mut t = SessionTrace::open(at(1), 0.0, charging);
        let mut before = t.points[0];
        for min in 2..40 {
            let now = point(min, min as f64, charging);
            t.follow(Some(before), now);
            before = now;
        }
        t.follow(Some(before), point(40, 40.0, ConnectorState::Suspended));
        let kept: Vec<i64> = t
            .points
            .iter()
            .map(|p| (p.at - at(0)).num_minutes())
            .collect();
        assert_eq!(kept, vec![1, 14, 29, 40]);
        assert_eq!(t.points[3].state, ConnectorState::Suspended);
    }

    #[test]
    fn closes_when_unplugged_and_adds_nothing_after() {
        let mut t = SessionTrace::open(at(0), 0.0, ConnectorState::Charging);
        t.follow(None, point(5, 2.0, ConnectorState::Idle));
        t.follow(None, point(6, 0.0, ConnectorState::Charging));
        assert!(t.closed);
        assert_eq!(t.points.len(), 2);
    }

    #[test]
    fn a_long_session_stays_within_its_bound_and_keeps_its_ends() {
        let charging = ConnectorState::Charging;
        let mut t = SessionTrace::open(at(0), 0.0, charging);
        let mut before = t.points[0];
        for min in 1..(60 * 48) {
            let now = point(min, min as f64, charging);
            t.follow(Some(before), now);
            before = now;
        }
        assert!(t.points.len() <= MAX_POINTS);
        assert_eq!(t.points[0].at, at(0));
        assert!(t.points.last().unwrap().at > at(60 * 47));
        assert!(t.points.windows(2).all(|w| w[0].at < w[1].at));
    }
}
