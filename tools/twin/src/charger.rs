//! One simulated charger: credentials, heartbeats, a charging session state
//! machine on connector 1, and obedience to commands.

use crate::api::{Answer, Api};
use crate::misbehaviour::{
    BURST_EVERY_S, BURST_FAULTS, Fault, Misbehaviour, OVER_POWER, RESET_AFTER_KWH, STUCK_FOR,
};
use crate::stats::Configuration;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashSet;

/// Ratings of the models the fleet is made of (the twin's own knowledge,
/// as a charger knows its own hardware).
pub struct Model {
    pub name: &'static str,
    pub max_kw: f64,
    pub v2g: bool,
    /// kW per ampere of current limit: three phases at 400 V for AC, the
    /// 400 V battery for DC.
    pub kw_per_a: f64,
}

pub const AC: Model = Model {
    name: "TP-AC22",
    max_kw: 22.0,
    v2g: false,
    kw_per_a: 0.6928,
};
pub const DC_V2G: Model = Model {
    name: "TP-DC180",
    max_kw: 180.0,
    v2g: true,
    kw_per_a: 0.4,
};

/// Heartbeat interval (simulated seconds) until a profile sets another.
pub const DEFAULT_HEARTBEAT_S: f64 = 30.0;

const TARIFF_GBP_PER_KWH: f64 = 0.35;
const CONNECTOR: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Idle,
    Charging,
    Discharging,
    Fault,
}

/// A session in progress: energy counter, battery and limits.
struct Session {
    record_id: String,
    started: DateTime<Utc>,
    counter_kwh: f64,
    max_kw: f64,
    soc: f64,
    target_soc: f64,
    battery_kwh: f64,
    /// What a counter reset took off the reported counter.
    reset_kwh: f64,
    /// V2G: power, end (simulated seconds) and floor.
    discharge: Option<(f64, f64, f64)>,
}

/// A firmware update in progress: version, the step reached, and whether
/// this one is going to fail.
struct Upgrade {
    command_id: String,
    version: String,
    step: u32,
    fails: bool,
}

pub struct Charger {
    pub api: Api,
    pub sn: String,
    pub model: &'static Model,
    pub device_id: String,
    pub secret: String,
    pub firmware: String,
    pub site_id: Option<String>,
    token: String,
    rng: fastrand::Rng,
    mode: Mode,
    session: Option<Session>,
    fault_until: f64,
    limit: Option<(f64, f64)>,
    upgrade: Option<Upgrade>,
    seen: HashSet<String>,
    last_heartbeat: f64,
    last_sample: f64,
    /// The session counter as last sampled, so a session's end sends
    /// what the meter interval held back.
    sampled_kwh: f64,
    firmware_failure_rate: f64,
    fault: Option<Fault>,
    pub configuration: Configuration,
    pub firmware_installs: u32,
    pub firmware_failures: u32,
    pub charged_kwh: f64,
    pub discharged_kwh: f64,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Charger {
    /// The charger's current access token.
    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn new(
        api: Api,
        sn: String,
        model: &'static Model,
        seed: u64,
        firmware_failure_rate: f64,
    ) -> Self {
        Self {
            api,
            sn,
            model,
            device_id: String::new(),
            secret: String::new(),
            firmware: "1.5.0".into(),
            site_id: None,
            token: String::new(),
            rng: fastrand::Rng::with_seed(seed),
            mode: Mode::Idle,
            session: None,
            fault_until: 0.0,
            limit: None,
            upgrade: None,
            seen: HashSet::new(),
            last_heartbeat: f64::NEG_INFINITY,
            last_sample: f64::NEG_INFINITY,
            sampled_kwh: 0.0,
            firmware_failure_rate,
            fault: None,
            configuration: Configuration {
                profile_id: None,
                version: None,
                heartbeat_interval_s: DEFAULT_HEARTBEAT_S,
                meter_interval_s: None,
                max_current_a: None,
            },
            firmware_installs: 0,
            firmware_failures: 0,
            charged_kwh: 0.0,
            discharged_kwh: 0.0,
        }
    }

    /// Makes this charger misbehave (`--anomalies`).
    pub fn misbehave(&mut self, kind: Option<Misbehaviour>) {
        self.fault = kind.map(Fault::new);
    }

    fn misbehaves(&self, kind: Misbehaviour) -> bool {
        self.fault.as_ref().is_some_and(|f| f.is(kind))
    }

    /// Registers, or reuses saved credentials (proving them on re-register
    /// if the server no longer accepts them).
    pub async fn enrol(&mut self, saved: Option<(String, String)>) -> Result<(), String> {
        if let Some((id, secret)) = saved {
            self.device_id = id;
            self.secret = secret;
            if self.authenticate().await.is_ok() {
                return Ok(());
            }
        }
        let mut body = json!({"sn": self.sn, "model": self.model.name,
            "manufacturer": "Tellus Power", "firmware_version": self.firmware});
        if !self.secret.is_empty() {
            body["device_secret"] = json!(self.secret);
        }
        let reg = self.api.post("/v1/device/register", None, &body).await;
        if reg.status != 200 {
            return Err(format!("register {}: {} {}", self.sn, reg.status, reg.body));
        }
        self.device_id = reg.data()["device_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.secret = reg.data()["device_secret"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.authenticate().await
    }

    async fn authenticate(&mut self) -> Result<(), String> {
        let body = json!({"device_id": self.device_id, "device_secret": self.secret,
            "grant_type": "client_credentials"});
        let auth = self.api.post("/v1/device/auth", None, &body).await;
        match auth.body["access_token"].as_str() {
            Some(token) if auth.status == 200 => {
                self.token = token.to_owned();
                Ok(())
            }
            _ => Err(format!("auth {}: {}", self.sn, auth.status)),
        }
    }

    /// A device call as chargers make them: a refused token is renewed
    /// once; a busy or unavailable service is retried with backoff by the
    /// API client. Every message is idempotent, so a retry never counts
    /// twice.
    async fn send(&mut self, path: &str, body: Value) -> Answer {
        let answer = self.attempt(path, &body).await;
        self.check(path, answer)
    }

    async fn attempt(&mut self, path: &str, body: &Value) -> Answer {
        let first = self.api.post(path, Some(&self.token), body).await;
        if first.status != 401 {
            return first;
        }
        if let Err(e) = self.authenticate().await {
            self.api.stats.unexpected(e);
            return first;
        }
        self.api.post(path, Some(&self.token), body).await
    }

    fn check(&self, path: &str, answer: Answer) -> Answer {
        if answer.status != 200 {
            self.api.stats.unexpected(format!(
                "{} {path}: {} {}",
                self.sn, answer.status, answer.body
            ));
        }
        answer
    }

    async fn event(&mut self, event_type: &str) {
        self.send(
            "/v1/device/events",
            json!({"timestamp": now(), "event_type": event_type, "connector_id": CONNECTOR, "data": {}}),
        )
        .await;
    }

    async fn report(&mut self, command_id: &str, status: &str) {
        let r = self
            .send(
                "/v1/device/command-status",
                json!({"command_id": command_id, "status": status, "timestamp": now()}),
            )
            .await;
        if r.status == 200 && status != "accepted" {
            self.api.stats.command_acknowledged();
        }
    }

    /// One simulated step of `dt` seconds at simulated time `t`.
    pub async fn tick(&mut self, t: f64, dt: f64, session_rate: f64, fault_rate: f64) {
        if self.fault.as_ref().is_some_and(Fault::silent_now) {
            return;
        }
        if self.heartbeat_due(t) {
            let hb = self
                .send(
                    "/v1/device/heartbeat",
                    json!({"timestamp": now(), "status": "online"}),
                )
                .await;
            if hb.status == 200 {
                self.api.stats.heartbeat_answered();
            }
            let commands: Vec<Value> = hb.data()["commands"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for cmd in commands {
                self.obey(cmd, t).await;
            }
        }
        self.advance_upgrade().await;
        if self.limit.is_some_and(|(_, until)| t >= until) {
            self.limit = None;
        }
        match self.mode {
            Mode::Fault if t >= self.fault_until => {
                self.event("fault_cleared").await;
                self.mode = Mode::Idle;
            }
            Mode::Fault => {}
            Mode::Idle => {
                if let Some(f) = self
                    .fault
                    .as_mut()
                    .filter(|f| f.is(Misbehaviour::FaultBurst) && t - f.last_burst >= BURST_EVERY_S)
                {
                    f.last_burst = t;
                    for _ in 0..BURST_FAULTS {
                        self.api.stats.fault();
                        self.event("fault").await;
                        self.event("fault_cleared").await;
                    }
                } else if self.rng.f64() < fault_rate * dt / 3600.0 {
                    self.api.stats.fault();
                    self.event("fault").await;
                    self.mode = Mode::Fault;
                    self.fault_until = t + 120.0;
                } else if self.rng.f64() < session_rate * dt / 3600.0 {
                    self.begin(None, None).await;
                }
            }
            Mode::Charging | Mode::Discharging => self.flow(t, dt).await,
        }
    }

    /// Whether the step at `t` sends a heartbeat, counting it as scheduled.
    fn heartbeat_due(&mut self, t: f64) -> bool {
        let due = t - self.last_heartbeat >= self.configuration.heartbeat_interval_s;
        if due {
            self.last_heartbeat = t;
            self.api.stats.heartbeat_scheduled();
        }
        due
    }

    /// A step the schedule held that the charger did not reach before the
    /// run ended (it fell behind): its heartbeat still counts as scheduled.
    pub fn missed(&mut self, t: f64) {
        self.heartbeat_due(t);
    }

    async fn begin(&mut self, limit_kw: Option<f64>, target_soc: Option<f64>) {
        self.event("plug_in").await;
        self.event("start").await;
        self.mode = Mode::Charging;
        let battery_kwh = 40.0 + self.rng.f64() * 40.0;
        self.session = Some(Session {
            record_id: uuid::Uuid::new_v4().to_string(),
            started: Utc::now(),
            counter_kwh: 0.0,
            max_kw: 0.0,
            soc: 10.0 + self.rng.f64() * 40.0,
            target_soc: target_soc.unwrap_or(80.0 + self.rng.f64() * 20.0),
            battery_kwh,
            reset_kwh: 0.0,
            discharge: None,
        });
        if let Some(kw) = limit_kw {
            self.limit = Some((kw, f64::INFINITY));
        }
    }

    /// Power flows for `dt` seconds; samples report the session counter.
    async fn flow(&mut self, t: f64, dt: f64) {
        let configured = self
            .configuration
            .max_current_a
            .map_or(self.model.max_kw, |a| a * self.model.kw_per_a);
        let limit = self
            .limit
            .map_or(self.model.max_kw, |(kw, _)| kw.min(self.model.max_kw))
            .min(configured);
        let stuck = self.misbehaves(Misbehaviour::StuckSession);
        let over = self.misbehaves(Misbehaviour::OverPower);
        let resets = self.misbehaves(Misbehaviour::CounterReset);
        let Some(s) = self.session.as_mut() else {
            self.mode = Mode::Idle;
            return;
        };
        let (state, power, done) = match s.discharge {
            Some((kw, until, floor)) => {
                let e = kw * dt / 3600.0;
                s.soc -= e / s.battery_kwh * 100.0;
                s.counter_kwh += e;
                ("discharging", kw, t >= until || s.soc <= floor)
            }
            None => {
                // Full power to 80 %, then a linear taper to a tenth at 100 %.
                let taper = if s.soc < 80.0 {
                    1.0
                } else {
                    1.0 - 0.9 * (s.soc - 80.0) / 20.0
                };
                let stalled = stuck
                    && (Utc::now() - s.started)
                        .to_std()
                        .is_ok_and(|d| d < STUCK_FOR);
                let kw = if stalled {
                    0.0
                } else {
                    (limit * taper).max(0.0)
                };
                let e = kw * dt / 3600.0;
                s.soc = (s.soc + e / s.battery_kwh * 100.0).min(100.0);
                s.counter_kwh += e;
                ("charging", kw, s.soc >= s.target_soc)
            }
        };
        s.max_kw = s.max_kw.max(power);
        if resets && s.reset_kwh == 0.0 && s.counter_kwh > RESET_AFTER_KWH {
            s.reset_kwh = s.counter_kwh;
        }
        let reported = if over {
            power.max(self.model.max_kw) * OVER_POWER
        } else {
            power
        };
        let body = json!({"timestamp": now(), "connector_id": CONNECTOR, "state": state,
            "voltage": 400, "current": power * 1000.0 / 400.0, "power": reported,
            "energy_delivered": s.counter_kwh - s.reset_kwh, "soc": s.soc});
        let counter = s.counter_kwh;
        let due = self
            .configuration
            .meter_interval_s
            .is_none_or(|every| t - self.last_sample >= every);
        if due || done {
            self.last_sample = t;
            self.sampled_kwh = counter;
            self.send("/v1/device/status", body).await;
        }
        if done {
            self.finish("soc_target_reached").await;
        }
    }

    /// Ends the session: stop, plug out, and the charge record.
    async fn finish(&mut self, reason: &str) {
        let Some(s) = self.session.take() else { return };
        // Energy the meter interval held back goes out before the stop.
        if s.counter_kwh > self.sampled_kwh {
            let state = if s.discharge.is_some() {
                "discharging"
            } else {
                "charging"
            };
            let body = json!({"timestamp": now(), "connector_id": CONNECTOR, "state": state,
                "voltage": 400, "current": 0, "power": 0,
                "energy_delivered": s.counter_kwh - s.reset_kwh, "soc": s.soc});
            self.send("/v1/device/status", body).await;
        }
        self.sampled_kwh = 0.0;
        self.mode = Mode::Idle;
        self.event("stop").await;
        self.event("plug_out").await;
        let discharging = s.discharge.is_some();
        if discharging {
            self.discharged_kwh += s.counter_kwh;
            self.api.stats.energy(0.0, s.counter_kwh);
        } else {
            self.charged_kwh += s.counter_kwh;
            self.api.stats.energy(s.counter_kwh, 0.0);
        }
        let cost = if discharging {
            0.0
        } else {
            s.counter_kwh * TARIFF_GBP_PER_KWH
        };
        let record = json!({"record_id": s.record_id, "connector_id": CONNECTOR,
            "start_time": s.started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "end_time": now(),
            "energy": s.counter_kwh, "max_power": s.max_kw, "cost": (cost * 100.0).round() / 100.0,
            "currency": "GBP", "stop_reason": reason});
        if self
            .send("/v1/device/charging-records", record)
            .await
            .status
            == 200
        {
            self.api.stats.charging_record();
        }
    }

    /// Carries out a delivered command (at most once per command id).
    async fn obey(&mut self, cmd: Value, t: f64) {
        let id = cmd["command_id"].as_str().unwrap_or_default().to_owned();
        if id.is_empty() || !self.seen.insert(id.clone()) {
            return;
        }
        self.api.stats.command_received();
        let kind = cmd["command"].as_str().unwrap_or_default().to_owned();
        let possible = match kind.as_str() {
            "start_charging" => self.mode == Mode::Idle,
            "start_discharging" => self.model.v2g && self.mode != Mode::Fault,
            "update_firmware" => self.upgrade.is_none(),
            "stop_charging"
            | "set_power_limit"
            | "set_schedule"
            | "reboot"
            | "apply_configuration" => true,
            _ => false,
        };
        if !possible {
            self.report(&id, "rejected").await;
            return;
        }
        self.report(&id, "accepted").await;
        match kind.as_str() {
            "start_charging" => {
                self.begin(cmd["charge_power"].as_f64(), cmd["target_soc"].as_f64())
                    .await;
            }
            "stop_charging" => self.finish("remote_stop").await,
            "start_discharging" => {
                if self.mode == Mode::Charging {
                    self.finish("remote_stop").await;
                }
                self.begin(None, None).await;
                if let Some(s) = self.session.as_mut() {
                    s.soc = s.soc.max(60.0);
                    s.discharge = Some((
                        cmd["discharge_power"]
                            .as_f64()
                            .unwrap_or(10.0)
                            .min(self.model.max_kw),
                        t + cmd["duration"].as_f64().unwrap_or(300.0),
                        cmd["min_soc"].as_f64().unwrap_or(20.0),
                    ));
                }
                self.mode = Mode::Discharging;
            }
            "set_power_limit" => {
                let kw = cmd["limit_kw"].as_f64().unwrap_or(self.model.max_kw);
                // Without a duration a limit holds until the next one.
                let until = cmd["duration_s"].as_f64().map_or(f64::INFINITY, |d| t + d);
                self.limit = Some((kw, until));
            }
            "set_schedule" => {
                let first = &cmd["schedule"]["periods"][0];
                if let Some(kw) = first["limit"].as_f64() {
                    self.limit = Some((kw, f64::INFINITY));
                }
            }
            "update_firmware" => {
                self.upgrade = Some(Upgrade {
                    command_id: id,
                    version: cmd["version"].as_str().unwrap_or("0").to_owned(),
                    step: 0,
                    fails: self.rng.f64() < self.firmware_failure_rate,
                });
                return;
            }
            "apply_configuration" => self.configure(&cmd),
            "reboot" => {
                self.finish("reboot").await;
                self.send(
                    "/v1/device/events",
                    json!({"timestamp": now(), "event_type": "boot", "data": {}}),
                )
                .await;
                let _ = self.authenticate().await;
            }
            _ => {}
        }
        self.report(&id, "completed").await;
    }

    /// Firmware: downloading with progress, installing, installed, then
    /// the new version runs.
    async fn advance_upgrade(&mut self) {
        let Some(up) = self.upgrade.as_mut() else {
            return;
        };
        up.step += 1;
        let (status, progress) = match up.step {
            1..=4 => ("downloading", Some((up.step - 1) * 33)),
            5 => ("downloaded", Some(100)),
            6 => ("installing", None),
            _ if up.fails => ("installation_failed", None),
            _ => ("installed", None),
        };
        let (version, command_id) = (up.version.clone(), up.command_id.clone());
        let mut body = json!({"firmware_version": version, "status": status});
        if let Some(p) = progress {
            body["progress"] = json!(p);
        }
        self.send("/v1/device/firmware/status", body).await;
        match status {
            "installed" => {
                self.upgrade = None;
                self.firmware = version;
                self.firmware_installs += 1;
                self.report(&command_id, "completed").await;
            }
            "installation_failed" => {
                self.upgrade = None;
                self.firmware_failures += 1;
                self.report(&command_id, "failed").await;
            }
            _ => {}
        }
    }

    /// Takes on a profile's settings: heartbeats, meter values and the
    /// current limit change from now on.
    fn configure(&mut self, cmd: &Value) {
        let settings = &cmd["settings"];
        let c = &mut self.configuration;
        c.profile_id = cmd["profile_id"].as_str().map(str::to_owned);
        c.version = cmd["version"].as_u64();
        if let Some(s) = settings["heartbeat_interval_s"].as_f64() {
            c.heartbeat_interval_s = s;
        }
        if let Some(s) = settings["meter_interval_s"].as_f64() {
            c.meter_interval_s = Some(s);
        }
        if let Some(a) = settings["max_current_a"].as_f64() {
            c.max_current_a = Some(a);
        }
    }

    /// Ends an open session so the run's totals are complete.
    pub async fn wind_down(&mut self) {
        if self.session.is_some() {
            self.finish("simulation_end").await;
        }
    }
}
