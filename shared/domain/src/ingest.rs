//! What chargers report: heartbeats, connector telemetry, lifecycle events
//! and firmware progress.

use crate::Domain;
use crate::credentials::TokenClaims;
use crate::devices::revoked;
use crate::energy::{Attribution, counter_delta, plan};
use crate::error::Error;
use crate::model::{CommandView, Connector, ConnectorState, FirmwareProgress, Peaks, Sample};
use crate::store::{ConnectorWrite, WriteOutcome};
use crate::validate::{Problems, text_ok};
use chrono::{DateTime, Utc};

/// Optimistic writes to one connector are retried this often on a race.
const CONNECTOR_WRITE_ATTEMPTS: usize = 4;

#[derive(Debug, Clone)]
pub struct Heartbeat {
    pub timestamp: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct StatusSample {
    pub timestamp: String,
    pub connector_id: i64,
    pub state: String,
    pub voltage: f64,
    pub current: f64,
    pub power: f64,
    pub energy_delivered: f64,
    pub soc: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct LifecycleEvent {
    pub timestamp: String,
    pub event_type: String,
    pub connector_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct FirmwareStatus {
    pub firmware_version: String,
    pub status: String,
    pub progress: Option<i64>,
    pub message: Option<String>,
}

const EVENT_TYPES: &str = "plug_in, plug_out, start, stop, fault, fault_cleared, boot";
const FIRMWARE_STATUSES: &[&str] = &[
    "downloading",
    "downloaded",
    "installing",
    "installed",
    "failed",
    "download_failed",
    "installation_failed",
    "idle",
];
/// Connector numbers a charger may use (OCPP numbers them from 1).
const MAX_CONNECTOR: i64 = 32;

fn parse_state(raw: &str) -> Option<ConnectorState> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
}

/// The connector state an event moves to; `None` for events that leave it.
fn event_state(event_type: &str) -> Result<Option<ConnectorState>, ()> {
    Ok(Some(match event_type {
        "plug_in" => ConnectorState::Preparing,
        "start" => ConnectorState::Charging,
        "stop" => ConnectorState::Finishing,
        "plug_out" | "fault_cleared" => ConnectorState::Idle,
        "fault" => ConnectorState::Fault,
        "boot" => return Ok(None),
        _ => return Err(()),
    }))
}

fn connector_number(p: &mut Problems, raw: i64) -> u32 {
    p.check(
        (1..=MAX_CONNECTOR).contains(&raw),
        "connector_id",
        "must be 1..32",
    );
    raw.clamp(0, MAX_CONNECTOR) as u32
}

impl Domain {
    /// Marks the device seen and hands over its pending commands.
    pub async fn heartbeat(
        &self,
        claims: TokenClaims,
        hb: Heartbeat,
    ) -> Result<Vec<CommandView>, Error> {
        let now = self.clock.now();
        let mut p = Problems::default();
        p.timestamp(&hb.timestamp, "timestamp", now);
        p.check(
            text_ok(&hb.status, 32),
            "status",
            "must be 1..32 characters",
        );
        p.finish()?;
        let device = self
            .store
            .touch_device(claims.device_id, claims.issued_ms, now, Some(&hb.status))
            .await?
            .ok_or_else(revoked)?;
        if device.open_commands <= 0 {
            return Ok(Vec::new());
        }
        let delivered = self.deliver(device.device_id, usize::MAX).await?;
        Ok(delivered.iter().map(|c| c.view()).collect())
    }

    /// Applies a telemetry sample: live state (if newest), stored sample and
    /// energy roll-ups, all in one write.
    pub async fn record_status(&self, claims: TokenClaims, s: StatusSample) -> Result<(), Error> {
        let now = self.clock.now();
        let mut p = Problems::default();
        let ts = p.timestamp(&s.timestamp, "timestamp", now);
        let connector_id = connector_number(&mut p, s.connector_id);
        let state = parse_state(&s.state);
        if state.is_none() {
            p.add("state", format!("must be one of {}", ConnectorState::ALL));
        }
        p.range(s.voltage, 0.0, 1500.0, "voltage");
        p.range(s.current, 0.0, 1000.0, "current");
        p.range(s.power, 0.0, 1000.0, "power");
        p.non_negative(s.energy_delivered, "energy_delivered");
        if let Some(soc) = s.soc {
            p.range(soc, 0.0, 100.0, "soc");
        }
        p.finish()?;
        let (Some(ts), Some(state)) = (ts, state) else {
            return Err(Error::Internal("validated sample fields missing".into()));
        };
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
            ttl: (ts + self.settings.sample_ttl).timestamp(),
        };
        for _ in 0..CONNECTOR_WRITE_ATTEMPTS {
            let device = self.device_for(claims).await?;
            let previous = device.connectors.get(&connector_id.to_string());
            if previous.is_some_and(|c| c.sample_ts.is_some_and(|last| last >= ts)) {
                // Older than the last counted sample, or repeated: keep the
                // sample, count nothing, move nothing.
                return Ok(self.store.put_sample(&sample).await?);
            }
            let delta = counter_delta(previous.map(|c| c.energy_delivered), s.energy_delivered);
            let who = Attribution {
                device_id: device.device_id,
                site_id: device.site_id,
                operator_id: &device.operator_id,
            };
            let peaks = previous.map(|c| c.peaks.clone()).unwrap_or_default();
            let (energy, peaks) = plan(&who, ts, state, s.power, delta, &peaks);
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
            };
            // A sample older than the last event still counts its energy but
            // leaves the state the event set.
            let connector = match previous {
                Some(c) if c.ts > ts => Connector {
                    energy_delivered: reading.energy_delivered,
                    peaks: reading.peaks,
                    sample_ts: reading.sample_ts,
                    version: reading.version,
                    ..c.clone()
                },
                _ => reading,
            };
            let write = ConnectorWrite {
                device_id: device.device_id,
                connector_id,
                expected_version: previous.map(|c| c.version),
                operator_id: device.operator_id.clone(),
                site_id: device.site_id,
                connector,
                last_seen: now,
                sample: Some(sample.clone()),
                energy,
                activity: None,
            };
            if self.store.apply_connector(&write).await? == WriteOutcome::Written {
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
        let mut p = Problems::default();
        let ts = p.timestamp(&e.timestamp, "timestamp", now);
        let next_state = match event_state(&e.event_type) {
            Ok(state) => state,
            Err(()) => {
                p.add("event_type", format!("must be one of {EVENT_TYPES}"));
                None
            }
        };
        let connector_id = match (next_state, e.connector_id) {
            (Some(_), Some(raw)) => Some(connector_number(&mut p, raw)),
            (Some(_), None) => {
                p.add("connector_id", "is required for this event_type");
                None
            }
            (None, raw) => raw.map(|raw| connector_number(&mut p, raw)),
        };
        p.finish()?;
        let Some(ts) = ts else {
            return Err(Error::Internal("validated event time missing".into()));
        };
        let (Some(state), Some(connector_id)) = (next_state, connector_id) else {
            // A boot changes no connector; it still shows the device alive.
            self.store
                .touch_device(claims.device_id, claims.issued_ms, now, Some("online"))
                .await?
                .ok_or_else(revoked)?;
            return Ok(());
        };
        for _ in 0..CONNECTOR_WRITE_ATTEMPTS {
            let device = self.device_for(claims).await?;
            let previous = device.connectors.get(&connector_id.to_string());
            if previous.is_some_and(|c| c.ts > ts) {
                return Ok(());
            }
            let connector = moved(previous, state, ts);
            let activity = self
                .event(
                    &format!("connector.{}", e.event_type),
                    &device.operator_id,
                    format!("{} connector {connector_id}: {}", device.sn, e.event_type),
                )
                .with_device(device.device_id)
                .with_site(device.site_id)
                .done();
            let write = ConnectorWrite {
                device_id: device.device_id,
                connector_id,
                expected_version: previous.map(|c| c.version),
                operator_id: device.operator_id.clone(),
                site_id: device.site_id,
                connector,
                last_seen: now,
                sample: None,
                energy: Vec::new(),
                activity: Some(activity),
            };
            if self.store.apply_connector(&write).await? == WriteOutcome::Written {
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
        f: FirmwareStatus,
    ) -> Result<(), Error> {
        let mut p = Problems::default();
        p.check(
            text_ok(&f.firmware_version, 64),
            "firmware_version",
            "must be 1..64 characters",
        );
        if !FIRMWARE_STATUSES.contains(&f.status.as_str()) {
            p.add(
                "status",
                format!("must be one of {}", FIRMWARE_STATUSES.join(", ")),
            );
        }
        if let Some(progress) = f.progress {
            p.check((0..=100).contains(&progress), "progress", "must be 0..100");
        }
        if let Some(message) = &f.message {
            p.check(
                message.len() <= 512,
                "message",
                "must be at most 512 characters",
            );
        }
        p.finish()?;
        let device = self.device_for(claims).await?;
        let now = self.clock.now();
        let progress = FirmwareProgress {
            firmware_version: f.firmware_version.clone(),
            status: f.status.clone(),
            progress: f.progress.map(|v| v as u8),
            message: f.message,
            at: now,
        };
        let installed = (f.status == "installed").then_some(f.firmware_version.as_str());
        // Only outcomes are news; progress ticks are not.
        let activity = matches!(
            f.status.as_str(),
            "installed" | "failed" | "download_failed" | "installation_failed"
        )
        .then(|| {
            self.event(
                &format!("firmware.{}", f.status),
                &device.operator_id,
                format!(
                    "{} firmware {}: {}",
                    device.sn, f.firmware_version, f.status
                ),
            )
            .with_device(device.device_id)
            .with_site(device.site_id)
            .done()
        });
        self.store
            .set_firmware(
                device.device_id,
                &progress,
                installed,
                now,
                activity.as_ref(),
            )
            .await?;
        Ok(())
    }
}

/// A connector after an event: the new state, readings kept.
fn moved(previous: Option<&Connector>, state: ConnectorState, ts: DateTime<Utc>) -> Connector {
    let mut next = previous.cloned().unwrap_or(Connector {
        state,
        ts,
        voltage: 0.0,
        current: 0.0,
        power: 0.0,
        energy_delivered: 0.0,
        soc: None,
        peaks: Peaks::default(),
        sample_ts: None,
        version: 0,
    });
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
    if state == ConnectorState::Preparing || (state == ConnectorState::Charging && !resumes) {
        next.energy_delivered = 0.0;
    }
    if matches!(
        state,
        ConnectorState::Idle | ConnectorState::Finishing | ConnectorState::Fault
    ) {
        next.power = 0.0;
        next.current = 0.0;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_move_connectors_as_the_contract_says() {
        assert_eq!(event_state("plug_in"), Ok(Some(ConnectorState::Preparing)));
        assert_eq!(event_state("start"), Ok(Some(ConnectorState::Charging)));
        assert_eq!(event_state("stop"), Ok(Some(ConnectorState::Finishing)));
        assert_eq!(event_state("plug_out"), Ok(Some(ConnectorState::Idle)));
        assert_eq!(event_state("fault"), Ok(Some(ConnectorState::Fault)));
        assert_eq!(event_state("fault_cleared"), Ok(Some(ConnectorState::Idle)));
        assert_eq!(event_state("boot"), Ok(None));
        assert_eq!(event_state("explode"), Err(()));
    }

    #[test]
    fn states_parse_from_their_wire_names_only() {
        assert_eq!(
            parse_state("discharging"),
            Some(ConnectorState::Discharging)
        );
        assert_eq!(parse_state("Charging"), None);
    }
}
