//! What chargers report: heartbeats, connector telemetry, lifecycle events
//! and firmware progress. Inputs arrive parsed (see the `TryFrom`s of the
//! device API); the rules here are those that need the stored state or the
//! clock.

pub mod energy;
mod port;

pub use port::{
    ConnectorWrite, EnergyAdd, EnergyHour, EnergyScope, FaultWrite, FirmwareWrite, TelemetryStore,
};

use crate::commands::Commands;
use crate::devices::DeviceStore;
use crate::devices::Devices;
use crate::devices::credentials::TokenClaims;
use crate::devices::revoked;
use crate::feeds::Feeds;
use crate::loads::Loads;
use crate::observations::FaultMark;
use crate::observations::Observations;
use crate::observations::findings::{counter_reset, fault_burst, power_over_rating, recent_faults};
use crate::outbox::Owed;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use energy::{Attribution, Before, counter_delta, plan};
use kernel::clock::not_ahead;
use kernel::command::CommandView;
use kernel::connector::{SessionTrace, TracePoint};
use kernel::error::Error;
use kernel::ids::ConnectorId;
use kernel::model::CampaignLink;
use kernel::model::{Connector, ConnectorState, Device, FirmwareProgress, FirmwareStatus, Sample};
use kernel::storage::{Retention, WriteOutcome};
use kernel::version::FirmwareVersion;
use kernel::{Clock, Settings};
use std::sync::Arc;

/// Optimistic writes to one connector are retried this often on a race.
const CONNECTOR_WRITE_ATTEMPTS: usize = 4;

kernel::wire_enum! {
    /// What a charger says of itself in a heartbeat.
    pub enum HeartbeatStatus {
        Online,
        Fault,
        Unavailable,
        Maintenance,
}
}

#[derive(Debug, Clone)]
pub struct Heartbeat {
    pub timestamp: DateTime<Utc>,
    pub status: HeartbeatStatus,
}

#[derive(Debug, Clone)]
pub struct StatusSample {
    pub timestamp: DateTime<Utc>,
    pub connector_id: ConnectorId,
    pub state: ConnectorState,
    pub voltage: f64,
    pub current: f64,
    pub power: f64,
    pub energy_delivered: f64,
    pub soc: Option<f64>,
}

kernel::wire_enum! {
    /// A charger's lifecycle event (`event_type` on the wire).
    pub enum EventType {
        PlugIn,
        PlugOut,
        Start,
        Stop,
        Fault,
        FaultCleared,
        Boot,
}
}

impl EventType {
    /// The connector state the event moves to; `None` for a boot, which
    /// moves no connector.
    pub fn moves_to(self) -> Option<ConnectorState> {
        Some(match self {
            Self::PlugIn => ConnectorState::Preparing,
            Self::Start => ConnectorState::Charging,
            Self::Stop => ConnectorState::Finishing,
            Self::PlugOut | Self::FaultCleared => ConnectorState::Idle,
            Self::Fault => ConnectorState::Fault,
            Self::Boot => return None,
        })
    }
}

/// What a lifecycle event does: move a connector, or (a boot) only show
/// the charger alive.
#[derive(Debug, Clone)]
pub enum LifecycleEvent {
    Connector {
        timestamp: DateTime<Utc>,
        event: EventType,
        connector_id: ConnectorId,
        state: ConnectorState,
    },
    Boot {
        timestamp: DateTime<Utc>,
    },
}

#[derive(Debug, Clone)]
pub struct FirmwareReport {
    pub firmware_version: FirmwareVersion,
    pub status: FirmwareStatus,
    pub progress: Option<u8>,
    pub message: Option<String>,
}

/// How a connector's move is applied.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Move {
    /// A transaction is open on it: its energy counter carries on.
    pub session_open: bool,
    /// A move to the state it is in already writes nothing.
    pub only_if_changed: bool,
}

/// A connector the device's model has, where the catalogue knows the model.
pub(crate) fn known_connector(device: &Device, connector: ConnectorId) -> Result<(), Error> {
    match kernel::catalogue::spec(&device.model) {
        Some(m) if connector.get() > m.connectors => Err(Error::invalid(
            "connector_id",
            format!("must be 1..{} for a {}", m.connectors, m.model),
        )),
        _ => Ok(()),
    }
}

/// What happens elsewhere when a device reports on a firmware update a
/// campaign sent it: the campaign counts it. Campaigns implement it;
/// telemetry only holds it.
#[async_trait]
pub(crate) trait FirmwareReported: Send + Sync {
    async fn firmware_reported(
        &self,
        device: &Device,
        link: &CampaignLink,
        status: FirmwareStatus,
        version: &FirmwareVersion,
    ) -> Result<(), Error>;
}

ports!(
    /// The ports telemetry uses: its own, and the device's seen mark.
    TelemetryPorts: TelemetryStore, DeviceStore
);

/// What telemetry is built on.
pub(crate) struct TelemetryParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) feeds: Feeds,
    pub(crate) devices: Devices,
    pub(crate) observations: Observations,
    pub(crate) commands: Commands,
    /// What a connector's move owes partners.
    pub(crate) owed: Arc<dyn Owed>,
    pub(crate) firmware: Arc<dyn FirmwareReported>,
    pub(crate) loads: Loads,
}

/// What chargers report, kept.
#[derive(Clone)]
pub struct Telemetry {
    store: Arc<dyn TelemetryPorts>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    feeds: Feeds,
    devices: Devices,
    observations: Observations,
    commands: Commands,
    owed: Arc<dyn Owed>,
    firmware: Arc<dyn FirmwareReported>,
    loads: Loads,
}

impl Telemetry {
    pub(crate) fn new(store: Arc<dyn TelemetryPorts>, parts: TelemetryParts) -> Self {
        Self {
            store,
            settings: parts.settings,
            clock: parts.clock,
            feeds: parts.feeds,
            devices: parts.devices,
            observations: parts.observations,
            commands: parts.commands,
            owed: parts.owed,
            firmware: parts.firmware,
            loads: parts.loads,
        }
    }
}

impl Telemetry {
    /// A reported time the service can use: not ahead of its clock, and
    /// not older than telemetry is accepted (35 days, or as long as raw
    /// samples are kept when that is longer).
    fn telemetry_time(&self, t: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Error> {
        not_ahead("timestamp", t, now)?;
        let accepted = Retention::default()
            .samples
            .max(self.settings.retention.samples);
        if t < now - accepted {
            return Err(Error::invalid(
                "timestamp",
                format!(
                    "is older than the {} days telemetry is accepted",
                    accepted.num_days()
                ),
            ));
        }
        Ok(())
    }

    /// Marks the device seen and hands over its pending commands.
    pub async fn heartbeat(
        &self,
        claims: TokenClaims,
        hb: Heartbeat,
    ) -> Result<Vec<CommandView>, Error> {
        let now = self.clock.now();
        not_ahead("timestamp", hb.timestamp, now)?;
        let device = self
            .store
            .touch_device(
                claims.device_id,
                claims.issued_ms,
                now,
                Some(hb.status.into()),
            )
            .await?
            .ok_or_else(revoked)?;
        self.observations.note_outage(&device, now).await?;
        if device.open_commands <= 0 {
            return Ok(Vec::new());
        }
        let delivered = self.commands.deliver(device.device_id, usize::MAX).await?;
        Ok(delivered.iter().map(|c| c.view()).collect())
    }

    /// Applies a telemetry sample: the energy into the device's hour bucket
    /// (once, whatever the retries), then the live state (if newest), and
    /// the raw sample when `SAMPLE_TTL_DAYS` keeps them.
    pub async fn record_status(&self, claims: TokenClaims, s: StatusSample) -> Result<(), Error> {
        let now = self.clock.now();
        self.telemetry_time(s.timestamp, now)?;
        let (ts, state, connector_id) = (s.timestamp, s.state, s.connector_id);
        let sample = Sample {
            device_id: claims.device_id,
            connector_id,
            ts,
            state,
            voltage: s.voltage,
            current: s.current,
            power: s.power,
            energy_delivered: s.energy_delivered,
            soc: s.soc,
        };
        for _ in 0..CONNECTOR_WRITE_ATTEMPTS {
            let device = self.devices.device_for(claims).await?;
            known_connector(&device, connector_id)?;
            let previous = device.connectors.get(&connector_id);
            if previous.is_some_and(|c| c.sample_ts.is_some_and(|last| last >= ts)) {
                // Older than the last counted sample, or repeated: keep the
                // sample if samples are kept, count nothing, move nothing.
                if self.settings.keep_samples {
                    self.store.put_sample(&sample).await?;
                }
                return Ok(());
            }
            let delta = counter_delta(previous.map(|c| c.energy_delivered), s.energy_delivered);
            let (since, since_energy) = match previous {
                Some(c) if c.state == state => (c.since, c.since_energy),
                _ => (Some(ts), Some(s.energy_delivered)),
            };
            let who = Attribution {
                device_id: device.device_id,
                connector_id,
                site_id: device.site_id,
                operator_id: &device.operator_id,
            };
            let before = Before {
                peaks: previous.map(|c| &c.peaks),
                bucket_mark: previous.and_then(|c| c.bucket_mark),
            };
            let (energy, peaks) = plan(&who, ts, state, s.power, delta, before);
            let bucket_mark = match &energy {
                Some(add) => Some(add.mark),
                None => before.bucket_mark,
            };
            let reading = Connector {
                state,
                ts,
                voltage: s.voltage,
                current: s.current,
                power: s.power,
                energy_delivered: s.energy_delivered,
                soc: s.soc,
                peaks,
                sample_ts: Some(ts),
                version: previous.map_or(0, |c| c.version + 1),
                since,
                since_energy,
                bucket_mark,
                session: None,
            };
            // A sample older than the last event still counts its energy but
            // leaves the state the event set.
            let mut connector = match previous {
                Some(c) if c.ts > ts => Connector {
                    energy_delivered: reading.energy_delivered,
                    peaks: reading.peaks,
                    sample_ts: reading.sample_ts,
                    version: reading.version,
                    bucket_mark: reading.bucket_mark,
                    ..c.clone()
                },
                _ => reading,
            };
            connector.session = traced(previous, &connector, false);
            let pushes = self
                .owed
                .status_moved(
                    &device,
                    connector_id,
                    previous.map(|c| c.state),
                    connector.state,
                )
                .await?;
            let write = ConnectorWrite {
                device_id: device.device_id,
                connector_id,
                expected_version: previous.map(|c| c.version),
                operator_id: device.operator_id.clone(),
                site_id: device.site_id,
                connector,
                last_seen: now,
                sample: self.settings.keep_samples.then(|| sample.clone()),
                energy,
                activity: None,
                pushes,
                fault: None,
            };
            let moved = previous.map(|c| c.state) != Some(write.connector.state);
            if self.store.apply_connector(&write).await? == WriteOutcome::Written {
                self.observations.note_outage(&device, now).await?;
                self.loads.connector_moved(&device, moved).await;
                let hour_peak = previous
                    .filter(|c| c.peaks.hour == Some(energy::hour_of(ts)))
                    .map_or(0.0, |c| c.peaks.hour_kw);
                self.observations
                    .keep_finding(power_over_rating(&device, &sample, hour_peak, now))
                    .await;
                if let Some(previous) = previous {
                    self.observations
                        .keep_finding(counter_reset(&device, previous, &sample, now))
                        .await;
                }
                return Ok(());
            }
        }
        Err(Error::Conflict(
            "the connector is being updated concurrently; retry the sample".into(),
        ))
    }

    /// Moves a connector's state for a lifecycle event.
    pub async fn record_event(&self, claims: TokenClaims, e: LifecycleEvent) -> Result<(), Error> {
        let now = self.clock.now();
        let (ts, event, connector_id, state) = match e {
            LifecycleEvent::Boot { timestamp } => {
                self.telemetry_time(timestamp, now)?;
                // A boot changes no connector; it still shows the device alive.
                let before = self
                    .store
                    .touch_device(claims.device_id, claims.issued_ms, now, Some("online"))
                    .await?
                    .ok_or_else(revoked)?;
                return self.observations.note_outage(&before, now).await;
            }
            LifecycleEvent::Connector {
                timestamp,
                event,
                connector_id,
                state,
            } => (timestamp, event, connector_id, state),
        };
        self.change_connector(
            claims,
            connector_id,
            state,
            ts,
            event.as_str(),
            Move::default(),
        )
        .await
    }

    /// Moves a connector to `state` as of `ts` (a lifecycle event, or an
    /// OCPP status): the activity line says `what`, a fault is kept for
    /// health and bursts. An older move than the connector's last is
    /// passed over.
    pub(crate) async fn change_connector(
        &self,
        claims: TokenClaims,
        connector_id: ConnectorId,
        state: ConnectorState,
        ts: DateTime<Utc>,
        what: &str,
        rules: Move,
    ) -> Result<(), Error> {
        let now = self.clock.now();
        self.telemetry_time(ts, now)?;
        for _ in 0..CONNECTOR_WRITE_ATTEMPTS {
            let device = self.devices.device_for(claims).await?;
            known_connector(&device, connector_id)?;
            let previous = device.connectors.get(&connector_id);
            if previous.is_some_and(|c| c.ts > ts) {
                return Ok(());
            }
            if rules.only_if_changed && previous.is_some_and(|c| c.state == state) {
                return Ok(());
            }
            let connector = moved(previous, state, ts, rules.session_open);
            let pushes = self
                .owed
                .status_moved(&device, connector_id, previous.map(|c| c.state), state)
                .await?;
            let kind = what.split(' ').next().unwrap_or(what);
            let activity = self
                .feeds
                .activity(
                    &format!("connector.{kind}"),
                    &device.operator_id,
                    format!("{} connector {connector_id}: {what}", device.sn),
                )
                .with_device(device.device_id)
                .with_site(device.site_id)
                .done();
            // A fault is kept for health and briefings, and the last hour's
            // fault times ride on the device for the burst rule.
            let fault = (state == ConnectorState::Fault).then(|| FaultWrite {
                mark: FaultMark {
                    device_id: device.device_id,
                    operator_id: device.operator_id.clone(),
                    site_id: device.site_id,
                    connector_id,
                    at: ts,
                },
                recent: recent_faults(&device, ts),
            });
            let write = ConnectorWrite {
                device_id: device.device_id,
                connector_id,
                expected_version: previous.map(|c| c.version),
                operator_id: device.operator_id.clone(),
                site_id: device.site_id,
                connector,
                last_seen: now,
                sample: None,
                energy: None,
                activity: Some(activity),
                pushes,
                fault: fault.clone(),
            };
            let moved = previous.map(|c| c.state) != Some(state);
            if self.store.apply_connector(&write).await? == WriteOutcome::Written {
                self.observations.note_outage(&device, now).await?;
                self.loads.connector_moved(&device, moved).await;
                if let Some(f) = fault {
                    self.observations
                        .keep_finding(fault_burst(&device, &f.recent, now))
                        .await;
                }
                return Ok(());
            }
        }
        Err(Error::Conflict(
            "the connector is being updated concurrently; retry the event".into(),
        ))
    }

    pub async fn record_firmware(
        &self,
        claims: TokenClaims,
        f: FirmwareReport,
    ) -> Result<(), Error> {
        let device = self.devices.device_for(claims).await?;
        let now = self.clock.now();
        let progress = FirmwareProgress {
            firmware_version: f.firmware_version.clone(),
            status: f.status,
            progress: f.progress,
            message: f.message,
            at: now,
        };
        let installed =
            (f.status == FirmwareStatus::Installed).then_some(f.firmware_version.as_str());
        // Only outcomes are news; progress ticks are not.
        let activity = f.status.is_outcome().then(|| {
            self.feeds
                .activity(
                    &format!("firmware.{}", f.status.as_str()),
                    &device.operator_id,
                    format!(
                        "{} firmware {}: {}",
                        device.sn,
                        f.firmware_version,
                        f.status.as_str()
                    ),
                )
                .with_device(device.device_id)
                .with_site(device.site_id)
                .done()
        });
        self.store
            .set_firmware(FirmwareWrite {
                device_id: device.device_id,
                progress: &progress,
                installed,
                now,
                activity: activity.as_ref(),
            })
            .await?;
        // Only a device a campaign sent its update carries the link, so a
        // report from any other device costs nothing more.
        if let Some(link) = &device.campaign {
            self.firmware
                .firmware_reported(&device, link, f.status, &f.firmware_version)
                .await?;
        }
        Ok(())
    }
}

/// A connector after an event: the new state, readings kept.
fn moved(
    previous: Option<&Connector>,
    state: ConnectorState,
    ts: DateTime<Utc>,
    session_open: bool,
) -> Connector {
    let mut next = previous
        .cloned()
        .unwrap_or_else(|| Connector::first_seen(state, ts));
    let was = previous.map(|c| c.state);
    next.state = state;
    next.ts = ts;
    next.version = previous.map_or(0, |c| c.version + 1);
    // A plug-in, or a start that is not a resume, opens a session: its
    // counter starts at 0, so its first sample counts in full even if it is
    // above the last session's final value.
    let resumes = matches!(
        was,
        Some(ConnectorState::Suspended | ConnectorState::Charging)
    );
    // A charger with a transaction open (OCPP) reports the session's
    // energy from its start register: a fault or a pause inside it opens
    // no new session.
    let opens =
        state == ConnectorState::Preparing || (state == ConnectorState::Charging && !resumes);
    let opens = opens && !session_open;
    if opens {
        next.energy_delivered = 0.0;
    }
    if was != Some(state) {
        next.since = Some(ts);
        next.since_energy = Some(next.energy_delivered);
    }
    if matches!(
        state,
        ConnectorState::Idle | ConnectorState::Finishing | ConnectorState::Fault
    ) {
        next.power = 0.0;
        next.current = 0.0;
    }
    next.session = traced(previous, &next, opens);
    next
}

/// The last reading of a connector, as a trace point.
fn reading(c: &Connector) -> TracePoint {
    TracePoint {
        at: c.ts,
        kwh: c.energy_delivered,
        state: c.state,
    }
}

/// The connector's session trace after it moved from `previous` to
/// `next`: a new one where a session opens (a move that `opens`, or a
/// reading that finds the connector charging or preparing outside one),
/// else the last one followed.
fn traced(previous: Option<&Connector>, next: &Connector, opens: bool) -> Option<SessionTrace> {
    let current = previous.and_then(|c| c.session.clone());
    let outside = current.as_ref().is_none_or(|t| t.closed);
    let starts = matches!(
        next.state,
        ConnectorState::Charging | ConnectorState::Preparing
    );
    if opens || (outside && starts) {
        return Some(SessionTrace::open(
            next.ts,
            next.energy_delivered,
            next.state,
        ));
    }
    let mut trace = current?;
    trace.follow(previous.map(reading), reading(next));
    Some(trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_move_connectors_as_the_contract_says() {
        use EventType::*;
        assert_eq!(PlugIn.moves_to(), Some(ConnectorState::Preparing));
        assert_eq!(Start.moves_to(), Some(ConnectorState::Charging));
        assert_eq!(Stop.moves_to(), Some(ConnectorState::Finishing));
        assert_eq!(PlugOut.moves_to(), Some(ConnectorState::Idle));
        assert_eq!(Fault.moves_to(), Some(ConnectorState::Fault));
        assert_eq!(FaultCleared.moves_to(), Some(ConnectorState::Idle));
        assert_eq!(Boot.moves_to(), None);
    }
}
