//! Hourly forecasts (contract §8) of charged energy (site or device) and
//! utilization (site), with an 80 % interval and a backtest against the
//! seasonal-naive baseline in every answer.
//!
//! The method is a weighted seasonal profile: the same hour in previous
//! weeks (weekly seasonality) blended with the same hour in previous days
//! (daily seasonality), recent seasons weighing more. The blend and the
//! decay are chosen on the last horizon of the history, the interval is
//! the 10th–90th percentile of those validation errors. On a clean weekly
//! pattern the weekly profile alone wins the choice and equals the
//! pattern, so the method never does worse than seasonal naive there.

use super::Intelligence;
use super::Window;
use crate::telemetry::energy::hour_of;
use chrono::{DateTime, Duration, Utc};
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::{DeviceId, SiteId};
use serde::{Deserialize, Serialize};

pub const WEEK: usize = 168;
pub const DAY: usize = 24;
/// The fewest hours of history a forecast is made from (7 days).
pub const MIN_HISTORY: usize = WEEK;
pub const MAX_HORIZON: u32 = 168;
pub const DEFAULT_HORIZON: u32 = 24;
pub const MIN_HISTORY_DAYS: u32 = 7;
pub const MAX_HISTORY_DAYS: u32 = 90;
pub const DEFAULT_HISTORY_DAYS: u32 = 28;
const DAILY_LAGS: usize = 7;
const BLENDS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
const DECAYS: [f64; 3] = [0.5, 0.8, 1.0];

pub const METHOD: &str = "weighted seasonal profile: the same hour in previous weeks blended with the same hour in previous days, recent seasons weighing more; blend and decay chosen on the last horizon of history; 80 % interval from the 10th-90th percentile of those validation errors";
pub const BASELINE: &str = "seasonal_naive_168h";

/// The two knobs of the method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Share of the weekly profile; the rest is the daily one.
    pub weekly: f64,
    /// Weight of each older season relative to the next newer one.
    pub decay: f64,
}

/// A weighted mean of `y` at `lags` (nearest first), `None` if none is in
/// the history.
fn profile(y: &[f64], lags: impl Iterator<Item = usize>, decay: f64) -> Option<f64> {
    let (mut sum, mut weights, mut w) = (0.0, 0.0, 1.0);
    for i in lags {
        sum += w * y[i];
        weights += w;
        w *= decay;
    }
    (weights > 0.0).then(|| sum / weights)
}

/// Forecasts of `y[origin..origin + h]` from `y[..origin]` only.
pub fn forecast(y: &[f64], origin: usize, h: usize, p: Params) -> Vec<f64> {
    (origin..origin + h)
        .map(|t| {
            let weekly = profile(
                y,
                (1..)
                    .map(|k| t as i64 - (WEEK * k) as i64)
                    .take_while(|i| *i >= 0)
                    .map(|i| i as usize)
                    .filter(|i| *i < origin),
                p.decay,
            );
            let first_day = (t - origin) / DAY + 1;
            let daily = profile(
                y,
                (first_day..first_day + DAILY_LAGS)
                    .map(|j| t as i64 - (DAY * j) as i64)
                    .take_while(|i| *i >= 0)
                    .map(|i| i as usize),
                p.decay,
            );
            match (weekly, daily) {
                (Some(w), Some(d)) => p.weekly * w + (1.0 - p.weekly) * d,
                (Some(v), None) | (None, Some(v)) => v,
                (None, None) => 0.0,
            }
        })
        .collect()
}

fn mae(actual: &[f64], predicted: &[f64]) -> f64 {
    let n = actual.len().max(1) as f64;
    actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| (a - p).abs())
        .sum::<f64>()
        / n
}

/// Symmetric mean absolute percentage error, in %, hours where both are
/// zero counting as exact.
fn smape(actual: &[f64], predicted: &[f64]) -> f64 {
    let n = actual.len().max(1) as f64;
    actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| {
            let d = a.abs() + p.abs();
            if d == 0.0 {
                0.0
            } else {
                2.0 * (a - p).abs() / d
            }
        })
        .sum::<f64>()
        / n
        * 100.0
}

/// The parameters that best forecast the last `h` hours of `y` from the
/// hours before them.
pub fn choose(y: &[f64], h: usize) -> Params {
    let origin = y.len().saturating_sub(h);
    let mut best = (
        f64::INFINITY,
        Params {
            weekly: 1.0,
            decay: 1.0,
        },
    );
    for weekly in BLENDS {
        for decay in DECAYS {
            let p = Params { weekly, decay };
            let e = mae(&y[origin..], &forecast(y, origin, y.len() - origin, p));
            // A tie goes to the pure weekly profile: seasonal naive's family.
            if e < best.0 - 1e-12 || (e <= best.0 + 1e-12 && weekly == 1.0) {
                best = (e, p);
            }
        }
    }
    best.1
}

/// The backtest of one series: the last `h` hours forecast from the data
/// before them, against the seasonal-naive forecast of the same hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Backtest {
    pub horizon_hours: usize,
    pub mae: f64,
    /// In %.
    pub smape: f64,
    pub baseline: String,
    /// `null` when the history is too short for a week-old value.
    pub baseline_mae: Option<f64>,
    /// `1 − mae ÷ baseline_mae`; `null` without a baseline or when the
    /// baseline is exact.
    pub skill: Option<f64>,
}

pub fn backtest(y: &[f64], h: usize) -> Backtest {
    let origin = y.len() - h;
    let p = choose(&y[..origin], h);
    let predicted = forecast(y, origin, h, p);
    let actual = &y[origin..];
    let naive: Vec<(f64, f64)> = (origin..y.len())
        .filter(|t| *t >= WEEK)
        .map(|t| (y[t], y[t - WEEK]))
        .collect();
    let baseline_mae = (naive.len() == h).then(|| {
        let (a, p): (Vec<f64>, Vec<f64>) = naive.into_iter().unzip();
        mae(&a, &p)
    });
    let model_mae = mae(actual, &predicted);
    Backtest {
        horizon_hours: h,
        mae: round4(model_mae),
        smape: round4(smape(actual, &predicted)),
        baseline: BASELINE.into(),
        baseline_mae: baseline_mae.map(round4),
        skill: baseline_mae
            .filter(|b| *b > 0.0)
            .map(|b| round4(1.0 - model_mae / b)),
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

/// One forecast hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastPoint {
    pub timestamp: DateTime<Utc>,
    pub value: f64,
    pub lower: f64,
    pub upper: f64,
}

/// The next `h` hours after `y` (which starts at `start`), each within
/// `[floor, ceiling]`, with 80 % intervals.
pub fn predict(
    y: &[f64],
    start: DateTime<Utc>,
    h: usize,
    floor: f64,
    ceiling: f64,
) -> Vec<ForecastPoint> {
    let p = choose(y, h);
    let origin = y.len();
    let validation = h.max(DAY).min(y.len() - DAY);
    let fitted = forecast(y, origin - validation, validation, p);
    let mut errors: Vec<f64> = y[origin - validation..]
        .iter()
        .zip(&fitted)
        .map(|(a, f)| a - f)
        .collect();
    errors.sort_by(f64::total_cmp);
    let (low, high) = (
        percentile(&errors, 0.1).min(0.0),
        percentile(&errors, 0.9).max(0.0),
    );
    forecast(y, origin, h, p)
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let value = v.clamp(floor, ceiling);
            ForecastPoint {
                timestamp: start + Duration::hours((origin + i) as i64),
                value: round4(value),
                lower: round4((v + low).clamp(floor, value)),
                upper: round4((v + high).clamp(value, ceiling)),
            }
        })
        .collect()
}

/// What a forecast is of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForecastSubject {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub site_id: Option<SiteId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub device_id: Option<DeviceId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainedOn {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub points: usize,
}

kernel::wire_enum! {
    pub enum ForecastStatus {
        Ok,
        InsufficientData,
}
}

/// A forecast answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Forecast {
    pub subject: ForecastSubject,
    /// `kWh` or `fraction`.
    pub unit: String,
    pub granularity: String,
    pub status: ForecastStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub method: String,
    pub trained_on: TrainedOn,
    pub backtest: Option<Backtest>,
    pub series: Vec<ForecastPoint>,
}

/// An hourly history: values from `start`, one per hour.
#[derive(Debug, Clone)]
pub struct History {
    pub start: DateTime<Utc>,
    pub values: Vec<f64>,
}

/// Builds the answer for a history.
pub fn answer(
    subject: ForecastSubject,
    unit: &str,
    history: History,
    horizon: u32,
    ceiling: f64,
) -> Forecast {
    let points = history.values.len();
    let trained_on = TrainedOn {
        from: history.start,
        to: history.start + Duration::hours(points as i64),
        points,
    };
    let base = Forecast {
        subject,
        unit: unit.into(),
        granularity: "hour".into(),
        status: ForecastStatus::InsufficientData,
        reason: None,
        method: METHOD.into(),
        trained_on,
        backtest: None,
        series: Vec::new(),
    };
    if points < MIN_HISTORY {
        return Forecast {
            reason: Some(format!(
                "{points} hours of history; a forecast needs at least {MIN_HISTORY} (7 days)"
            )),
            ..base
        };
    }
    let h = horizon as usize;
    // The backtest needs a week before its window for the baseline; with
    // less, it still runs and says the baseline is missing.
    let tested = h.min(points - DAY);
    Forecast {
        status: ForecastStatus::Ok,
        backtest: Some(backtest(&history.values, tested)),
        series: predict(&history.values, history.start, h, 0.0, ceiling),
        ..base
    }
}

/// `GET /v1/intelligence/forecasts/*`, parsed.
#[derive(Debug, Clone)]
pub struct ForecastQuery {
    pub site_id: Option<SiteId>,
    pub device_id: Option<DeviceId>,
    pub horizon_hours: u32,
    pub history_days: u32,
}

/// Hours `[from, to)` with values, missing hours zero, trimmed to start at
/// the first hour with data (nothing is known before it).
pub(crate) fn history(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    values: &[(DateTime<Utc>, f64)],
) -> History {
    let first = values
        .iter()
        .filter(|(h, v)| *h >= from && *v > 0.0)
        .map(|(h, _)| *h)
        .min()
        .unwrap_or(to);
    let n = ((to - first).num_hours()).max(0) as usize;
    let mut out = vec![0.0; n];
    for (h, v) in values {
        let i = (*h - first).num_hours();
        if i >= 0 && (i as usize) < n {
            out[i as usize] += v;
        }
    }
    History {
        start: first,
        values: out,
    }
}

impl Intelligence {
    /// The last complete hour's end, and the first hour of a history of
    /// `days` before it.
    fn history_range(&self, days: u32) -> (DateTime<Utc>, DateTime<Utc>) {
        let to = hour_of(self.clock.now());
        (to - Duration::days(i64::from(days)), to)
    }

    pub async fn energy_forecast(
        &self,
        caller: &Caller,
        q: ForecastQuery,
    ) -> Result<Forecast, Error> {
        let subject = match (q.site_id, q.device_id) {
            (None, None) => {
                return Err(Error::invalid(
                    "site_id",
                    "one of site_id or device_id is required",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "device_id",
                    "give site_id or device_id, not both",
                ));
            }
            (site, device) => {
                self.subject(
                    caller,
                    super::Scope {
                        operator: None,
                        site,
                        device,
                    },
                )
                .await?
            }
        };
        self.ensure_ran(
            &subject.operator,
            &[super::catalogue::AgentId::EnergyForecaster],
        )
        .await?;
        let until = hour_of(self.clock.now());
        let history = self
            .subject_history(&subject, &[], until, q.history_days)
            .await?;
        Ok(answer(
            ForecastSubject {
                site_id: subject.site_id(),
                device_id: subject.device_id(),
            },
            "kWh",
            history,
            q.horizon_hours,
            f64::INFINITY,
        ))
    }

    /// The share of a site's connector-hours inside charging sessions,
    /// per hour, from its charging records.
    pub(crate) async fn utilization_history(
        &self,
        site: &kernel::model::Site,
        days: u32,
    ) -> Result<History, Error> {
        let (from, to) = self.history_range(days);
        let devices = self.access.site_members(site).await?;
        let connectors: u32 = devices
            .iter()
            .map(|d| match kernel::catalogue::spec(&d.model) {
                Some(spec) => spec.connectors,
                None => (d.connectors.len() as u32).max(1),
            })
            .sum();
        if connectors == 0 {
            return Ok(History {
                start: to,
                values: Vec::new(),
            });
        }
        // A session may have started up to a day before the range.
        let records = self
            .store
            .operator_records(&site.operator_id, from - Duration::days(1), to)
            .await?;
        let mut values: Vec<(DateTime<Utc>, f64)> = Vec::new();
        let capacity = f64::from(connectors) * 3600.0;
        for r in records.iter().filter(|r| r.site_id == Some(site.site_id)) {
            let mut hour = hour_of(r.start_time).max(from);
            let session = Window {
                from: r.start_time,
                to: r.end_time,
            };
            while hour < r.end_time.min(to) {
                let slot = Window {
                    from: hour,
                    to: hour + Duration::hours(1),
                };
                // Records mark the first hour with data even when short.
                values.push((
                    hour,
                    (slot.overlap(&session) / capacity).max(f64::MIN_POSITIVE),
                ));
                hour += Duration::hours(1);
            }
        }
        let mut h = history(from, to, &values);
        for v in &mut h.values {
            *v = v.min(1.0);
        }
        Ok(h)
    }

    pub async fn utilization_forecast(
        &self,
        caller: &Caller,
        q: ForecastQuery,
    ) -> Result<Forecast, Error> {
        let Some(site_id) = q.site_id else {
            return Err(Error::invalid("site_id", "is required"));
        };
        let subject = self
            .subject(
                caller,
                super::Scope {
                    site: Some(site_id),
                    ..Default::default()
                },
            )
            .await?;
        self.ensure_ran(
            &subject.operator,
            &[super::catalogue::AgentId::UtilizationForecaster],
        )
        .await?;
        let site = subject
            .site
            .as_ref()
            .ok_or_else(|| Error::internal("site subject without site"))?;
        let history = self.utilization_history(site, q.history_days).await?;
        Ok(answer(
            ForecastSubject {
                site_id: Some(site_id),
                device_id: None,
            },
            "fraction",
            history,
            q.horizon_hours,
            1.0,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four weeks of a weekday pattern: 20 kWh at 08:00–10:00 on weekdays,
    /// 5 kWh at noon at weekends, nothing otherwise.
    fn weekly(weeks: usize, noise: f64) -> Vec<f64> {
        let mut rng = fastrand::Rng::with_seed(7);
        (0..weeks * WEEK)
            .map(|t| {
                let (day, hour) = (t / DAY % 7, t % DAY);
                let base = match (day < 5, hour) {
                    (true, 8..=9) => 20.0,
                    (false, 12) => 5.0,
                    _ => 0.0,
                };
                (base + noise * (rng.f64() - 0.5)).max(0.0)
            })
            .collect()
    }

    #[test]
    fn a_clean_weekly_pattern_is_forecast_exactly() {
        let y = weekly(4, 0.0);
        let f = forecast(&y, y.len(), WEEK, choose(&y, 24));
        assert_eq!(f, y[y.len() - WEEK..].to_vec());
    }

    #[test]
    fn the_method_does_not_lose_to_seasonal_naive_on_a_noisy_weekly_pattern() {
        let y = weekly(4, 2.0);
        let b = backtest(&y, 24);
        assert!(b.mae <= b.baseline_mae.unwrap() + 1e-9, "{b:?}");
        assert!(b.skill.unwrap() >= 0.0);
    }

    #[test]
    fn intervals_hold_their_value_and_never_go_negative() {
        let y = weekly(3, 3.0);
        let start: DateTime<Utc> = "2026-05-04T00:00:00Z".parse().unwrap();
        for p in predict(&y, start, 48, 0.0, f64::INFINITY) {
            assert!(p.lower <= p.value && p.value <= p.upper, "{p:?}");
            assert!(p.lower >= 0.0);
        }
    }

    #[test]
    fn less_than_a_week_is_insufficient_data() {
        let start: DateTime<Utc> = "2026-05-04T00:00:00Z".parse().unwrap();
        let f = answer(
            ForecastSubject {
                site_id: None,
                device_id: None,
            },
            "kWh",
            History {
                start,
                values: vec![1.0; WEEK - 1],
            },
            24,
            f64::INFINITY,
        );
        assert_eq!(f.status, ForecastStatus::InsufficientData);
        assert!(f.series.is_empty());
        assert!(f.reason.is_some());
    }
}
