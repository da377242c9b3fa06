//! Health scores (contract §8): uptime (weight 40), faults (25), command
//! success (20) and firmware currency (15), each scored 0..100; a component
//! without data is left out and the others' weights scale up. Stored by the
//! health-scorer agent; the default window is served from its latest run.

use super::Intelligence;
use super::anomalies::{outcome, unsuccessful};
use super::catalogue::AgentId;
use super::{FaultMark, Subject, Window, round2};
use chrono::{DateTime, Duration, Utc};
use kernel::access::Caller;
use kernel::command::Command;
use kernel::error::Error;
use kernel::ids::{DeviceId, SiteId};
use kernel::model::{CommandStatus, Device};
use kernel::version::FirmwareVersion;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

pub const DEFAULT_WINDOW_HOURS: u32 = 168;
pub const MAX_WINDOW_HOURS: u32 = 2160;
const UPTIME_WEIGHT: u32 = 40;
const FAULTS_WEIGHT: u32 = 25;
const COMMANDS_WEIGHT: u32 = 20;
const FIRMWARE_WEIGHT: u32 = 15;
/// Each fault in the window costs this much of the faults score.
const FAULT_COST: u32 = 20;

/// One part of a score. `score` and `value` are `null` when there was no
/// data; such a part's weight then goes to the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Component {
    pub score: Option<u32>,
    pub weight: u32,
    /// uptime: fraction of the window up; faults: fault events; commands:
    /// completed ÷ finished; firmware: 1 on the model's latest version, else 0.
    pub value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Components {
    pub uptime: Component,
    pub faults: Component,
    pub commands: Component,
    pub firmware: Component,
}

impl Components {
    fn all(&self) -> [&Component; 4] {
        [&self.uptime, &self.faults, &self.commands, &self.firmware]
    }

    /// The weighted mean of the parts with data.
    pub fn score(&self) -> u32 {
        let (sum, weights) = self
            .all()
            .iter()
            .filter_map(|c| c.score.map(|s| (s * c.weight, c.weight)))
            .fold((0, 0), |(s, w), (cs, cw)| (s + cs, w + cw));
        if weights == 0 {
            return 100;
        }
        (f64::from(sum) / f64::from(weights)).round() as u32
    }
}

/// A device's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthScore {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub device_id: DeviceId,
    pub sn: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub site_id: Option<SiteId>,
    pub model: String,
    pub score: u32,
    /// A ≥ 90, B ≥ 75, C ≥ 50, else D.
    pub grade: String,
    pub window: Window,
    pub components: Components,
    /// What lowered the score, one sentence each.
    pub reasons: Vec<String>,
    pub computed_at: DateTime<Utc>,
    /// The agent run that computed it; `null` when computed for the request.
    pub run_id: Option<Uuid>,
}

pub fn grade(score: u32) -> &'static str {
    match score {
        90.. => "A",
        75.. => "B",
        50.. => "C",
        _ => "D",
    }
}

/// What a device's score is made from.
pub struct Evidence<'a> {
    pub device: &'a Device,
    pub window: Window,
    /// Merged outages of the device.
    pub outages: &'a [Window],
    pub faults: usize,
    pub commands: &'a [&'a Command],
    /// The newest firmware for the device's model, where known.
    pub latest_firmware: Option<&'a FirmwareVersion>,
    pub now: DateTime<Utc>,
}

fn component(weight: u32, value: Option<f64>, score: impl Fn(f64) -> f64) -> Component {
    Component {
        score: value.map(|v| score(v).clamp(0.0, 100.0).round() as u32),
        weight,
        value: value.map(round_value),
    }
}

fn round_value(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// The score of one device, with its reasons.
pub fn score(e: &Evidence<'_>) -> (Components, Vec<String>) {
    let mut reasons = Vec::new();
    // Up time counts from registration, never before it.
    let counted = Window {
        from: e.window.from.max(e.device.created_at),
        to: e.window.to,
    };
    let down: f64 = e.outages.iter().map(|o| counted.overlap(o)).sum();
    let up = (counted.seconds() > 0.0).then(|| (1.0 - down / counted.seconds()).clamp(0.0, 1.0));
    if let Some(up) = up.filter(|u| *u < 1.0) {
        reasons.push(format!(
            "Offline {:.1} % of the window ({} outage{}).",
            (1.0 - up) * 100.0,
            e.outages
                .iter()
                .filter(|o| counted.overlap(o) > 0.0)
                .count(),
            if e.outages.len() == 1 { "" } else { "s" }
        ));
    }
    if e.faults > 0 {
        reasons.push(format!(
            "{} fault event{} in the window.",
            e.faults,
            if e.faults == 1 { "" } else { "s" }
        ));
    }
    let finished: Vec<CommandStatus> = e
        .commands
        .iter()
        .map(|c| outcome(c, e.now))
        .filter(|s| *s == CommandStatus::Completed || unsuccessful(*s))
        .collect();
    let completed = finished
        .iter()
        .filter(|s| **s == CommandStatus::Completed)
        .count();
    let success = (!finished.is_empty()).then(|| completed as f64 / finished.len() as f64);
    if success.is_some_and(|s| s < 1.0) {
        reasons.push(format!(
            "{} of {} commands did not complete (failed, rejected or expired).",
            finished.len() - completed,
            finished.len()
        ));
    }
    let current = e
        .latest_firmware
        .map(|latest| e.device.firmware_version >= *latest);
    if let (Some(false), Some(latest)) = (current, e.latest_firmware) {
        reasons.push(format!(
            "Firmware {} is behind the model's latest {}.",
            e.device.firmware_version, latest
        ));
    }
    let components = Components {
        uptime: component(UPTIME_WEIGHT, up, |v| v * 100.0),
        faults: component(FAULTS_WEIGHT, Some(e.faults as f64), |v| {
            100.0 - v * f64::from(FAULT_COST)
        }),
        commands: component(COMMANDS_WEIGHT, success, |v| v * 100.0),
        firmware: component(
            FIRMWARE_WEIGHT,
            current.map(|c| f64::from(u8::from(c))),
            |v| v * 100.0,
        ),
    };
    (components, reasons)
}

/// The newest firmware of each model: the catalogue's, or the newest any
/// of the operator's devices runs when it is newer or the model unknown.
pub fn latest_firmware(devices: &[Device]) -> HashMap<String, FirmwareVersion> {
    let mut latest: HashMap<String, FirmwareVersion> = HashMap::new();
    for d in devices {
        let entry = latest
            .entry(d.model.clone())
            .or_insert_with(|| d.firmware_version.clone());
        if d.firmware_version > *entry {
            *entry = d.firmware_version.clone();
        }
    }
    for (model, version) in latest.iter_mut() {
        if let Some(spec) = kernel::catalogue::spec(model)
            && spec.latest_firmware >= *version
        {
            *version = spec.latest_firmware.clone();
        }
    }
    latest
}

/// `GET /v1/intelligence/health-scores`, parsed.
#[derive(Debug, Clone)]
pub struct HealthQuery {
    pub scope: super::Scope,
    pub window_hours: u32,
}

impl Intelligence {
    /// Every device's score over the last `hours`, worst first.
    pub(crate) async fn compute_health(
        &self,
        subject: &Subject,
        hours: u32,
        run_id: Option<Uuid>,
    ) -> Result<Vec<HealthScore>, Error> {
        let now = self.clock.now();
        let window = Window {
            from: now - Duration::hours(i64::from(hours)),
            to: now,
        };
        let op = &subject.operator;
        let fleet = self.access.operator_devices(op).await?;
        let latest = latest_firmware(&fleet);
        let devices: Vec<&Device> = fleet
            .iter()
            .filter(|d| subject.covers(d.device_id, d.site_id))
            .collect();
        let outages = self
            .observations
            .outages_by_device(op, &fleet, window)
            .await?;
        let faults = faults_by_device(&self.store.faults(op, window.from, window.to).await?);
        let commands = self.store.operator_commands(op, window.from, now).await?;
        let mut by_device: HashMap<DeviceId, Vec<&Command>> = HashMap::new();
        for c in &commands {
            by_device.entry(c.device_id).or_default().push(c);
        }
        let mut scores: Vec<HealthScore> = devices
            .into_iter()
            .map(|d| {
                let evidence = Evidence {
                    device: d,
                    window,
                    outages: outages.get(&d.device_id).map_or(&[], |v| v.as_slice()),
                    faults: faults.get(&d.device_id).copied().unwrap_or(0),
                    commands: by_device.get(&d.device_id).map_or(&[], |v| v.as_slice()),
                    latest_firmware: latest.get(&d.model),
                    now,
                };
                let (components, reasons) = score(&evidence);
                let total = components.score();
                HealthScore {
                    device_id: d.device_id,
                    sn: d.sn.to_string(),
                    site_id: d.site_id,
                    model: d.model.clone(),
                    score: total,
                    grade: grade(total).into(),
                    window,
                    components,
                    reasons,
                    computed_at: now,
                    run_id,
                }
            })
            .collect();
        worst_first(&mut scores);
        Ok(scores)
    }

    /// Scores of the subject: the health-scorer's latest run for the
    /// default window, computed now for any other.
    pub async fn health_scores(
        &self,
        caller: &Caller,
        q: HealthQuery,
    ) -> Result<Vec<HealthScore>, Error> {
        let subject = self.subject(caller, q.scope).await?;
        self.scores_of(&subject, q.window_hours).await
    }

    pub(crate) async fn scores_of(
        &self,
        subject: &Subject,
        window_hours: u32,
    ) -> Result<Vec<HealthScore>, Error> {
        if window_hours != DEFAULT_WINDOW_HOURS {
            return self.compute_health(subject, window_hours, None).await;
        }
        self.ensure_ran(&subject.operator, &[AgentId::HealthScorer])
            .await?;
        let mut scores: Vec<HealthScore> = self
            .store
            .health_scores(&subject.operator)
            .await?
            .into_iter()
            .filter(|s| subject.covers(s.device_id, s.site_id))
            .collect();
        worst_first(&mut scores);
        Ok(scores)
    }
}

fn worst_first(scores: &mut [HealthScore]) {
    scores.sort_by(|a, b| a.score.cmp(&b.score).then_with(|| a.sn.cmp(&b.sn)));
}

/// Uptime of a set of devices over `window`, as a percentage.
pub fn uptime_pct(
    devices: &[&Device],
    outages: &HashMap<DeviceId, Vec<Window>>,
    window: Window,
) -> Option<f64> {
    let mut total = 0.0;
    let mut down = 0.0;
    for d in devices {
        let counted = Window {
            from: window.from.max(d.created_at),
            to: window.to,
        };
        if counted.seconds() <= 0.0 {
            continue;
        }
        total += counted.seconds();
        down += outages
            .get(&d.device_id)
            .map_or(0.0, |o| o.iter().map(|w| counted.overlap(w)).sum());
    }
    (total > 0.0).then(|| round2((1.0 - down / total) * 100.0))
}

/// Fault marks counted per device.
pub fn faults_by_device(faults: &[FaultMark]) -> HashMap<DeviceId, usize> {
    let mut by = HashMap::new();
    for f in faults {
        *by.entry(f.device_id).or_default() += 1;
    }
    by
}
