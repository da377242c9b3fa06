//! OCPP chargers for the fleet: each holds a WebSocket (OCPP-J 1.6 or
//! 2.0.1, its own wire code), boots, heartbeats at the interval it is
//! told, reports its connector, runs sessions started with the fleet's
//! cards or by the platform, sends meter values every simulated minute,
//! and obeys what the platform asks (remote start and stop, charging
//! profiles, configuration, firmware updates, resets).

use crate::stats::Stats;
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// How long a charger waits for the platform's answer.
const ANSWER_WAIT: Duration = Duration::from_secs(10);
/// Simulated seconds between two meter values of a session.
const METER_EVERY_S: f64 = 60.0;
/// A charger's power while charging (kW), and its one connector.
const POWER_KW: f64 = 7.4;
const CONNECTOR: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V16,
    V201,
}

impl Version {
    pub fn subprotocol(self) -> &'static str {
        match self {
            Self::V16 => "ocpp1.6",
            Self::V201 => "ocpp2.0.1",
        }
    }
}

type Waiting = Arc<Mutex<HashMap<String, oneshot::Sender<Result<Value, String>>>>>;

/// A charger's WebSocket: calls it makes (answers matched by id) and
/// calls the platform makes, with when each arrived.
struct Link {
    outbox: mpsc::UnboundedSender<Message>,
    waiting: Waiting,
    incoming: mpsc::UnboundedReceiver<(String, String, Value, Instant)>,
    next_id: u64,
    stats: Arc<Stats>,
}

fn frame_call(id: &str, action: &str, payload: &Value) -> Message {
    Message::Text(json!([2, id, action, payload]).to_string().into())
}

fn basic(id: &str, password: &str) -> String {
    let raw = format!("{id}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

impl Link {
    async fn open(
        url: &str,
        id: &str,
        password: &str,
        version: Version,
        stats: Arc<Stats>,
    ) -> Result<Self, String> {
        let mut request = format!("{url}/{id}")
            .into_client_request()
            .map_err(|e| format!("{id}: {e}"))?;
        let headers = request.headers_mut();
        headers.insert(
            "Sec-WebSocket-Protocol",
            version.subprotocol().parse().map_err(|_| "subprotocol")?,
        );
        headers.insert(
            "Authorization",
            basic(id, password).parse().map_err(|_| "authorization")?,
        );
        let started = Instant::now();
        // Each frame goes out at once (no Nagle delay, no write buffer): a
        // charger's messages are small and each waits for its answer; a
        // small read buffer lets one process hold thousands of chargers.
        let config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0);
        let (socket, response) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), true)
                .await
                .map_err(|e| format!("{id}: connect: {e}"))?;
        stats.request(
            "OCPP connect",
            response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0,
        );
        let (mut sink, mut stream) = socket.split();
        let (outbox, mut queued) = mpsc::unbounded_channel::<Message>();
        let (calls, incoming) = mpsc::unbounded_channel();
        let waiting: Waiting = Arc::default();
        tokio::spawn(async move {
            while let Some(message) = queued.recv().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
        });
        let answers = waiting.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(Value::Array(parts)) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let id = parts
                    .get(1)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                match parts.first().and_then(Value::as_u64) {
                    Some(2) => {
                        let action = parts
                            .get(2)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        let payload = parts.get(3).cloned().unwrap_or(Value::Null);
                        let _ = calls.send((id, action, payload, Instant::now()));
                    }
                    Some(kind @ (3 | 4)) => {
                        let waiter = answers
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .remove(&id);
                        if let Some(waiter) = waiter {
                            let answer = match kind {
                                3 => Ok(parts.get(2).cloned().unwrap_or(Value::Null)),
                                _ => Err(format!(
                                    "{} {}",
                                    parts.get(2).unwrap_or(&Value::Null),
                                    parts.get(3).unwrap_or(&Value::Null)
                                )),
                            };
                            let _ = waiter.send(answer);
                        }
                    }
                    _ => {}
                }
            }
        });
        Ok(Self {
            outbox,
            waiting,
            incoming,
            next_id: 0,
            stats,
        })
    }

    /// One call and its answer, counted and timed; an error answer or none
    /// in time is an unexpected error.
    async fn call(&mut self, action: &str, payload: Value) -> Option<Value> {
        self.next_id += 1;
        let id = format!("t{}", self.next_id);
        let (tx, rx) = oneshot::channel();
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), tx);
        let started = Instant::now();
        let route = format!("OCPP {action}");
        if self.outbox.send(frame_call(&id, action, &payload)).is_err() {
            self.stats.request(&route, 0, 0.0);
            self.stats
                .unexpected(format!("{route}: the connection closed"));
            return None;
        }
        let ms = || started.elapsed().as_secs_f64() * 1000.0;
        match tokio::time::timeout(ANSWER_WAIT, rx).await {
            Ok(Ok(Ok(answer))) => {
                self.stats.request(&route, 200, ms());
                Some(answer)
            }
            Ok(Ok(Err(error))) => {
                self.stats.request(&route, 500, ms());
                self.stats.unexpected(format!("{route}: CALLERROR {error}"));
                None
            }
            _ => {
                self.waiting
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&id);
                self.stats.request(&route, 0, ms());
                self.stats.unexpected(format!("{route}: no answer"));
                None
            }
        }
    }

    fn answer(&self, id: &str, payload: Value) {
        let _ = self
            .outbox
            .send(Message::Text(json!([3, id, payload]).to_string().into()));
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A session: its transaction, the card or the platform's tag, the
/// energy register at its start, and when it ends (simulated seconds).
struct Session {
    transaction: String,
    id_tag: String,
    start_wh: f64,
    ends_at: f64,
}

pub struct OcppCharger {
    pub id: String,
    pub device_id: String,
    pub version: Version,
    link: Link,
    rng: fastrand::Rng,
    cards: Vec<String>,
    register_wh: f64,
    session: Option<Session>,
    next_heartbeat: f64,
    /// The heartbeat interval the platform set (BootNotification, or a
    /// profile's configuration).
    pub heartbeat_s: f64,
    next_meter: f64,
    fault_until: Option<f64>,
    /// A firmware update: the version and the step reached.
    upgrade: Option<(String, u32)>,
    firmware_failure_rate: f64,
    seq: u32,
    pub firmware: String,
    pub charged_kwh: f64,
    pub firmware_installs: u32,
    pub firmware_failures: u32,
    /// When each remote start reached the charger, by its id tag (the
    /// benchmark's clock).
    pub remote_starts: Vec<(String, Instant)>,
    /// The power limit of the last charging profile, kW: a transaction's
    /// ends with it.
    limit_kw: Option<(f64, bool)>,
}

pub struct Enrolled {
    pub id: String,
    pub device_id: String,
    pub password: String,
}

impl OcppCharger {
    #[allow(clippy::too_many_arguments)]
    pub async fn connect(
        url: &str,
        who: Enrolled,
        version: Version,
        seed: u64,
        cards: Vec<String>,
        firmware_failure_rate: f64,
        stats: Arc<Stats>,
    ) -> Result<Self, String> {
        let link = Link::open(url, &who.id, &who.password, version, stats).await?;
        Ok(Self {
            id: who.id,
            device_id: who.device_id,
            version,
            link,
            rng: fastrand::Rng::with_seed(seed),
            cards,
            register_wh: 0.0,
            session: None,
            next_heartbeat: 0.0,
            heartbeat_s: 300.0,
            next_meter: 0.0,
            fault_until: None,
            upgrade: None,
            firmware_failure_rate,
            seq: 0,
            firmware: "1.0.0".into(),
            charged_kwh: 0.0,
            firmware_installs: 0,
            firmware_failures: 0,
            remote_starts: Vec::new(),
            limit_kw: None,
        })
    }

    /// BootNotification and the connector's first status.
    pub async fn boot(&mut self, t: f64) {
        let payload = match self.version {
            Version::V16 => json!({"chargePointVendor": "Twin", "chargePointModel": "Twin AC7",
                "chargePointSerialNumber": self.id, "firmwareVersion": self.firmware}),
            Version::V201 => json!({"reason": "PowerUp", "chargingStation": {"vendorName": "Twin",
                "model": "Twin AC7", "serialNumber": self.id, "firmwareVersion": self.firmware}}),
        };
        if let Some(answer) = self.link.call("BootNotification", payload).await {
            self.heartbeat_s = answer["interval"]
                .as_f64()
                .filter(|i| *i > 0.0)
                .unwrap_or(300.0);
        }
        self.next_heartbeat = t + self.heartbeat_s;
        self.status("Available").await;
    }

    async fn status(&mut self, status: &str) {
        let payload = match self.version {
            Version::V16 => {
                json!({"connectorId": CONNECTOR, "errorCode": if status == "Faulted" { "GroundFailure" } else { "NoError" },
                "status": status, "timestamp": now()})
            }
            Version::V201 => {
                let status = match status {
                    "Available" | "Faulted" | "Unavailable" => status,
                    _ => "Occupied",
                };
                json!({"timestamp": now(), "connectorStatus": status, "evseId": CONNECTOR, "connectorId": CONNECTOR})
            }
        };
        self.link.call("StatusNotification", payload).await;
    }

    fn meter(&self, power_kw: f64) -> Value {
        match self.version {
            Version::V16 => json!([{"timestamp": now(), "sampledValue": [
                {"value": format!("{:.0}", power_kw * 1000.0), "measurand": "Power.Active.Import", "unit": "W"},
                {"value": format!("{:.0}", self.register_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]),
            Version::V201 => json!([{"timestamp": now(), "sampledValue": [
                {"value": (power_kw * 1000.0).round(), "measurand": "Power.Active.Import"},
                {"value": self.register_wh.round(), "measurand": "Energy.Active.Import.Register"}]}]),
        }
    }

    fn tx_event(&mut self, kind: &str, trigger: &str, info: Value, extra: Value) -> Value {
        let mut event = json!({"eventType": kind, "timestamp": now(), "triggerReason": trigger,
            "seqNo": self.seq, "transactionInfo": info, "evse": {"id": CONNECTOR, "connectorId": CONNECTOR}});
        self.seq += 1;
        if let Value::Object(extra) = extra {
            for (k, v) in extra {
                event[k] = v;
            }
        }
        event
    }

    /// A session on the connector, with a card (local) or the platform's
    /// tag (remote start).
    async fn start(&mut self, t: f64, id_tag: String, remote_start_id: Option<i64>) {
        if self.session.is_some() || self.fault_until.is_some() {
            return;
        }
        let minutes = 30.0 + self.rng.f64() * 90.0;
        let transaction = match self.version {
            Version::V16 => {
                self.status("Preparing").await;
                let payload = json!({"connectorId": CONNECTOR, "idTag": id_tag,
                    "meterStart": self.register_wh.round() as i64, "timestamp": now()});
                let Some(answer) = self.link.call("StartTransaction", payload).await else {
                    return;
                };
                if answer["idTagInfo"]["status"] != "Accepted" {
                    self.link
                        .stats
                        .unexpected(format!("{}: {id_tag} not accepted: {answer}", self.id));
                }
                answer["transactionId"]
                    .as_i64()
                    .unwrap_or_default()
                    .to_string()
            }
            Version::V201 => {
                let transaction = format!("{}-{}", self.id, self.seq);
                let mut info = json!({"transactionId": transaction, "chargingState": "Charging"});
                if let Some(id) = remote_start_id {
                    info["remoteStartId"] = json!(id);
                }
                let trigger = if remote_start_id.is_some() {
                    "RemoteStart"
                } else {
                    "Authorized"
                };
                let kind = if remote_start_id.is_some() {
                    "Central"
                } else {
                    "ISO14443"
                };
                let meter = self.meter(0.0);
                let event = self.tx_event(
                    "Started",
                    trigger,
                    info,
                    json!({"idToken": {"idToken": id_tag, "type": kind}, "meterValue": meter}),
                );
                let answer = self.link.call("TransactionEvent", event).await;
                if answer.is_some_and(|a| a["idTokenInfo"]["status"] != "Accepted") {
                    self.link
                        .stats
                        .unexpected(format!("{}: {id_tag} not accepted", self.id));
                }
                transaction
            }
        };
        if self.version == Version::V16 {
            self.status("Charging").await;
        }
        self.session = Some(Session {
            transaction,
            id_tag,
            start_wh: self.register_wh,
            ends_at: t + minutes * 60.0,
        });
        self.next_meter = t + METER_EVERY_S;
    }

    async fn stop(&mut self, reason: &str) {
        let Some(session) = self.session.take() else {
            return;
        };
        if self
            .limit_kw
            .is_some_and(|(_, for_transaction)| for_transaction)
        {
            self.limit_kw = None;
        }
        self.charged_kwh += (self.register_wh - session.start_wh) / 1000.0;
        self.link
            .stats
            .energy((self.register_wh - session.start_wh) / 1000.0, 0.0);
        self.link.stats.charging_record();
        match self.version {
            Version::V16 => {
                let payload = json!({"transactionId": session.transaction.parse::<i64>().unwrap_or_default(),
                    "meterStop": self.register_wh.round() as i64, "timestamp": now(), "reason": reason,
                    "idTag": session.id_tag});
                self.link.call("StopTransaction", payload).await;
                self.status("Finishing").await;
                self.status("Available").await;
            }
            Version::V201 => {
                let meter = self.meter(0.0);
                let event = self.tx_event("Ended", "StopAuthorized",
                    json!({"transactionId": session.transaction, "stoppedReason": reason, "chargingState": "Idle"}),
                    json!({"meterValue": meter}));
                let answer = self.link.call("TransactionEvent", event).await;
                if let Some(cost) = answer.and_then(|a| a["totalCost"].as_f64()) {
                    self.link.stats.total_cost(cost);
                }
                self.status("Available").await;
            }
        }
    }

    /// One step of `dt` simulated seconds at simulated time `t`.
    pub async fn tick(&mut self, t: f64, dt: f64, session_rate: f64, fault_rate: f64) {
        if t >= self.next_heartbeat {
            self.link.stats.heartbeat_scheduled();
            if self.link.call("Heartbeat", json!({})).await.is_some() {
                self.link.stats.heartbeat_answered();
            }
            self.next_heartbeat = t + self.heartbeat_s;
        }
        self.advance_upgrade().await;
        if let Some(until) = self.fault_until {
            if t >= until {
                self.fault_until = None;
                self.status("Available").await;
            }
            return;
        }
        if self.rng.f64() < fault_rate * dt / 3600.0 {
            self.stop("Other").await;
            self.link.stats.fault();
            self.fault_until = Some(t + 120.0);
            self.status("Faulted").await;
            return;
        }
        if let Some(session) = &self.session {
            let power = self.power();
            self.register_wh += power * 1000.0 * dt / 3600.0;
            if t >= session.ends_at {
                let reason = match self.version {
                    Version::V16 => "EVDisconnected",
                    Version::V201 => "EVDisconnected",
                };
                self.stop(reason).await;
            } else if t >= self.next_meter {
                self.next_meter = t + METER_EVERY_S;
                let meter = self.meter(power);
                match self.version {
                    Version::V16 => {
                        let tx = session.transaction.parse::<i64>().unwrap_or_default();
                        self.link
                            .call("MeterValues", json!({"connectorId": CONNECTOR, "transactionId": tx, "meterValue": meter}))
                            .await;
                    }
                    Version::V201 => {
                        let info = json!({"transactionId": session.transaction, "chargingState": "Charging"});
                        let event = self.tx_event(
                            "Updated",
                            "MeterValuePeriodic",
                            info,
                            json!({"meterValue": meter}),
                        );
                        self.link.call("TransactionEvent", event).await;
                    }
                }
            }
        } else if !self.cards.is_empty() && self.rng.f64() < session_rate * dt / 3600.0 {
            let card = self.cards[self.rng.usize(..self.cards.len())].clone();
            let authorized = match self.version {
                Version::V16 => self
                    .link
                    .call("Authorize", json!({"idTag": card}))
                    .await
                    .map(|a| a["idTagInfo"]["status"].clone()),
                Version::V201 => self
                    .link
                    .call(
                        "Authorize",
                        json!({"idToken": {"idToken": card, "type": "ISO14443"}}),
                    )
                    .await
                    .map(|a| a["idTokenInfo"]["status"].clone()),
            };
            if authorized.as_ref().and_then(Value::as_str) == Some("Accepted") {
                self.start(t, card, None).await;
            } else {
                self.link.stats.unexpected(format!(
                    "{}: card {card} not accepted: {authorized:?}",
                    self.id
                ));
            }
        }
    }

    async fn advance_upgrade(&mut self) {
        let Some((version, step)) = self.upgrade.take() else {
            return;
        };
        let fails = self.rng.f64() < self.firmware_failure_rate;
        let status = match step {
            0 => "Downloading",
            1 => "Downloaded",
            2 => "Installing",
            _ if fails => "InstallationFailed",
            _ => "Installed",
        };
        self.link
            .call("FirmwareStatusNotification", json!({"status": status}))
            .await;
        match status {
            "Installed" => {
                self.firmware = version;
                self.firmware_installs += 1;
            }
            "InstallationFailed" => self.firmware_failures += 1,
            _ => self.upgrade = Some((version, step + 1)),
        }
    }

    /// Waits for the next step, answering the platform's calls meanwhile.
    pub async fn serve_until(&mut self, deadline: tokio::time::Instant, t: f64) {
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return,
                call = self.link.incoming.recv() => match call {
                    Some((id, action, payload, at)) => self.obey(&id, &action, &payload, at, t).await,
                    None => {
                        self.link.stats.unexpected(format!("{}: the connection closed", self.id));
                        tokio::time::sleep_until(deadline).await;
                        return;
                    }
                },
            }
        }
    }

    async fn obey(&mut self, id: &str, action: &str, payload: &Value, at: Instant, t: f64) {
        // A running cost is news, not a command.
        if action == "CostUpdated" && self.version == Version::V201 {
            self.link.stats.running_cost();
            self.link.answer(id, json!({}));
            return;
        }
        self.link.stats.command_received();
        let accepted = json!({"status": "Accepted"});
        match action {
            "RemoteStartTransaction" | "RequestStartTransaction" => {
                let tag = payload["idTag"]
                    .as_str()
                    .or_else(|| payload["idToken"]["idToken"].as_str())
                    .unwrap_or_default()
                    .to_owned();
                self.remote_starts.push((tag.clone(), at));
                let busy = self.session.is_some() || self.fault_until.is_some();
                self.link.answer(
                    id,
                    json!({"status": if busy { "Rejected" } else { "Accepted" }}),
                );
                if !busy {
                    self.start(t, tag, payload["remoteStartId"].as_i64()).await;
                }
            }
            "RemoteStopTransaction" | "RequestStopTransaction" => {
                self.link.answer(id, accepted);
                self.stop("Remote").await;
            }
            "SetChargingProfile" => {
                self.limit_kw = profile_limit(payload);
                self.link.answer(id, accepted);
            }
            "ChangeConfiguration" | "Reset" => {
                if action == "ChangeConfiguration" && payload["key"] == "HeartbeatInterval" {
                    self.heartbeat_s = payload["value"]
                        .as_str()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(self.heartbeat_s);
                }
                self.link.answer(id, accepted);
            }
            "SetVariables" => {
                let results: Vec<Value> = payload["setVariableData"].as_array().into_iter().flatten().map(|d| {
                    if d["variable"]["name"] == "HeartbeatInterval" {
                        self.heartbeat_s = d["attributeValue"].as_str().and_then(|v| v.parse().ok()).unwrap_or(self.heartbeat_s);
                    }
                    json!({"attributeStatus": "Accepted", "component": d["component"], "variable": d["variable"]})
                }).collect();
                self.link.answer(id, json!({"setVariableResult": results}));
            }
            "UpdateFirmware" => {
                let location = payload["location"]
                    .as_str()
                    .or_else(|| payload["firmware"]["location"].as_str())
                    .unwrap_or_default();
                // The image's name carries its version (`.../1.2.3.bin`).
                let version = location
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches(".bin")
                    .to_owned();
                self.upgrade = Some((version, 0));
                self.link.answer(
                    id,
                    match self.version {
                        Version::V16 => json!({}),
                        Version::V201 => accepted,
                    },
                );
            }
            _ => {
                let _ = self.link.outbox.send(Message::Text(
                    json!([
                        4,
                        id,
                        "NotImplemented",
                        format!("the Twin does not do {action}"),
                        {}
                    ])
                    .to_string()
                    .into(),
                ));
                return;
            }
        }
        self.link.stats.command_acknowledged();
    }
}

/// A charging profile's first limit in kW (a limit in A is three phases
/// at 230 V), and whether it is a transaction's.
fn profile_limit(payload: &Value) -> Option<(f64, bool)> {
    let profile = payload
        .get("csChargingProfiles")
        .or_else(|| payload.get("chargingProfile"))?;
    let schedule = match &profile["chargingSchedule"] {
        Value::Array(all) => all.first()?,
        one => one,
    };
    let limit = schedule["chargingSchedulePeriod"][0]["limit"].as_f64()?;
    let kw = match schedule["chargingRateUnit"].as_str() {
        Some("A") => limit * 3.0 * 230.0 / 1000.0,
        _ => limit / 1000.0,
    };
    Some((kw, profile["chargingProfilePurpose"] == "TxProfile"))
}

impl OcppCharger {
    /// What the car draws: the charger's rating, or the profile's limit.
    fn power(&self) -> f64 {
        self.limit_kw
            .map_or(POWER_KW, |(kw, _)| kw.clamp(0.0, POWER_KW))
    }

    /// One message of the charger's version, and its answer (benchmarks).
    pub async fn send(&mut self, action: &str, payload: Value) -> Option<Value> {
        self.link.call(action, payload).await
    }

    /// Waits for the platform's next call, obeys it, and says which action
    /// it was and when it arrived (for benchmarks).
    pub async fn obey_next(&mut self, t: f64, wait: Duration) -> Option<(String, Instant)> {
        let (id, action, payload, at) = tokio::time::timeout(wait, self.link.incoming.recv())
            .await
            .ok()??;
        self.obey(&id, &action, &payload, at, t).await;
        Some((action, at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profiles_limit_is_read_in_either_version_and_unit() {
        let v16 = json!({"connectorId": 1, "csChargingProfiles": {"chargingProfilePurpose": "TxProfile",
            "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}]}}});
        assert_eq!(profile_limit(&v16), Some((11.0, true)));
        let amps = json!({"connectorId": 1, "csChargingProfiles": {"chargingProfilePurpose": "TxDefaultProfile",
            "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}]}}});
        assert_eq!(profile_limit(&amps), Some((6.9, false)));
        let v201 = json!({"evseId": 1, "chargingProfile": {"chargingProfilePurpose": "TxProfile",
            "chargingSchedule": [{"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 3700.0}]}]}});
        assert_eq!(profile_limit(&v201), Some((3.7, true)));
        assert_eq!(profile_limit(&json!({})), None);
    }
}
