//! What a charge point's messages do to the fleet: they land in the same
//! capabilities as `/v1/device/*` (connector states, hour buckets,
//! charging records, firmware progress, the command lifecycle).

use super::ChargePoints;
use super::{ChargePoint, Charger, CostTold, Transaction};
use crate::commands::Notice;
use crate::commands::{CommandReport, Report};
use crate::devices::revoked;
use crate::idtags::TokenStatus;
use crate::records::RecordUpload;
use crate::tariffs::session_of;
use crate::telemetry::{FirmwareReport, Move, StatusSample};
use chrono::{DateTime, Utc};
use kernel::error::Error;
use kernel::ids::{CommandId, ConnectorId, RecordId};
use kernel::model::{ConnectorState, Device, FirmwareStatus};
use kernel::version::FirmwareVersion;
use pricing::Decimal;

/// A running transaction's cost is told a charger at most this often.
const RUNNING_COST_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// A connector's state as a charger reported it.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatusReport<'a> {
    pub state: Option<ConnectorState>,
    pub error_code: Option<&'a str>,
    /// A state repeated in a periodic message, not a change.
    pub only_if_changed: bool,
}

/// The heartbeat interval a charger is told at boot, unless a profile
/// applied to it says otherwise.
pub const DEFAULT_HEARTBEAT_S: u32 = 300;

/// What a BootNotification says of the charger.
#[derive(Debug, Clone)]
pub struct BootInfo {
    pub vendor: String,
    pub model: String,
    pub serial_number: Option<String>,
    pub firmware_version: Option<String>,
}

/// A transaction's start, either version.
#[derive(Debug, Clone)]
pub struct TxStart {
    /// The charger's id (2.0.1); `None` has the platform hand one out (1.6).
    pub transaction_id: Option<String>,
    pub connector_id: ConnectorId,
    pub meter_start_wh: Option<f64>,
    pub at: DateTime<Utc>,
    pub id_tag: Option<String>,
    pub remote_start_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StartOutcome {
    pub transaction_id: String,
    pub status: TokenStatus,
}

/// A meter value of one connector.
#[derive(Debug, Clone, Default)]
pub struct MeterReading {
    pub at: DateTime<Utc>,
    pub power_kw: Option<f64>,
    /// Power fed back to the grid (V2G).
    pub export_kw: Option<f64>,
    pub register_wh: Option<f64>,
    pub current_a: Option<f64>,
    pub voltage_v: Option<f64>,
    pub soc: Option<f64>,
}

/// A transaction's end.
#[derive(Debug, Clone)]
pub struct TxEnd {
    pub transaction_id: String,
    pub meter_stop_wh: Option<f64>,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// A charger's answer to one of the platform's calls.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Taken on; the command completes when what it asked happens.
    Accepted,
    /// Taken on and done.
    Done,
    Rejected(String),
    Failed(String),
}

/// A token's answer as a record keeps it.
fn authorization(status: TokenStatus) -> String {
    status.as_str().to_ascii_lowercase()
}

/// A session's energy between two registers, kWh: never below 0, and at
/// most what a record takes (100,000 kWh), else the reading is refused.
fn session_energy(start_wh: f64, register_wh: f64) -> Result<f64, Error> {
    let kwh = ((register_wh - start_wh) / 1000.0).max(0.0);
    if kwh > kernel::input::bounds::MAX_ENERGY_KWH {
        return Err(Error::invalid(
            "meterValue",
            "the session's energy would pass 100,000 kWh",
        ));
    }
    Ok(kwh)
}

/// The record of a transaction: the same for every repeat of its end.
fn record_id(charger: &Charger, transaction_id: &str) -> RecordId {
    let digest = kernel::secret::hash_secret(&format!("{}#{transaction_id}", charger.device_id));
    let mut bytes = [0u8; 16];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&digest[2 * i..2 * i + 2], 16).unwrap_or_default();
    }
    RecordId(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

fn firmware_status(status: FirmwareStatus) -> Option<Report> {
    match status {
        FirmwareStatus::Installed => Some(Report::Completed),
        FirmwareStatus::Failed
        | FirmwareStatus::DownloadFailed
        | FirmwareStatus::InstallationFailed => Some(Report::Failed),
        _ => None,
    }
}

impl ChargePoints {
    /// The charger's device, seen now; its claims must still stand.
    async fn charger_seen(&self, charger: &Charger) -> Result<Device, Error> {
        let now = self.clock.now();
        let before = self
            .store
            .touch_device(
                charger.device_id,
                charger.claims.issued_ms,
                now,
                Some("online"),
            )
            .await?
            .ok_or_else(revoked)?;
        self.observations.note_outage(&before, now).await?;
        Ok(before)
    }

    async fn charger_point(&self, charger: &Charger) -> Result<ChargePoint, Error> {
        self.store
            .get_charge_point(&charger.charge_point_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("charge point {}", charger.charge_point_id)))
    }

    /// BootNotification: the charger's build and serial are kept; the
    /// answer is its heartbeat interval.
    pub async fn charger_boot(&self, charger: &Charger, boot: BootInfo) -> Result<u32, Error> {
        let device = self.charger_seen(charger).await?;
        let firmware = boot
            .firmware_version
            .as_deref()
            .and_then(FirmwareVersion::parse)
            .unwrap_or_else(|| device.firmware_version.clone());
        let changed = device.model != boot.model
            || device.manufacturer != boot.vendor
            || device.firmware_version != firmware;
        if changed {
            self.store
                .rotate_secret(
                    &device,
                    &device.secret_hash,
                    device.revoked_before,
                    crate::devices::Profile {
                        model: &boot.model,
                        manufacturer: &boot.vendor,
                        firmware_version: firmware.as_str(),
                    },
                )
                .await?;
        }
        let now = self.clock.now();
        let kept = super::Boot {
            vendor: boot.vendor,
            model: boot.model,
            serial_number: boot.serial_number,
            firmware_version: boot.firmware_version,
            at: now,
        };
        self.update_charge_point(&charger.charge_point_id, |cp| {
            cp.boot = Some(kept.clone());
            Ok(())
        })
        .await?;
        let interval = match &device.configuration {
            Some(applied) => self
                .store
                .get_profile(applied.profile_id)
                .await?
                .map_or(DEFAULT_HEARTBEAT_S, |p| p.settings.heartbeat_interval_s),
            None => DEFAULT_HEARTBEAT_S,
        };
        Ok(interval)
    }

    /// Heartbeat, and any message that otherwise writes nothing: the
    /// device is seen (one write).
    pub async fn charger_heartbeat(&self, charger: &Charger) -> Result<(), Error> {
        let device = self.charger_seen(charger).await?;
        // Commands queued while it could not be reached go now; the
        // device as it was read says whether there are any.
        if device.open_commands > 0 {
            self.commands.push_to_charger(&device).await?;
        }
        Ok(())
    }

    /// StatusNotification (or a 2.0.1 `chargingState`): the connector's
    /// state. `None` is 2.0.1's `Occupied`: charging inside a transaction,
    /// else preparing. Inside a transaction the session's energy carries
    /// on whatever the state; `only_if_changed` writes nothing when the
    /// connector is in that state already.
    pub async fn charger_status(
        &self,
        charger: &Charger,
        connector: ConnectorId,
        report: StatusReport<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), Error> {
        let session_open = self
            .charger_point(charger)
            .await?
            .sessions
            .contains_key(&connector);
        let state = match report.state {
            Some(state) => state,
            None if session_open => ConnectorState::Charging,
            None => ConnectorState::Preparing,
        };
        let label = match (state, report.error_code) {
            (ConnectorState::Fault, Some(code)) => format!("fault ({code})"),
            _ => state.as_str().to_owned(),
        };
        let rules = Move {
            session_open,
            only_if_changed: report.only_if_changed,
        };
        self.telemetry
            .change_connector(charger.claims, connector, state, at, &label, rules)
            .await
    }

    /// Authorize: the charger's operator's driver token answers (one
    /// read); a tag the operator does not have is accepted when it is that
    /// of a remote start the platform sent, or where the device's profile
    /// is free vend, and is otherwise `Invalid`.
    pub async fn charger_authorize(
        &self,
        charger: &Charger,
        id_tag: &str,
    ) -> Result<TokenStatus, Error> {
        if let Some(standing) = self
            .id_tags
            .token_standing(&charger.operator_id, id_tag)
            .await?
        {
            return Ok(standing);
        }
        let cp = self.charger_point(charger).await?;
        if cp
            .remote_starts
            .values()
            .any(|r| r.id_tag.eq_ignore_ascii_case(id_tag))
        {
            return Ok(TokenStatus::Accepted);
        }
        let device = self.charger_seen(charger).await?;
        if let Some(applied) = &device.configuration
            && self
                .store
                .get_profile(applied.profile_id)
                .await?
                .is_some_and(|p| p.settings.free_vend)
        {
            return Ok(TokenStatus::Accepted);
        }
        Ok(TokenStatus::Invalid)
    }

    /// A transaction started: a session on the connector, the remote start
    /// it fulfils completed. A repeated start (same id) changes nothing.
    pub async fn transaction_started(
        &self,
        charger: &Charger,
        start: TxStart,
    ) -> Result<StartOutcome, Error> {
        // The same start again (2.0.1: its id; 1.6, which has none: the
        // session running on the connector with the same start time, tag
        // and register) is answered as the first time: a charger retrying
        // a start whose answer it lost gets its transaction back.
        let known = match &start.transaction_id {
            Some(id) => Some(id.clone()),
            None => self
                .charger_point(charger)
                .await?
                .sessions
                .get(&start.connector_id)
                .cloned(),
        };
        let repeated = match &known {
            Some(id) => self
                .store
                .get_transaction(charger.device_id, id)
                .await?
                .filter(|tx| {
                    start.transaction_id.is_some()
                        || (tx.started_at == start.at
                            && tx.meter_start_wh == start.meter_start_wh
                            && tx.id_tag.as_deref().map(str::to_ascii_uppercase)
                                == start.id_tag.as_deref().map(str::to_ascii_uppercase))
                }),
            None => None,
        };
        if let Some(tx) = repeated {
            let status = self
                .token_status(charger, tx.id_tag.as_deref(), tx.command_id.is_some())
                .await?;
            return Ok(StartOutcome {
                transaction_id: tx.transaction_id,
                status,
            });
        }
        let mut fulfils = None;
        let mut allocated = String::new();
        self.update_charge_point(&charger.charge_point_id, |cp| {
            let id = match &start.transaction_id {
                Some(id) => id.clone(),
                None => {
                    cp.last_transaction += 1;
                    cp.last_transaction.to_string()
                }
            };
            fulfils = cp.take_remote_start(
                start.connector_id,
                start.remote_start_id,
                start.id_tag.as_deref(),
            );
            cp.sessions.insert(start.connector_id, id.clone());
            allocated = id;
            Ok(())
        })
        .await?;
        let status = self
            .token_status(charger, start.id_tag.as_deref(), fulfils.is_some())
            .await?;
        let tx = Transaction {
            authorization: start.id_tag.as_ref().map(|_| authorization(status)),
            device_id: charger.device_id,
            transaction_id: allocated.clone(),
            connector_id: start.connector_id,
            meter_start_wh: start.meter_start_wh,
            started_at: start.at,
            id_tag: start.id_tag.clone(),
            command_id: fulfils,
            max_power_kw: None,
            last_register_wh: start.meter_start_wh,
            ended_at: None,
            cost_told: None,
        };
        self.store.put_transaction(&tx).await?;
        self.telemetry
            .change_connector(
                charger.claims,
                start.connector_id,
                ConnectorState::Charging,
                start.at,
                "session started",
                Move::default(),
            )
            .await?;
        if let Some(command) = fulfils {
            self.complete_command(charger, command).await;
        }
        Ok(StartOutcome {
            transaction_id: allocated,
            status,
        })
    }

    /// A transaction event that names a remote start or a token after the
    /// start (2.0.1: cable first, then the remote start or the card): the
    /// remote start it fulfils completes, and the token is the session's.
    pub async fn transaction_joined(
        &self,
        charger: &Charger,
        transaction_id: &str,
        id_tag: Option<&str>,
        remote_start_id: Option<i64>,
    ) -> Result<(), Error> {
        let Some(mut tx) = self
            .store
            .get_transaction(charger.device_id, transaction_id)
            .await?
        else {
            return Ok(());
        };
        let connector = tx.connector_id;
        let mut fulfils = None;
        if tx.command_id.is_none() {
            self.update_charge_point(&charger.charge_point_id, |cp| {
                fulfils = cp.take_remote_start(connector, remote_start_id, id_tag);
                Ok(())
            })
            .await?;
        }
        let before = tx.clone();
        if let Some(command) = fulfils {
            tx.command_id = Some(command);
        }
        if tx.id_tag.is_none()
            && let Some(tag) = id_tag
        {
            tx.id_tag = Some(tag.to_owned());
            let status = self
                .token_status(charger, Some(tag), tx.command_id.is_some())
                .await?;
            tx.authorization = Some(authorization(status));
        }
        if tx != before {
            self.store.put_transaction(&tx).await?;
        }
        if let Some(command) = fulfils {
            self.complete_command(charger, command).await;
        }
        Ok(())
    }

    /// How a tag is answered within a transaction: the tag of a remote
    /// start the platform sent is accepted for that session (the remote
    /// start itself is gone once it began), any other as Authorize would.
    pub async fn transaction_tag(
        &self,
        charger: &Charger,
        transaction_id: &str,
        id_tag: &str,
    ) -> Result<TokenStatus, Error> {
        let platforms = self
            .store
            .get_transaction(charger.device_id, transaction_id)
            .await?
            .filter(|tx| tx.command_id.is_some())
            .and_then(|tx| tx.id_tag)
            .is_some_and(|tag| tag.eq_ignore_ascii_case(id_tag));
        if platforms {
            return Ok(TokenStatus::Accepted);
        }
        self.charger_authorize(charger, id_tag).await
    }

    async fn token_status(
        &self,
        charger: &Charger,
        id_tag: Option<&str>,
        remote: bool,
    ) -> Result<TokenStatus, Error> {
        match id_tag {
            _ if remote => Ok(TokenStatus::Accepted),
            Some(tag) => self.charger_authorize(charger, tag).await,
            None => Ok(TokenStatus::Accepted),
        }
    }

    /// A meter value: a status sample of the connector, its energy the
    /// session's so far (register − start), each reading counted once.
    pub async fn charger_meter(
        &self,
        charger: &Charger,
        connector: ConnectorId,
        transaction_id: Option<&str>,
        reading: MeterReading,
    ) -> Result<(), Error> {
        let device = self.devices.device_for(charger.claims).await?;
        let transaction_id = match transaction_id {
            Some(id) => Some(id.to_owned()),
            None => self
                .charger_point(charger)
                .await?
                .sessions
                .get(&connector)
                .cloned(),
        };
        let mut tx = match &transaction_id {
            Some(id) => self.store.get_transaction(charger.device_id, id).await?,
            None => None,
        };
        let live = device.connectors.get(&connector);
        let mut energy_kwh = live.map_or(0.0, |c| c.energy_delivered);
        // The transaction is written again only when what it alone keeps
        // changes (its start register, its peak); the latest register is
        // the connector's energy, kept by the sample itself.
        let mut changed = false;
        if let Some(tx) = tx.as_mut().filter(|t| t.ended_at.is_none()) {
            if let Some(register) = reading.register_wh {
                if tx.meter_start_wh.is_none() {
                    tx.meter_start_wh = Some(register);
                    changed = true;
                }
                let start = tx.meter_start_wh.unwrap_or(register);
                // Inside a transaction the register only rises: a lower
                // reading counts nothing (else a register going up and
                // down would count its rises again and again).
                energy_kwh = energy_kwh.max(session_energy(start, register)?);
                tx.last_register_wh = Some(register);
            }
            if let Some(kw) = reading.power_kw
                && tx.max_power_kw.is_none_or(|m| kw > m)
            {
                tx.max_power_kw = Some(kw);
                changed = true;
            }
        }
        let exporting = reading.export_kw.is_some_and(|kw| kw > 0.0);
        let state = match live.map(|c| c.state) {
            _ if exporting => ConnectorState::Discharging,
            Some(state) => state,
            None if tx.is_some() => ConnectorState::Charging,
            None => ConnectorState::Idle,
        };
        let power = if exporting {
            reading.export_kw.unwrap_or_default()
        } else {
            reading
                .power_kw
                .unwrap_or_else(|| live.map_or(0.0, |c| c.power))
        };
        let sample = StatusSample {
            timestamp: reading.at,
            connector_id: connector,
            state,
            voltage: reading
                .voltage_v
                .unwrap_or_else(|| live.map_or(0.0, |c| c.voltage)),
            current: reading
                .current_a
                .unwrap_or_else(|| live.map_or(0.0, |c| c.current)),
            power,
            energy_delivered: energy_kwh,
            soc: reading.soc.or_else(|| live.and_then(|c| c.soc)),
        };
        let at = sample.timestamp;
        self.telemetry.record_status(charger.claims, sample).await?;
        let mut notice = None;
        if let Some(tx) = tx.as_mut().filter(|t| t.ended_at.is_none())
            && let Some(cost) = self.running_cost(&device, tx, at, energy_kwh).await?
        {
            notice = Some(Notice::RunningCost {
                transaction_id: tx.transaction_id.clone(),
                total_cost: cost.total_cost,
            });
            tx.cost_told = Some(cost);
            changed = true;
        }
        if let Some(tx) = tx.filter(|_| changed) {
            self.store.put_transaction(&tx).await?;
        }
        if let Some(notice) = notice {
            self.commands.tell_charger(&device, &notice).await;
        }
        Ok(())
    }

    /// The running cost to tell a 2.0.1 charger now, if any: a priced
    /// transaction's cost so far, when it changed and at most once a
    /// minute (contract §14). The tariff is read as at the session's end.
    async fn running_cost(
        &self,
        device: &Device,
        tx: &Transaction,
        at: DateTime<Utc>,
        energy_kwh: f64,
    ) -> Result<Option<CostTold>, Error> {
        let speaks_201 = device
            .connection
            .as_ref()
            .is_some_and(|c| c.protocol == "ocpp2.0.1");
        let now = self.clock.now();
        if !speaks_201
            || tx
                .cost_told
                .as_ref()
                .is_some_and(|c| now - c.at < RUNNING_COST_EVERY)
        {
            return Ok(None);
        }
        let Some(pricer) = self.tariffs.pricer(device, tx.started_at).await? else {
            return Ok(None);
        };
        let trace = device
            .connectors
            .get(&tx.connector_id)
            .and_then(|c| c.session.as_ref());
        let session = session_of(trace, tx.started_at, at.max(tx.started_at), energy_kwh);
        let total_cost = pricing::price(&pricer.content, pricer.tz, &session).incl_vat;
        let told = tx
            .cost_told
            .as_ref()
            .map_or(Decimal::ZERO, |c| c.total_cost);
        Ok((total_cost != told).then_some(CostTold {
            at: now,
            total_cost,
        }))
    }

    /// A transaction ended: its charging record (one, whatever the
    /// repeats), the connector's session closed, a remote stop completed.
    /// Answers the session's price incl. VAT where it was priced.
    pub async fn transaction_ended(
        &self,
        charger: &Charger,
        end: TxEnd,
    ) -> Result<Option<Decimal>, Error> {
        let Some(mut tx) = self
            .store
            .get_transaction(charger.device_id, &end.transaction_id)
            .await?
        else {
            tracing::info!(charge_point_id = %charger.charge_point_id, transaction_id = %end.transaction_id, "end of an unknown transaction");
            self.charger_heartbeat(charger).await?;
            return Ok(None);
        };
        // The stop register's last interval (from the last meter value to
        // the stop) is counted like any reading, so the energy totals hold
        // what the record holds.
        if let (Some(stop), None) = (end.meter_stop_wh, tx.ended_at) {
            let reading = MeterReading {
                at: end.at.max(tx.started_at),
                register_wh: Some(stop),
                ..MeterReading::default()
            };
            self.charger_meter(charger, tx.connector_id, Some(&tx.transaction_id), reading)
                .await?;
            tx = self
                .store
                .get_transaction(charger.device_id, &end.transaction_id)
                .await?
                .unwrap_or(tx);
        }
        // Without a stop register (a 2.0.1 end with no meter value), the
        // session's energy as the connector last counted it.
        let stop = match (end.meter_stop_wh, tx.meter_start_wh) {
            (Some(stop), _) => Some(stop),
            (None, Some(start)) => self
                .devices
                .device_for(charger.claims)
                .await?
                .connectors
                .get(&tx.connector_id)
                .map(|c| start + c.energy_delivered * 1000.0),
            (None, None) => None,
        };
        let energy = match (tx.meter_start_wh, stop) {
            (Some(start), Some(stop)) => session_energy(start, stop)?,
            _ => 0.0,
        };
        let upload = RecordUpload {
            record_id: record_id(charger, &tx.transaction_id),
            connector_id: tx.connector_id,
            start_time: tx.started_at,
            end_time: end.at.max(tx.started_at),
            energy: (energy * 1000.0).round() / 1000.0,
            max_power: tx.max_power_kw,
            cost: None,
            currency: None,
            stop_reason: end.reason.clone(),
            // A driver's token; a remote start's tag is the platform's own.
            id_tag: tx.id_tag.clone().filter(|_| tx.command_id.is_none()),
            authorization: tx.authorization.clone(),
        };
        let total_cost = match self.records.upload_record(charger.claims, upload).await {
            Ok(record) => record.price.map(|p| p.incl_vat),
            // A repeat with other figures keeps the first record.
            Err(Error::Conflict(_)) => None,
            Err(e) => return Err(e),
        };
        let mut stopped_by = None;
        if tx.ended_at.is_none() {
            tx.ended_at = Some(end.at);
            tx.last_register_wh = stop;
            self.store.put_transaction(&tx).await?;
            let (connector, id) = (tx.connector_id, tx.transaction_id.clone());
            self.update_charge_point(&charger.charge_point_id, |cp| {
                if cp.sessions.get(&connector) == Some(&id) {
                    cp.sessions.remove(&connector);
                }
                stopped_by = cp.stops.remove(&id);
                Ok(())
            })
            .await?;
        }
        if let Some(command) = stopped_by {
            self.complete_command(charger, command).await;
        }
        Ok(total_cost)
    }

    /// FirmwareStatusNotification: progress as `/v1/device/firmware/status`;
    /// an outcome settles the update command that asked for it.
    pub async fn charger_firmware(
        &self,
        charger: &Charger,
        status: Option<FirmwareStatus>,
    ) -> Result<(), Error> {
        let Some(status) = status else {
            return self.charger_heartbeat(charger).await;
        };
        let cp = self.charger_point(charger).await?;
        let device = self.devices.device_for(charger.claims).await?;
        let version = cp
            .firmware
            .as_ref()
            .map(|f| f.version.clone())
            .or_else(|| device.campaign.as_ref().map(|c| c.target_version.clone()))
            .unwrap_or_else(|| device.firmware_version.clone());
        self.telemetry
            .record_firmware(
                charger.claims,
                FirmwareReport {
                    firmware_version: version,
                    status,
                    progress: None,
                    message: None,
                },
            )
            .await?;
        match (&cp.firmware, firmware_status(status)) {
            (Some(order), Some(Report::Completed)) => {
                self.complete_command(charger, order.command_id).await;
            }
            (Some(order), Some(_)) => {
                self.charger_answered(
                    charger,
                    order.command_id,
                    Answer::Failed(format!("firmware {}", status.as_str())),
                )
                .await;
            }
            _ => {}
        }
        Ok(())
    }

    /// The charger's answer to a call the platform sent for a command.
    pub async fn charger_answered(&self, charger: &Charger, command: CommandId, answer: Answer) {
        if matches!(answer, Answer::Rejected(_) | Answer::Failed(_)) {
            self.forget_remote_start(charger, command).await;
        }
        let (steps, message): (&[Report], _) = match answer {
            Answer::Accepted => (&[Report::Accepted], None),
            Answer::Done => (&[Report::Accepted, Report::Completed], None),
            Answer::Rejected(why) => (&[Report::Rejected], Some(why)),
            Answer::Failed(why) => {
                if let Err(e) = self
                    .commands
                    .fail_command(charger.device_id, command, why)
                    .await
                {
                    tracing::debug!(command_id = %command, error = %e, "failure passed over");
                }
                return;
            }
        };
        self.drive_command(charger, command, steps, message).await;
    }

    /// A remote start the charger refused (or never answered) no longer
    /// makes its platform-issued tag accepted.
    async fn forget_remote_start(&self, charger: &Charger, command: CommandId) {
        let pending = self
            .charger_point(charger)
            .await
            .is_ok_and(|cp| cp.remote_starts.values().any(|r| r.command_id == command));
        if !pending {
            return;
        }
        let forgotten = self
            .update_charge_point(&charger.charge_point_id, |cp| {
                cp.remote_starts.retain(|_, r| r.command_id != command);
                Ok(())
            })
            .await;
        if let Err(e) = forgotten {
            tracing::warn!(command_id = %command, error = %e, "remote start not forgotten");
        }
    }

    /// A command whose call was taken on and whose effect happened.
    async fn complete_command(&self, charger: &Charger, command: CommandId) {
        self.drive_command(
            charger,
            command,
            &[Report::Accepted, Report::Completed],
            None,
        )
        .await;
    }

    /// Moves a command through `steps`; a step it has taken already, or
    /// one it can no longer take (answers and transactions may come in
    /// either order), is passed over.
    async fn drive_command(
        &self,
        charger: &Charger,
        command: CommandId,
        steps: &[Report],
        message: Option<String>,
    ) {
        for (i, step) in steps.iter().enumerate() {
            let report = CommandReport {
                command_id: command,
                status: *step,
                timestamp: self.clock.now(),
                message: (i + 1 == steps.len()).then(|| message.clone()).flatten(),
            };
            if let Err(e) = self.commands.report_command(charger.claims, report).await {
                tracing::debug!(command_id = %command, step = step.as_str(), error = %e, "command step passed over");
            }
        }
    }
}

impl ChargePoints {
    /// The connector a transaction runs on, for messages that name only
    /// the transaction.
    pub async fn transaction_connector(
        &self,
        charger: &Charger,
        transaction_id: &str,
    ) -> Result<Option<ConnectorId>, Error> {
        Ok(self
            .store
            .get_transaction(charger.device_id, transaction_id)
            .await?
            .map(|t| t.connector_id))
    }
}

impl ChargePoints {
    /// Notes calls just sent to the charger.
    pub async fn calls_sent(&self, calls: &[super::PendingCall]) -> Result<(), Error> {
        Ok(self.store.put_pending_calls(calls).await?)
    }

    /// The call an answer is for, no longer pending; `None` when nobody
    /// waits for it (answered already, or never sent).
    pub async fn call_answered(
        &self,
        charger: &Charger,
        message_id: &str,
    ) -> Result<Option<super::PendingCall>, Error> {
        Ok(self
            .store
            .take_pending_call(charger.device_id, message_id)
            .await?)
    }

    /// Whether every part of a split command has now been answered well.
    pub async fn last_part_answered(&self, call: &super::PendingCall) -> Result<bool, Error> {
        Ok(self.store.count_answered_part(call).await? >= call.parts)
    }
}
