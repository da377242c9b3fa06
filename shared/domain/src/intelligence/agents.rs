//! The agents: scheduled analytic jobs run per operator by one scheduled
//! function (and the local server's background task), or now by an
//! operator. Each run is kept as the agent's last run for the operator.

use super::Intelligence;
use super::Subject;
use super::Window;
use super::anomalies::{
    Anomaly, command_failures, consumption_outlier, heartbeat_gaps, stuck_sessions,
};
use super::forecast::{DEFAULT_HISTORY_DAYS, ForecastStatus, ForecastSubject, answer};
use chrono::{DateTime, Duration, Utc};
use kernel::access::Caller;
use kernel::command::Command;
use kernel::error::Error;
use kernel::ids::{DeviceId, OperatorId};
use kernel::model::Role;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

pub use super::catalogue::{AgentId, Schedule};

/// How far back the anomaly detector looks for findings it kept before.
const KNOWN_DAYS: i64 = 2;

kernel::wire_enum! {
    pub enum RunStatus {
        Ok,
        Failed,
}
}

/// One run of an agent for an operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentRun {
    pub run_id: Uuid,
    pub agent_id: AgentId,
    pub at: DateTime<Utc>,
    pub status: RunStatus,
    pub duration_ms: u64,
    pub findings: u32,
}

/// A run as the run route answers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunAnswer {
    pub run_id: Uuid,
    pub agent_id: AgentId,
    pub status: RunStatus,
    pub findings: u32,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastRun {
    pub run_id: Uuid,
    pub at: DateTime<Utc>,
    pub status: RunStatus,
    pub duration_ms: u64,
    pub findings: u32,
}

/// An agent as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentView {
    pub agent_id: AgentId,
    pub name: String,
    pub description: String,
    pub schedule: String,
    pub last_run: Option<LastRun>,
    pub next_run_at: DateTime<Utc>,
}

/// What one scheduled pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DueRuns {
    pub runs: u32,
    pub failed: u32,
    pub findings: u32,
}

impl Intelligence {
    /// The agents with their schedules and last runs for the subject's
    /// operator.
    pub async fn agents(
        &self,
        caller: &Caller,
        scope: super::Scope,
    ) -> Result<Vec<AgentView>, Error> {
        let subject = self.subject(caller, scope).await?;
        let now = self.clock.now();
        let runs: HashMap<AgentId, AgentRun> = self
            .store
            .agent_runs(&subject.operator)
            .await?
            .into_iter()
            .map(|r| (r.agent_id, r))
            .collect();
        Ok(AgentId::all()
            .map(|id| {
                let last = runs.get(&id);
                AgentView {
                    agent_id: id,
                    name: id.name().into(),
                    description: id.description().into(),
                    schedule: id.schedule().expression(),
                    last_run: last.map(|r| LastRun {
                        run_id: r.run_id,
                        at: r.at,
                        status: r.status,
                        duration_ms: r.duration_ms,
                        findings: r.findings,
                    }),
                    next_run_at: id.schedule().next_run(last.map(|r| r.at), now),
                }
            })
            .collect())
    }

    /// Runs an agent now for the subject's operator (operators and admins).
    pub async fn run_agent(
        &self,
        caller: &Caller,
        scope: super::Scope,
        id: AgentId,
    ) -> Result<RunAnswer, Error> {
        caller.require(Role::Operator)?;
        let subject = self.subject(caller, scope).await?;
        let run = self.execute(&subject.operator, id).await?;
        Ok(RunAnswer {
            run_id: run.run_id,
            agent_id: run.agent_id,
            status: run.status,
            findings: run.findings,
            duration_ms: run.duration_ms,
        })
    }

    /// Runs each agent first if it never ran for the operator (one read of
    /// the runs), so a read is never empty only because nothing was
    /// scheduled yet.
    pub(crate) async fn ensure_ran(
        &self,
        operator: &OperatorId,
        ids: &[AgentId],
    ) -> Result<(), Error> {
        let runs = self.store.agent_runs(operator).await?;
        for id in ids {
            if !runs.iter().any(|r| r.agent_id == *id) {
                self.execute(operator, *id).await?;
            }
        }
        Ok(())
    }

    /// Every agent whose slot has no run, for every operator: the work of
    /// one scheduled pass. One operator's failure does not stop the others.
    pub async fn run_due_agents(&self) -> Result<DueRuns, Error> {
        let now = self.clock.now();
        let mut operators: Vec<OperatorId> = self
            .store
            .all_operators()
            .await?
            .into_iter()
            .map(|o| o.id)
            .collect();
        if !operators.contains(&self.settings.default_operator) {
            operators.push(self.settings.default_operator.clone());
        }
        let mut done = DueRuns::default();
        for op in operators {
            let runs = self.store.agent_runs(&op).await?;
            for id in AgentId::all() {
                let last = runs.iter().find(|r| r.agent_id == id).map(|r| r.at);
                if !id.schedule().due(last, now) {
                    continue;
                }
                match self.execute(&op, id).await {
                    Ok(run) => {
                        done.runs += 1;
                        done.findings += run.findings;
                        if run.status == RunStatus::Failed {
                            done.failed += 1;
                        }
                    }
                    Err(e) => {
                        done.failed += 1;
                        tracing::error!(operator = %op, agent = id.as_str(), error = %kernel::error::chain(&e), "agent run failed");
                    }
                }
            }
        }
        Ok(done)
    }

    /// One run, timed and kept. A failed run is kept as failed and answered
    /// as such; only a failure to keep it is an error.
    async fn execute(&self, operator: &OperatorId, id: AgentId) -> Result<AgentRun, Error> {
        let started = std::time::Instant::now();
        let run_id = Uuid::now_v7();
        let at = self.clock.now();
        let outcome = match id {
            AgentId::HealthScorer => self.score_fleet(operator, run_id).await,
            AgentId::AnomalyDetector => self.detect_anomalies(operator).await,
            AgentId::EnergyForecaster => self.forecast_sites(operator, false).await,
            AgentId::UtilizationForecaster => self.forecast_sites(operator, true).await,
            AgentId::DailyBriefer => self.brief_yesterday(operator).await,
        };
        let (status, findings) = match outcome {
            Ok(n) => (RunStatus::Ok, n),
            Err(e) => {
                tracing::error!(operator = %operator, agent = id.as_str(), error = %kernel::error::chain(&e), "agent run failed");
                (RunStatus::Failed, 0)
            }
        };
        let run = AgentRun {
            run_id,
            agent_id: id,
            at,
            status,
            duration_ms: started.elapsed().as_millis() as u64,
            findings,
        };
        self.store.put_agent_run(operator, &run).await?;
        Ok(run)
    }

    async fn score_fleet(&self, operator: &OperatorId, run_id: Uuid) -> Result<u32, Error> {
        let scores = self
            .compute_health(
                &Subject::fleet(operator),
                super::health::DEFAULT_WINDOW_HOURS,
                Some(run_id),
            )
            .await?;
        self.store.put_health_scores(operator, &scores).await?;
        Ok(scores.iter().filter(|s| s.score < 75).count() as u32)
    }

    /// The agent's rules over the operator's fleet; every finding is kept
    /// under its id, so running twice adds nothing.
    async fn detect_anomalies(&self, operator: &OperatorId) -> Result<u32, Error> {
        let now = self.clock.now();
        let day = Window {
            from: now - Duration::hours(24),
            to: now,
        };
        let fleet = self.access.operator_devices(operator).await?;
        let outages = self
            .observations
            .outages_by_device(operator, &fleet, day)
            .await?;
        let commands = self
            .store
            .operator_commands(operator, day.from, now)
            .await?;
        let mut by_device: HashMap<DeviceId, Vec<&Command>> = HashMap::new();
        for c in &commands {
            by_device.entry(c.device_id).or_default().push(c);
        }
        let mut found: Vec<Anomaly> = Vec::new();
        for d in &fleet {
            found.extend(stuck_sessions(d, now));
            if let Some(o) = outages.get(&d.device_id) {
                found.extend(heartbeat_gaps(d, o, now));
            }
            if let Some(c) = by_device.get(&d.device_id) {
                found.extend(command_failures(d, c, now));
            }
        }
        for site in self.store.operator_sites(operator).await? {
            let hours = self
                .store
                .energy_hours(
                    operator,
                    crate::telemetry::EnergyScope::Site(site.site_id),
                    now - Duration::days(super::anomalies::OUTLIER_MAX_DAYS + 1),
                    now,
                )
                .await?;
            found.extend(consumption_outlier(&site, &hours, now));
        }
        // A finding kept before with the same figures is not written again:
        // most runs find what the last one found.
        let known: HashMap<Uuid, Anomaly> = self
            .store
            .anomalies(operator, now - Duration::days(KNOWN_DAYS), now)
            .await?
            .into_iter()
            .map(|a| (a.anomaly_id, a))
            .collect();
        for a in &found {
            if !known.get(&a.anomaly_id).is_some_and(|k| k.same_figures(a)) {
                self.store.put_anomaly(a).await?;
            }
        }
        Ok(found.len() as u32)
    }

    async fn forecast_sites(&self, operator: &OperatorId, utilization: bool) -> Result<u32, Error> {
        let until = crate::telemetry::energy::hour_of(self.clock.now());
        let mut made = 0;
        for site in self.store.operator_sites(operator).await? {
            let history = if utilization {
                self.utilization_history(&site, DEFAULT_HISTORY_DAYS)
                    .await?
            } else {
                let subject = Subject {
                    site: Some(site.clone()),
                    ..Subject::fleet(operator)
                };
                self.subject_history(&subject, &[], until, DEFAULT_HISTORY_DAYS)
                    .await?
            };
            let subject = ForecastSubject {
                site_id: Some(site.site_id),
                device_id: None,
            };
            let ceiling = if utilization { 1.0 } else { f64::INFINITY };
            if answer(subject, "", history, 24, ceiling).status == ForecastStatus::Ok {
                made += 1;
            }
        }
        Ok(made)
    }

    async fn brief_yesterday(&self, operator: &OperatorId) -> Result<u32, Error> {
        let yesterday = self.clock.now().date_naive() - Duration::days(1);
        let briefing = self.briefing(&Subject::fleet(operator), yesterday).await?;
        Ok(briefing.actions.len() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_quarter_hour_agent_is_due_once_per_quarter() {
        let s = AgentId::HealthScorer.schedule();
        let ran = at("2026-05-10T14:16:00Z");
        assert!(!s.due(Some(ran), at("2026-05-10T14:29:59Z")));
        assert!(s.due(Some(ran), at("2026-05-10T14:30:00Z")));
        assert!(s.due(None, ran));
        assert_eq!(
            s.next_run(Some(ran), at("2026-05-10T14:20:00Z")),
            at("2026-05-10T14:30:00Z")
        );
    }

    #[test]
    fn the_briefer_runs_once_a_day_after_six() {
        let s = AgentId::DailyBriefer.schedule();
        assert!(!s.due(Some(at("2026-05-10T06:01:00Z")), at("2026-05-11T05:59:00Z")));
        assert!(s.due(Some(at("2026-05-10T06:01:00Z")), at("2026-05-11T06:00:00Z")));
        assert_eq!(s.expression(), "cron(0 6 * * ? *)");
        assert_eq!(
            AgentId::EnergyForecaster.schedule().expression(),
            "rate(1 hour)"
        );
        assert_eq!(
            AgentId::AnomalyDetector.schedule().expression(),
            "rate(15 minutes)"
        );
    }
}
