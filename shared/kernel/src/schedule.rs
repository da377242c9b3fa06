//! Charging schedules: a subset of the OCPP 2.1 ChargingProfile.

use crate::catalogue::Rating;
use crate::input::Problems;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    TxProfile,
    TxDefault,
    MaxProfile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Absolute,
    Recurring,
    Relative,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Recurrency {
    Daily,
    Weekly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Unit {
    #[serde(rename = "kW")]
    KW,
    A,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    /// Seconds from the schedule's start.
    pub start_offset_s: i64,
    /// Charging limit in the schedule's unit.
    pub limit: f64,
    /// Discharging limit (V2G models only).
    pub discharge_limit: Option<f64>,
    /// Target setpoint; negative discharges (V2G models only).
    pub setpoint: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Schedule {
    pub purpose: Purpose,
    pub kind: Kind,
    pub recurrency: Option<Recurrency>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
    pub unit: Unit,
    pub periods: Vec<Period>,
}

pub const MAX_PERIODS: usize = 48;

impl Schedule {
    /// Checks the profile against itself and the charger's rating.
    pub fn check(&self, rating: &Rating, p: &mut Problems) {
        p.check(
            (self.kind == Kind::Recurring) == self.recurrency.is_some(),
            "recurrency",
            "is required for recurring schedules and only for them",
        );
        if let (Some(from), Some(to)) = (self.valid_from, self.valid_to) {
            p.check(from < to, "valid_to", "must be after valid_from");
        }
        p.check(
            (1..=MAX_PERIODS).contains(&self.periods.len()),
            "periods",
            "must hold 1..48 periods",
        );
        if let Some(first) = self.periods.first() {
            p.check(
                first.start_offset_s == 0,
                "periods[0].start_offset_s",
                "must be 0",
            );
        }
        for (i, w) in self.periods.windows(2).enumerate() {
            p.check(
                w[1].start_offset_s > w[0].start_offset_s,
                &format!("periods[{}].start_offset_s", i + 1),
                "must be greater than the previous period's",
            );
        }
        let max = match self.unit {
            Unit::KW => rating.max_power_kw,
            Unit::A => rating.max_current_a,
        };
        for (i, period) in self.periods.iter().enumerate() {
            let field = |name: &str| format!("periods[{i}].{name}");
            if !(crate::input::representable(period.limit) && (0.0..=max).contains(&period.limit)) {
                p.add(&field("limit"), format!("must be 0..{max} for this model"));
            }
            let bidirectional =
                period.discharge_limit.is_some() || period.setpoint.is_some_and(|s| s < 0.0);
            if bidirectional && !rating.v2g {
                p.add(
                    &field("discharge_limit"),
                    "this model cannot discharge (no V2G)",
                );
            }
            if let Some(d) = period.discharge_limit {
                p.range(d, 0.0, max, &field("discharge_limit"));
            }
            if let Some(s) = period.setpoint {
                p.range(s, -max, max, &field("setpoint"));
            }
        }
    }

    /// Whether the schedule applies at `now`.
    pub fn active_at(&self, now: DateTime<Utc>) -> bool {
        self.valid_from.is_none_or(|f| f <= now) && self.valid_to.is_none_or(|t| now < t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::rating;

    fn schedule(periods: Vec<(i64, f64)>) -> Schedule {
        Schedule {
            purpose: Purpose::TxProfile,
            kind: Kind::Absolute,
            recurrency: None,
            valid_from: None,
            valid_to: None,
            unit: Unit::KW,
            periods: periods
                .into_iter()
                .map(|(start_offset_s, limit)| Period {
                    start_offset_s,
                    limit,
                    discharge_limit: None,
                    setpoint: None,
                })
                .collect(),
        }
    }

    fn problems(s: &Schedule, model: &str) -> Vec<String> {
        let mut p = Problems::default();
        s.check(&rating(model), &mut p);
        match p.finish() {
            Ok(()) => vec![],
            Err(crate::Error::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn a_valid_profile_passes() {
        assert!(problems(&schedule(vec![(0, 11.0), (3600, 22.0)]), "TP-AC22").is_empty());
    }

    #[test]
    fn periods_start_at_zero_and_increase() {
        assert_eq!(
            problems(&schedule(vec![(60, 11.0)]), "TP-AC22"),
            ["periods[0].start_offset_s"]
        );
        assert_eq!(
            problems(&schedule(vec![(0, 11.0), (0, 5.0)]), "TP-AC22"),
            ["periods[1].start_offset_s"]
        );
    }

    #[test]
    fn limits_stay_within_the_rating_and_discharge_needs_v2g() {
        assert_eq!(
            problems(&schedule(vec![(0, 50.0)]), "TP-AC22"),
            ["periods[0].limit"]
        );
        let mut v2g = schedule(vec![(0, 10.0)]);
        v2g.periods[0].discharge_limit = Some(5.0);
        assert_eq!(problems(&v2g, "TP-AC22"), ["periods[0].discharge_limit"]);
        assert!(problems(&v2g, "TP-DC180").is_empty());
    }

    #[test]
    fn recurring_needs_a_recurrency() {
        let mut s = schedule(vec![(0, 10.0)]);
        s.kind = Kind::Recurring;
        assert_eq!(problems(&s, "TP-AC22"), ["recurrency"]);
    }
}
