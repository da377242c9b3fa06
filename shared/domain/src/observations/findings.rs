//! Findings made at ingest (contract §8): `power_over_rating`,
//! `counter_reset` and `fault_burst` run on the message itself, each a
//! pure function of the data in hand. A finding's id comes from what it is
//! about (subject, connector, kind, window start), so finding it again
//! keeps its id. The agents' rules build on the same types
//! (`intelligence::anomalies`).

use super::{Observations, Window, round2};
use chrono::{DateTime, Duration, Utc};
use kernel::ids::{ConnectorId, DeviceId, OperatorId, SiteId};
use kernel::model::{Connector, ConnectorState, Device, Sample};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

kernel::wire_enum! {
    /// What kind of finding.
    pub enum AnomalyKind {
        PowerOverRating,
        CounterReset,
        FaultBurst,
        StuckSession,
        HeartbeatGap,
        CommandFailures,
        ConsumptionOutlier,
}
}

kernel::wire_enum! {
    /// How urgent a finding is, least first.
    #[derive(PartialOrd, Ord)]
    pub enum Severity {
        Info,
        Warning,
        Critical,
}
}

/// A finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Anomaly {
    pub anomaly_id: Uuid,
    pub kind: AnomalyKind,
    pub severity: Severity,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub device_id: Option<DeviceId>,
    /// The device's serial number, where the finding is a device's.
    pub sn: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>))]
    pub connector_id: Option<ConnectorId>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub site_id: Option<SiteId>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub operator_id: OperatorId,
    pub detected_at: DateTime<Utc>,
    pub window: Window,
    /// What was seen, in `unit`.
    pub observed: f64,
    /// The limit or baseline it was held to, in `unit`.
    pub expected: f64,
    pub unit: String,
    pub explanation: String,
}

impl Anomaly {
    /// Whether `other` says nothing new: same severity, window and figures.
    pub fn same_figures(&self, other: &Anomaly) -> bool {
        self.severity == other.severity
            && self.window == other.window
            && self.observed == other.observed
            && self.expected == other.expected
    }
}

/// A sample's power may exceed the model's rating by this factor.
pub const POWER_TOLERANCE: f64 = 1.05;
/// This many faults within `FAULT_WINDOW` make a burst.
pub const FAULT_BURST: usize = 3;
pub const FAULT_WINDOW: Duration = Duration::minutes(60);
/// The id of a finding about `subject` (a device, or a site for site-wide
/// findings).
pub fn finding_id(
    subject: &str,
    connector: Option<ConnectorId>,
    kind: AnomalyKind,
    window_start: DateTime<Utc>,
) -> Uuid {
    let connector = connector.map(|c| c.get()).unwrap_or(0);
    let key = format!(
        "{subject}|{connector}|{}|{}",
        kind.as_str(),
        window_start.timestamp_millis()
    );
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// What a device-level finding needs besides its figures.
pub(crate) struct Finding<'a> {
    pub(crate) device: &'a Device,
    pub(crate) connector: Option<ConnectorId>,
    pub(crate) kind: AnomalyKind,
    pub(crate) severity: Severity,
    pub(crate) window: Window,
    pub(crate) observed: f64,
    pub(crate) expected: f64,
    pub(crate) unit: &'static str,
    pub(crate) explanation: String,
}

impl Finding<'_> {
    pub(crate) fn at(self, now: DateTime<Utc>) -> Anomaly {
        Anomaly {
            anomaly_id: finding_id(
                &self.device.device_id.to_string(),
                self.connector,
                self.kind,
                self.window.from,
            ),
            kind: self.kind,
            severity: self.severity,
            device_id: Some(self.device.device_id),
            sn: Some(self.device.sn.to_string()),
            connector_id: self.connector,
            site_id: self.device.site_id,
            operator_id: self.device.operator_id.clone(),
            detected_at: now,
            window: self.window,
            observed: round2(self.observed),
            expected: round2(self.expected),
            unit: self.unit.into(),
            explanation: self.explanation,
        }
    }
}

/// A sample whose power is above 1.05 × the model's rating. One finding
/// per connector and hour: only the first sample over the limit in the
/// hour (the connector's peak so far, `hour_peak`, was within it) writes.
pub fn power_over_rating(
    device: &Device,
    sample: &Sample,
    hour_peak: f64,
    now: DateTime<Utc>,
) -> Option<Anomaly> {
    let rated = kernel::catalogue::spec(&device.model)?.max_power_kw;
    let limit = rated * POWER_TOLERANCE;
    if sample.power.abs() <= limit || hour_peak > limit {
        return None;
    }
    let hour = kernel::clock::hour_of(sample.ts);
    Some(
        Finding {
            device,
            connector: Some(sample.connector_id),
            kind: AnomalyKind::PowerOverRating,
            severity: Severity::Critical,
            window: Window {
                from: hour,
                to: sample.ts,
            },
            observed: sample.power.abs(),
            expected: limit,
            unit: "kW",
            explanation: format!(
                "{} connector {} reported {:.1} kW; a {} is rated {:.1} kW (limit with 5 % tolerance {:.1} kW)",
                device.sn,
                sample.connector_id,
                sample.power.abs(),
                device.model,
                rated,
                limit
            ),
        }
        .at(now),
    )
}

/// A session counter that fell with no plug-in or start since the last
/// sample (those reset the stored counter to 0, so a fall cannot follow
/// them).
pub fn counter_reset(
    device: &Device,
    previous: &Connector,
    sample: &Sample,
    now: DateTime<Utc>,
) -> Option<Anomaly> {
    let last = previous.sample_ts?;
    let in_session = matches!(
        previous.state,
        ConnectorState::Charging | ConnectorState::Suspended | ConnectorState::Discharging
    );
    // A thousandth of a kWh is rounding in the charger's report.
    if !in_session || sample.energy_delivered + 0.001 >= previous.energy_delivered {
        return None;
    }
    Some(
        Finding {
            device,
            connector: Some(sample.connector_id),
            kind: AnomalyKind::CounterReset,
            severity: Severity::Warning,
            window: Window {
                from: last,
                to: sample.ts,
            },
            observed: sample.energy_delivered,
            expected: previous.energy_delivered,
            unit: "kWh",
            explanation: format!(
                "{} connector {}: the session's energy counter fell from {:.3} to {:.3} kWh with no plug-in or start between",
                device.sn, sample.connector_id, previous.energy_delivered, sample.energy_delivered
            ),
        }
        .at(now),
    )
}

/// The device's fault times within the burst window of `at`, `at` included.
pub fn recent_faults(device: &Device, at: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut recent: Vec<DateTime<Utc>> = device
        .recent_faults
        .iter()
        .copied()
        .filter(|t| *t > at - FAULT_WINDOW && *t <= at)
        .chain(std::iter::once(at))
        .collect();
    recent.sort();
    recent.dedup();
    recent
}

/// Three or more faults of one device within 60 minutes.
pub fn fault_burst(
    device: &Device,
    recent: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> Option<Anomaly> {
    if recent.len() < FAULT_BURST {
        return None;
    }
    let (first, last) = (*recent.first()?, *recent.last()?);
    Some(
        Finding {
            device,
            connector: None,
            kind: AnomalyKind::FaultBurst,
            severity: Severity::Critical,
            window: Window {
                from: first,
                to: last,
            },
            observed: recent.len() as f64,
            expected: (FAULT_BURST - 1) as f64,
            unit: "faults",
            explanation: format!(
                "{} reported {} faults within {} minutes",
                device.sn,
                recent.len(),
                (last - first).num_minutes().max(1)
            ),
        }
        .at(now),
    )
}

impl Observations {
    /// Keeps a finding made at ingest; a failure to keep it is logged, not
    /// the charger's problem (its message was stored).
    pub(crate) async fn keep_finding(&self, anomaly: Option<Anomaly>) {
        let Some(anomaly) = anomaly else { return };
        if let Err(e) = self.store.put_anomaly(&anomaly).await {
            tracing::warn!(error = %kernel::error::chain(&e), kind = anomaly.kind.as_str(), "finding not kept");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_finding_keeps_its_id_and_another_gets_another() {
        let t: DateTime<Utc> = "2026-05-10T14:00:00Z".parse().unwrap();
        let c = ConnectorId::new(1);
        let a = finding_id("d", c, AnomalyKind::CounterReset, t);
        assert_eq!(a, finding_id("d", c, AnomalyKind::CounterReset, t));
        assert_ne!(
            a,
            finding_id("d", c, AnomalyKind::CounterReset, t + Duration::seconds(1))
        );
        assert_ne!(a, finding_id("d", c, AnomalyKind::PowerOverRating, t));
        assert_ne!(a, finding_id("e", c, AnomalyKind::CounterReset, t));
    }
}
