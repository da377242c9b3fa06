//! The agents there are: their ids on the wire, names, descriptions and
//! schedules. What each run does is in `agents.rs`; the analyses they run
//! name themselves by these ids.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

/// An agent, by its id on the wire (`health-scorer`, ...).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum AgentId {
    HealthScorer,
    AnomalyDetector,
    EnergyForecaster,
    UtilizationForecaster,
    DailyBriefer,
}

/// When an agent runs: every `period` from midnight UTC, or daily at an hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    Every(Duration),
    DailyAt(u32),
}

impl Schedule {
    /// The start of the slot `now` is in: a run in it is the slot's run.
    pub fn slot(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::Every(period) => now.duration_trunc(period).unwrap_or(now),
            Self::DailyAt(hour) => {
                let today = now.duration_trunc(Duration::days(1)).unwrap_or(now)
                    + Duration::hours(i64::from(hour));
                if now >= today {
                    today
                } else {
                    today - Duration::days(1)
                }
            }
        }
    }

    fn period(self) -> Duration {
        match self {
            Self::Every(period) => period,
            Self::DailyAt(_) => Duration::days(1),
        }
    }

    /// Whether the slot `now` is in has no run yet.
    pub fn due(self, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        last.is_none_or(|at| at < self.slot(now))
    }

    /// When the next run is expected: now when due, else the next slot.
    pub fn next_run(self, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
        if self.due(last, now) {
            now
        } else {
            self.slot(now) + self.period()
        }
    }

    /// The schedule as EventBridge writes it.
    pub fn expression(self) -> String {
        match self {
            Self::Every(p) if p.num_minutes() % 60 == 0 => {
                let h = p.num_hours();
                format!("rate({h} hour{})", if h == 1 { "" } else { "s" })
            }
            Self::Every(p) => format!("rate({} minutes)", p.num_minutes()),
            Self::DailyAt(hour) => format!("cron(0 {hour} * * ? *)"),
        }
    }
}

impl std::fmt::Display for AgentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl kernel::ids::Identifier for AgentId {
    const KIND: &'static str = "agent";

    fn parse_id(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

impl AgentId {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn all() -> impl Iterator<Item = Self> {
        <Self as strum::IntoEnumIterator>::iter()
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::HealthScorer => "Health scorer",
            Self::AnomalyDetector => "Anomaly detector",
            Self::EnergyForecaster => "Energy forecaster",
            Self::UtilizationForecaster => "Utilization forecaster",
            Self::DailyBriefer => "Daily briefer",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::HealthScorer => {
                "Scores every device 0-100 from uptime, faults, command success and firmware currency over the last 7 days; findings are devices below 75."
            }
            Self::AnomalyDetector => {
                "Looks for stuck sessions, heartbeat gaps, repeated command failures and site consumption outliers; findings are the anomalies found."
            }
            Self::EnergyForecaster => {
                "Forecasts each site's charged energy for the next 24 hours from up to 28 days of hourly roll-ups; findings are the sites forecast."
            }
            Self::UtilizationForecaster => {
                "Forecasts each site's connector utilization for the next 24 hours from its charging records; findings are the sites forecast."
            }
            Self::DailyBriefer => {
                "Writes yesterday's briefing for the operator; findings are the actions it recommends."
            }
        }
    }

    pub fn schedule(self) -> Schedule {
        match self {
            Self::HealthScorer | Self::AnomalyDetector => Schedule::Every(Duration::minutes(15)),
            Self::EnergyForecaster | Self::UtilizationForecaster => {
                Schedule::Every(Duration::hours(1))
            }
            Self::DailyBriefer => Schedule::DailyAt(6),
        }
    }
}
