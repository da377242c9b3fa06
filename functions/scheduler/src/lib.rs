//! `scheduler`: the scheduled work of the service, run every 5 minutes by
//! EventBridge in the cloud and by a background task of the local server.
//! That is the firmware campaign sweep (time-outs, and the next wave of a
//! campaign whose last device timed out) and the intelligence agents whose
//! slot has no run yet, for every operator (each agent's own schedule,
//! checked at every run).

use domain::Domain;
use std::time::Duration;

/// How often the sweep runs (the template's schedule says the same).
pub const SWEEP_EVERY: Duration = Duration::from_secs(300);

/// One run of every scheduled job; logs what it did.
pub async fn run_once(domain: &Domain) -> Result<serde_json::Value, kernel::Error> {
    let sweep = domain.campaigns.sweep_campaigns().await?;
    tracing::info!(
        campaigns = sweep.campaigns,
        timed_out = sweep.timed_out,
        "campaign sweep"
    );
    let agents = domain.intelligence.run_due_agents().await?;
    tracing::info!(
        runs = agents.runs,
        failed = agents.failed,
        findings = agents.findings,
        "agent runs"
    );
    Ok(serde_json::json!({
        "campaigns": sweep.campaigns,
        "timed_out": sweep.timed_out,
        "agent_runs": agents.runs,
        "agent_failures": agents.failed,
        "findings": agents.findings,
    }))
}

/// Runs the jobs every `every` until the task is dropped; a failed run is
/// logged and the next one tries again.
pub async fn run_every(domain: Domain, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = run_once(&domain).await {
            tracing::error!(error = %kernel::error::chain(&e), "scheduled run failed");
        }
    }
}
