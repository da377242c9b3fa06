//! The daily briefing (contract §8): a day's KPIs from the charging
//! records that ended on it, compared with the day before and the same day
//! last week, the top findings, the least healthy devices, tomorrow's
//! forecast and actions tied to findings, as data and as text whose every
//! number is one of the KPIs.

use super::Intelligence;
use super::agents::AgentId;
use super::anomalies::{Anomaly, Severity, outcome, unsuccessful};
use super::forecast::{DEFAULT_HISTORY_DAYS, History, predict};
use super::{Subject, Window, round2};
use crate::telemetry::EnergyScope;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::{DeviceId, OperatorId, SiteId};
use kernel::model::{ChargingRecord, CommandStatus, Device};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revenue {
    pub currency: String,
    pub amount: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandKpis {
    pub sent: u32,
    pub completed: u32,
    /// Failed, rejected or expired.
    pub failed: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Kpis {
    /// kWh of the charging records that ended on the date.
    pub energy_kwh: f64,
    /// kWh discharged (V2G) on the date, from the hourly roll-ups of the
    /// sites (or of the device).
    pub discharge_kwh: f64,
    pub sessions: u32,
    pub revenue: Vec<Revenue>,
    /// Share of device-time not inside an outage; `null` without devices.
    pub uptime_pct: Option<f64>,
    pub faults: u32,
    pub commands: CommandKpis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// `null` when the earlier day had no energy.
    pub energy_kwh_change_pct: Option<f64>,
    pub sessions_change: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComparedTo {
    pub previous_day: Change,
    pub same_day_last_week: Change,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeastHealthy {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub device_id: DeviceId,
    pub sn: String,
    pub score: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NextDay {
    pub energy_kwh: f64,
    pub lower: f64,
    pub upper: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Briefing {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub operator_id: OperatorId,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub site_id: Option<SiteId>,
    pub headline: String,
    pub summary: String,
    pub kpis: Kpis,
    pub compared_to: ComparedTo,
    pub top_anomalies: Vec<Anomaly>,
    pub least_healthy: Vec<LeastHealthy>,
    pub forecast_next_day: Option<NextDay>,
    pub actions: Vec<String>,
}

/// `GET /v1/intelligence/daily-briefing`, parsed.
#[derive(Debug, Clone)]
pub struct BriefingQuery {
    pub scope: super::Scope,
    pub date: Option<NaiveDate>,
}

fn day_window(date: NaiveDate) -> Window {
    let from = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    Window {
        from,
        to: from + Duration::days(1),
    }
}

/// Energy, sessions and revenue of the records that ended in `day`.
fn record_kpis(records: &[&ChargingRecord], day: Window) -> (f64, u32, Vec<Revenue>) {
    let ended: Vec<&&ChargingRecord> = records
        .iter()
        .filter(|r| r.end_time >= day.from && r.end_time < day.to)
        .collect();
    let energy = round2(ended.iter().map(|r| r.energy).sum());
    (
        energy,
        ended.len() as u32,
        revenue_of(ended.iter().map(|r| **r)),
    )
}

/// The records' costs, summed per currency.
pub(crate) fn revenue_of<'a>(
    records: impl IntoIterator<Item = &'a ChargingRecord>,
) -> Vec<Revenue> {
    let mut revenue: BTreeMap<String, f64> = BTreeMap::new();
    for r in records {
        if let (Some(cost), Some(currency)) = (r.cost, &r.currency) {
            *revenue.entry(currency.clone()).or_default() += cost;
        }
    }
    revenue
        .into_iter()
        .map(|(currency, amount)| Revenue {
            currency,
            amount: round2(amount),
        })
        .collect()
}

fn change(now: (f64, u32), then: (f64, u32)) -> Change {
    Change {
        energy_kwh_change_pct: (then.0 > 0.0).then(|| round2((now.0 - then.0) / then.0 * 100.0)),
        sessions_change: i64::from(now.1) - i64::from(then.1),
    }
}

/// The headline and summary: every number in them is one of `k`'s.
pub fn texts(k: &Kpis) -> (String, String) {
    let headline = format!(
        "{} kWh charged in {} sessions, {} faults",
        k.energy_kwh, k.sessions, k.faults
    );
    let mut summary = format!(
        "Chargers delivered {} kWh in {} sessions and discharged {} kWh.",
        k.energy_kwh, k.sessions, k.discharge_kwh
    );
    if let Some(up) = k.uptime_pct {
        summary.push_str(&format!(" Uptime was {up} %."));
    }
    summary.push_str(&format!(
        " There were {} fault events; {} commands were sent, {} completed and {} failed.",
        k.faults, k.commands.sent, k.commands.completed, k.commands.failed
    ));
    for r in &k.revenue {
        summary.push_str(&format!(" Revenue: {} {}.", r.amount, r.currency));
    }
    (headline, summary)
}

/// One action per finding that calls for one.
fn actions(anomalies: &[Anomaly], least: &[(LeastHealthy, Vec<String>)]) -> Vec<String> {
    let mut out: Vec<String> = anomalies
        .iter()
        .filter(|a| a.severity >= Severity::Warning)
        .map(|a| {
            let what = a.sn.clone().unwrap_or_else(|| "the site".into());
            format!("Inspect {what} ({}): {}.", a.kind.as_str(), a.explanation)
        })
        .collect();
    for (d, reasons) in least.iter().filter(|(d, _)| d.score < 75) {
        let why = reasons.first().map_or("", String::as_str);
        out.push(format!(
            "Plan a visit to {} (health score {}): {why}",
            d.sn, d.score
        ));
    }
    out
}

impl Intelligence {
    pub async fn daily_briefing(
        &self,
        caller: &Caller,
        q: BriefingQuery,
    ) -> Result<Briefing, Error> {
        let subject = self.subject(caller, q.scope).await?;
        let now = self.clock.now();
        let today = now.date_naive();
        let date = q.date.unwrap_or(today - Duration::days(1));
        if date > today {
            return Err(Error::invalid("date", "must not be in the future"));
        }
        self.ensure_ran(
            &subject.operator,
            &[AgentId::HealthScorer, AgentId::AnomalyDetector],
        )
        .await?;
        self.briefing(&subject, date).await
    }

    /// The briefing of `date` for the subject.
    pub(crate) async fn briefing(
        &self,
        subject: &Subject,
        date: NaiveDate,
    ) -> Result<Briefing, Error> {
        let op = &subject.operator;
        let day = day_window(date);
        let fleet = self.access.operator_devices(op).await?;
        let devices: Vec<&Device> = fleet
            .iter()
            .filter(|d| subject.covers(d.device_id, d.site_id))
            .collect();
        let site_of: HashMap<DeviceId, Option<SiteId>> =
            fleet.iter().map(|d| (d.device_id, d.site_id)).collect();
        let covers = |device: DeviceId| {
            site_of
                .get(&device)
                .is_some_and(|site| subject.covers(device, *site))
        };
        // Sessions may run two days; the comparisons reach a week back.
        let records = self
            .store
            .operator_records(op, day.from - Duration::days(9), day.to)
            .await?;
        let records: Vec<&ChargingRecord> = records
            .iter()
            .filter(|r| subject.covers(r.device_id, r.site_id))
            .collect();
        let (energy, sessions, revenue) = record_kpis(&records, day);
        let shifted = |days: i64| {
            let w = Window {
                from: day.from - Duration::days(days),
                to: day.to - Duration::days(days),
            };
            let (e, s, _) = record_kpis(&records, w);
            (e, s)
        };
        let compared_to = ComparedTo {
            previous_day: change((energy, sessions), shifted(1)),
            same_day_last_week: change((energy, sessions), shifted(7)),
        };
        let discharge = self.discharged(subject, &fleet, day).await?;
        let outages = self.observations.outages_by_device(op, &fleet, day).await?;
        let faults = self
            .store
            .faults(op, day.from, day.to)
            .await?
            .iter()
            .filter(|f| subject.covers(f.device_id, f.site_id))
            .count() as u32;
        let commands: Vec<CommandStatus> = self
            .store
            .operator_commands(op, day.from, day.to)
            .await?
            .iter()
            .filter(|c| c.created_at < day.to && covers(c.device_id))
            .map(|c| outcome(c, self.clock.now()))
            .collect();
        let kpis = Kpis {
            energy_kwh: energy,
            discharge_kwh: discharge,
            sessions,
            revenue,
            uptime_pct: super::health::uptime_pct(&devices, &outages, day),
            faults,
            commands: CommandKpis {
                sent: commands.len() as u32,
                completed: commands
                    .iter()
                    .filter(|s| **s == CommandStatus::Completed)
                    .count() as u32,
                failed: commands.iter().filter(|s| unsuccessful(**s)).count() as u32,
            },
        };
        let mut top: Vec<Anomaly> = self
            .store
            .anomalies(op, day.from, day.to)
            .await?
            .into_iter()
            .filter(|a| {
                subject.device_id().is_none_or(|d| a.device_id == Some(d))
                    && subject.site_id().is_none_or(|s| a.site_id == Some(s))
            })
            .collect();
        top.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| b.detected_at.cmp(&a.detected_at))
        });
        top.truncate(5);
        let mut scores = self.store.health_scores(op).await?;
        scores.retain(|s| subject.covers(s.device_id, s.site_id));
        scores.sort_by_key(|s| s.score);
        scores.truncate(5);
        let least: Vec<(LeastHealthy, Vec<String>)> = scores
            .into_iter()
            .map(|s| {
                (
                    LeastHealthy {
                        device_id: s.device_id,
                        sn: s.sn,
                        score: s.score,
                    },
                    s.reasons,
                )
            })
            .collect();
        let forecast_next_day = self.next_day(subject, &fleet, day.to).await?;
        let (headline, summary) = texts(&kpis);
        Ok(Briefing {
            date,
            operator_id: op.clone(),
            site_id: subject.site_id(),
            headline,
            summary,
            actions: actions(&top, &least),
            kpis,
            compared_to,
            top_anomalies: top,
            least_healthy: least.into_iter().map(|(d, _)| d).collect(),
            forecast_next_day,
        })
    }

    /// The roll-up scopes that add up to the subject's energy: the device,
    /// the site, or every site of the operator and each device in none.
    pub(crate) async fn energy_scopes(
        &self,
        subject: &Subject,
        fleet: &[Device],
    ) -> Result<Vec<EnergyScope>, Error> {
        if let Some(d) = subject.device_id() {
            return Ok(vec![EnergyScope::Device(d)]);
        }
        if let Some(s) = subject.site_id() {
            return Ok(vec![EnergyScope::Site(s)]);
        }
        let mut scopes: Vec<EnergyScope> = self
            .store
            .operator_sites(&subject.operator)
            .await?
            .iter()
            .map(|s| EnergyScope::Site(s.site_id))
            .collect();
        scopes.extend(
            fleet
                .iter()
                .filter(|d| d.site_id.is_none())
                .map(|d| EnergyScope::Device(d.device_id)),
        );
        Ok(scopes)
    }

    async fn discharged(
        &self,
        subject: &Subject,
        fleet: &[Device],
        day: Window,
    ) -> Result<f64, Error> {
        let mut total = 0.0;
        for scope in self.energy_scopes(subject, fleet).await? {
            total += self
                .store
                .energy_hours(
                    &subject.operator,
                    scope,
                    day.from,
                    day.to - Duration::hours(1),
                )
                .await?
                .iter()
                .map(|h| h.discharge_energy)
                .sum::<f64>();
        }
        Ok(round2(total))
    }

    /// Charged kWh per hour of the subject up to `until`, summed over its
    /// scopes.
    pub(crate) async fn subject_history(
        &self,
        subject: &Subject,
        fleet: &[Device],
        until: DateTime<Utc>,
        days: u32,
    ) -> Result<History, Error> {
        let from = until - Duration::days(i64::from(days));
        let mut values = Vec::new();
        for scope in self.energy_scopes(subject, fleet).await? {
            let hours = self
                .store
                .energy_hours(&subject.operator, scope, from, until - Duration::hours(1))
                .await?;
            values.extend(hours.iter().map(|h| (h.hour, h.charge_energy)));
        }
        Ok(super::forecast::history(from, until, &values))
    }

    /// The 24 hours from `start`, forecast from the history before it.
    async fn next_day(
        &self,
        subject: &Subject,
        fleet: &[Device],
        start: DateTime<Utc>,
    ) -> Result<Option<NextDay>, Error> {
        let history = self
            .subject_history(subject, fleet, start, DEFAULT_HISTORY_DAYS)
            .await?;
        if history.values.len() < super::forecast::MIN_HISTORY {
            return Ok(None);
        }
        let points = predict(&history.values, history.start, 24, 0.0, f64::INFINITY);
        let sum =
            |f: fn(&super::forecast::ForecastPoint) -> f64| round2(points.iter().map(f).sum());
        Ok(Some(NextDay {
            energy_kwh: sum(|p| p.value),
            lower: sum(|p| p.lower),
            upper: sum(|p| p.upper),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_of_the_texts_is_a_kpi() {
        let k = Kpis {
            energy_kwh: 123.45,
            discharge_kwh: 6.5,
            sessions: 17,
            revenue: vec![Revenue {
                currency: "GBP".into(),
                amount: 41.2,
            }],
            uptime_pct: Some(99.31),
            faults: 2,
            commands: CommandKpis {
                sent: 9,
                completed: 7,
                failed: 1,
            },
        };
        let allowed = [123.45, 6.5, 17.0, 41.2, 99.31, 2.0, 9.0, 7.0, 1.0];
        let (headline, summary) = texts(&k);
        let text = format!("{headline} {summary}");
        let numbers: Vec<f64> = text
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map(|t| t.trim_end_matches('.'))
            .filter(|t| !t.is_empty())
            .map(|t| t.parse().unwrap())
            .collect();
        assert!(numbers.len() >= 9, "{text}");
        for n in numbers {
            assert!(allowed.contains(&n), "{n} in {text:?} is not a KPI");
        }
    }
}
