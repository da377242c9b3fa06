//! Anomalies the agents find (contract §8), each rule a pure function of
//! the data in hand, over the findings kept at ingest
//! (`observations::findings`), and the findings' reads.

use super::Intelligence;
use super::{Subject, Window, round2};
use crate::observations::findings::Finding;
pub use crate::observations::findings::{
    Anomaly, AnomalyKind, FAULT_BURST, FAULT_WINDOW, POWER_TOLERANCE, Severity, counter_reset,
    fault_burst, finding_id, power_over_rating, recent_faults,
};
use crate::telemetry::EnergyHour;
use chrono::{DateTime, Duration, Utc};
use kernel::access::Caller;
use kernel::error::Error;

use kernel::command::Command;
use kernel::model::{CommandStatus, ConnectorState, Device};

/// A session charging this long without `STUCK_MIN_KWH` more is stuck.
pub const STUCK_AFTER: Duration = Duration::minutes(20);
pub const STUCK_MIN_KWH: f64 = 0.1;
/// Outages longer than these are findings, warning then critical.
pub const GAP_WARNING: Duration = Duration::minutes(10);
pub const GAP_CRITICAL: Duration = Duration::minutes(60);
/// Failed, rejected or expired commands in a day that make a finding.
pub const COMMAND_FAILURES: usize = 3;
/// A robust z-score above this is an outlier.
pub const OUTLIER_Z: f64 = 3.5;
/// Fewest and most previous days an hour is compared with.
pub const OUTLIER_MIN_DAYS: usize = 7;
pub const OUTLIER_MAX_DAYS: i64 = 28;
/// Spread below this (kWh) is rounding, not a pattern: it keeps an hour
/// that was always the same from making every small change infinite.
const OUTLIER_MIN_SCALE: f64 = 0.05;

/// Connectors of an online device charging for 20 minutes or more whose
/// energy rose less than 0.1 kWh.
pub fn stuck_sessions(device: &Device, now: DateTime<Utc>) -> Vec<Anomaly> {
    if !device.connected(now)
        && device
            .last_seen
            .is_none_or(|t| now - t > crate::observations::outages::SILENCE)
    {
        return Vec::new();
    }
    device
        .connectors
        .iter()
        .filter_map(|(id, c)| {
            let (since, at_start) = (c.since?, c.since_energy?);
            let rose = c.energy_delivered - at_start;
            (c.state == ConnectorState::Charging && now - since >= STUCK_AFTER && rose < STUCK_MIN_KWH)
                .then(|| {
                    Finding {
                        device,
                        connector: Some(*id),
                        kind: AnomalyKind::StuckSession,
                        severity: Severity::Warning,
                        window: Window { from: since, to: now },
                        observed: rose.max(0.0),
                        expected: STUCK_MIN_KWH,
                        unit: "kWh",
                        explanation: format!(
                            "{} connector {id} has been charging for {} minutes but delivered {:.2} kWh",
                            device.sn,
                            (now - since).num_minutes(),
                            rose.max(0.0)
                        ),
                    }
                    .at(now)
                })
        })
        .collect()
}

/// Outages longer than 10 minutes (critical over 60).
pub fn heartbeat_gaps(device: &Device, outages: &[Window], now: DateTime<Utc>) -> Vec<Anomaly> {
    outages
        .iter()
        .filter(|o| o.to - o.from > GAP_WARNING)
        .map(|o| {
            let minutes = (o.to - o.from).num_seconds() as f64 / 60.0;
            let open = o.to >= now;
            Finding {
                device,
                connector: None,
                kind: AnomalyKind::HeartbeatGap,
                severity: if o.to - o.from > GAP_CRITICAL {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                window: *o,
                observed: minutes,
                expected: GAP_WARNING.num_minutes() as f64,
                unit: "min",
                explanation: format!(
                    "{} {} silent for {:.0} minutes",
                    device.sn,
                    if open { "has been" } else { "was" },
                    minutes
                ),
            }
            .at(now)
        })
        .collect()
}

/// A command's outcome as of `now`: open commands past expiry expired.
pub fn outcome(command: &Command, now: DateTime<Utc>) -> CommandStatus {
    if command.status.is_open() && command.expires_at <= now {
        CommandStatus::Expired
    } else {
        command.status
    }
}

/// Whether an outcome counts against a device.
pub fn unsuccessful(status: CommandStatus) -> bool {
    matches!(
        status,
        CommandStatus::Failed | CommandStatus::Rejected | CommandStatus::Expired
    )
}

/// Three or more failed, rejected or expired commands of the device in
/// the last 24 h, with under half completed. `commands` are the device's.
pub fn command_failures(
    device: &Device,
    commands: &[&Command],
    now: DateTime<Utc>,
) -> Option<Anomaly> {
    let day: Vec<&&Command> = commands
        .iter()
        .filter(|c| c.created_at > now - Duration::hours(24))
        .collect();
    let failed: Vec<&&&Command> = day
        .iter()
        .filter(|c| unsuccessful(outcome(c, now)))
        .collect();
    let completed = day
        .iter()
        .filter(|c| outcome(c, now) == CommandStatus::Completed)
        .count();
    if failed.len() < COMMAND_FAILURES || completed * 2 >= day.len() {
        return None;
    }
    let from = failed.iter().map(|c| c.created_at).min()?;
    Some(
        Finding {
            device,
            connector: None,
            kind: AnomalyKind::CommandFailures,
            severity: Severity::Warning,
            window: Window { from, to: now },
            observed: failed.len() as f64,
            expected: (COMMAND_FAILURES - 1) as f64,
            unit: "commands",
            explanation: format!(
                "{}: {} of {} commands in the last 24 h failed, were rejected or expired; {} completed",
                device.sn,
                failed.len(),
                day.len(),
                completed
            ),
        }
        .at(now),
    )
}

/// The median of `values` (not empty).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The robust z-score of `x` against `history`: distance from the median
/// in units of 1.4826 × the median absolute deviation.
pub fn robust_z(x: f64, history: &[f64]) -> f64 {
    let mut h = history.to_vec();
    let med = median(&mut h);
    let mut deviations: Vec<f64> = history.iter().map(|v| (v - med).abs()).collect();
    let scale = (1.4826 * median(&mut deviations)).max(OUTLIER_MIN_SCALE);
    (x - med) / scale
}

/// A site whose energy in the last complete hour is an outlier against the
/// same hour of the previous 7–28 days. `hours` are the site's hours of
/// the last 29 days; hours without a bucket had no energy.
pub fn consumption_outlier(
    site: &kernel::model::Site,
    hours: &[EnergyHour],
    now: DateTime<Utc>,
) -> Option<Anomaly> {
    let last = crate::telemetry::energy::hour_of(now) - Duration::hours(1);
    let energy_at = |h: DateTime<Utc>| {
        hours
            .iter()
            .find(|e| e.hour == h)
            .map_or(0.0, |e| e.charge_energy)
    };
    let history: Vec<f64> = (1..=OUTLIER_MAX_DAYS)
        .map(|d| last - Duration::days(d))
        .filter(|h| *h >= crate::telemetry::energy::hour_of(site.created_at))
        .map(energy_at)
        .collect();
    if history.len() < OUTLIER_MIN_DAYS {
        return None;
    }
    let x = energy_at(last);
    let z = robust_z(x, &history);
    if z <= OUTLIER_Z {
        return None;
    }
    let mut h = history.clone();
    let med = median(&mut h);
    Some(Anomaly {
        anomaly_id: finding_id(
            &site.site_id.to_string(),
            None,
            AnomalyKind::ConsumptionOutlier,
            last,
        ),
        kind: AnomalyKind::ConsumptionOutlier,
        severity: Severity::Info,
        device_id: None,
        sn: None,
        connector_id: None,
        site_id: Some(site.site_id),
        operator_id: site.operator_id.clone(),
        detected_at: now,
        window: Window {
            from: last,
            to: last + Duration::hours(1),
        },
        observed: round2(x),
        expected: round2(med),
        unit: "kWh".into(),
        explanation: format!(
            "site {} used {:.2} kWh in the hour from {}; the median of the same hour on the previous {} days is {:.2} kWh (robust z-score {:.1})",
            site.name,
            x,
            last.format("%H:%M UTC"),
            history.len(),
            med,
            z
        ),
    })
}

/// `GET /v1/intelligence/anomalies`, parsed.
#[derive(Debug, Clone)]
pub struct AnomalyQuery {
    pub scope: super::Scope,
    pub kind: Option<AnomalyKind>,
    pub severity: Option<Severity>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Intelligence {
    /// Findings of the subject, newest first (default the last 24 h).
    pub async fn anomalies(&self, caller: &Caller, q: AnomalyQuery) -> Result<Vec<Anomaly>, Error> {
        let subject = self.subject(caller, q.scope).await?;
        let now = self.clock.now();
        let until = q.until.unwrap_or(now);
        let since = q.since.unwrap_or(until - Duration::hours(24));
        if since > until {
            return Err(Error::invalid("until", "must not be before since"));
        }
        self.findings(
            &subject,
            Window {
                from: since,
                to: until,
            },
            q.kind,
            q.severity,
        )
        .await
    }

    /// The subject's findings detected in `window`, newest first.
    pub(crate) async fn findings(
        &self,
        subject: &Subject,
        window: Window,
        kind: Option<AnomalyKind>,
        severity: Option<Severity>,
    ) -> Result<Vec<Anomaly>, Error> {
        self.ensure_ran(
            &subject.operator,
            &[super::catalogue::AgentId::AnomalyDetector],
        )
        .await?;
        let found = self
            .store
            .anomalies(&subject.operator, window.from, window.to)
            .await?;
        Ok(found
            .into_iter()
            .filter(|a| {
                subject.device_id().is_none_or(|d| a.device_id == Some(d))
                    && subject.site_id().is_none_or(|s| a.site_id == Some(s))
                    && kind.is_none_or(|k| a.kind == k)
                    && severity.is_none_or(|s| a.severity == s)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_robust_z_score_ignores_one_wild_day_in_the_history() {
        let history = [10.0, 11.0, 9.0, 10.0, 10.5, 9.5, 10.0, 80.0];
        assert!(robust_z(10.2, &history).abs() < 1.0);
        assert!(robust_z(25.0, &history) > OUTLIER_Z);
    }

    #[test]
    fn an_hour_that_never_varied_is_an_outlier_only_for_a_real_change() {
        let zeros = [0.0; 10];
        assert!(robust_z(0.01, &zeros) < OUTLIER_Z);
        assert!(robust_z(5.0, &zeros) > OUTLIER_Z);
    }
}
