//! The gateway on the store (dynoxide, or the endpoint of
//! `TEST_DYNAMODB_ENDPOINT`): OCPP frames from a charger land in the same
//! fleet as `/v1/device/*`, and commands reach a connected charger at once
//! and are settled by its answers.

use async_trait::async_trait;
use domain::Domain;
use domain::admin::AdminCommand;
use domain::chargepoints::{Charger, NewChargePoint};
use domain::commands::dispatch::QueuedCommand;
use domain::commands::params::{StartCharging, StartDischarging, StopCharging};
use domain::commands::{CommandParams, LineAddress};
use domain::console::{Paging, RecordFilter};
use domain::idtags::{IdTagChange, IdTagStatus, NewIdTag};
use domain::storage::ports::*;
use kernel::Clock;
use kernel::access::Caller;
use kernel::ids::{ConnectorId, DeviceId, OperatorId};
use kernel::model::{CommandStatus, ConnectorState, Role};
use ocpp::Version;
use ocpp_gateway::{Connection, Reply};
use ocpp_link::{Gone, OcppLine, Transport};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use testkit::TestEnv;

fn admin() -> Caller {
    Caller {
        client_id: "test-admin".into(),
        role: Role::Admin,
        operators: vec![],
    }
}

fn operator(op: &OperatorId, role: Role) -> Caller {
    Caller {
        client_id: format!("{op}-client"),
        role,
        operators: vec![op.clone()],
    }
}

/// A transport that holds one connection and keeps the frames sent on it.
#[derive(Default)]
struct Wire {
    connection_id: Mutex<Option<String>>,
    sent: Mutex<Vec<Value>>,
}

#[async_trait]
impl Transport for Wire {
    async fn post(&self, to: &LineAddress, _: &str, frame: String) -> Result<(), Gone> {
        let open = self.connection_id.lock().unwrap().clone();
        if open.as_deref() != Some(to.connection.connection_id.as_str()) {
            return Err(Gone);
        }
        self.sent
            .lock()
            .unwrap()
            .push(serde_json::from_str(&frame).unwrap());
        Ok(())
    }

    async fn close(&self, _: &LineAddress) {}
}

struct Station {
    domain: Domain,
    wire: Arc<Wire>,
    connection: Arc<Connection>,
    device_id: DeviceId,
    id: String,
    password: String,
}

impl Station {
    /// A provisioned charge point, logged in and connected over `version`.
    async fn connect(env: &TestEnv, version: Version) -> Self {
        let wire = Arc::new(Wire::default());
        let line = OcppLine::new(
            Arc::new(env.store.clone()),
            env.domain.clock.clone(),
            wire.clone(),
        );
        let domain = env.domain.clone().with_charger_line(Arc::new(line));
        let id = format!("CP-{}", &uuid_like());
        let provisioned = domain
            .charge_points
            .provision_charge_point(
                &admin(),
                NewChargePoint {
                    charge_point_id: id.clone(),
                    operator_id: None,
                    site_id: None,
                    model: None,
                    manufacturer: None,
                },
                "ws://test/ocpp".into(),
            )
            .await
            .unwrap();
        let password = provisioned.password.expose().clone();
        let charger = domain
            .charge_points
            .charge_point_login(&id, Some(&password), "192.0.2.7")
            .await
            .unwrap();
        let connection = Arc::new(Connection::new(charger.clone(), version, "conn-1".into()));
        *wire.connection_id.lock().unwrap() = Some("conn-1".into());
        domain
            .charge_points
            .charger_connected(&charger, version.subprotocol(), "conn-1")
            .await
            .unwrap();
        Self {
            domain,
            wire,
            connection,
            device_id: provisioned.device_id,
            id,
            password,
        }
    }

    fn charger(&self) -> &Charger {
        &self.connection.charger
    }

    /// Sends a CALL and returns the answer frame.
    async fn call(&self, action: &str, payload: Value) -> Value {
        let frame = json!([2, "m", action, payload]).to_string();
        match self.connection.on_text(&self.domain, &frame).await {
            Reply::Send(text) => serde_json::from_str(&text).unwrap(),
            other => panic!("{action} was answered with {other:?}"),
        }
    }

    /// Answers the platform's call `id` with `payload`.
    async fn answer(&self, id: &str, payload: Value) {
        let frame = json!([3, id, payload]).to_string();
        assert_eq!(
            self.connection.on_text(&self.domain, &frame).await,
            Reply::Nothing
        );
    }

    /// The console's remote start on connector 1, as an admin asks it.
    async fn remote_start(&self) -> QueuedCommand {
        self.domain
            .commands
            .queue_connector_command(
                &admin(),
                self.device_id,
                one(),
                CommandParams::StartCharging(StartCharging::default()),
                None,
            )
            .await
            .unwrap()
    }

    fn sent(&self) -> Vec<Value> {
        self.wire.sent.lock().unwrap().clone()
    }
}

fn uuid_like() -> String {
    kernel::secret::new_secret().unwrap()[..12].to_owned()
}

fn now(env: &TestEnv) -> String {
    env.now()
}

fn one() -> ConnectorId {
    ConnectorId::new(1).unwrap()
}

async fn status(env: &TestEnv, command: &str) -> CommandStatus {
    let id = kernel::ids::CommandId::parse(command).unwrap();
    env.store.get_command(id).await.unwrap().unwrap().status
}

#[tokio::test]
async fn a_16_session_lands_in_the_fleet_and_a_repeated_stop_makes_one_record() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    let boot = s
        .call("BootNotification", json!({"chargePointVendor": "Acme", "chargePointModel": "AC22", "firmwareVersion": "2.0.1"}))
        .await;
    assert_eq!(boot[2]["status"], "Accepted");
    assert_eq!(boot[2]["interval"], 300);
    let device = env.store.get_device(s.device_id).await.unwrap().unwrap();
    assert_eq!(
        (device.model.as_str(), device.manufacturer.as_str()),
        ("AC22", "Acme")
    );
    assert_eq!(device.firmware_version.as_str(), "2.0.1");

    // A heartbeat is one write, like an HTTP charger's.
    env.counter.reset();
    let beat = s.call("Heartbeat", json!({})).await;
    assert!(beat[2]["currentTime"].is_string());
    assert_eq!(env.counter.total(), 1, "{:?}", env.counter.snapshot());

    let start = s
        .call("StartTransaction", json!({"connectorId": 1, "idTag": "LOCAL1", "meterStart": 1000, "timestamp": now(&env)}))
        .await;
    assert_eq!(start[2]["idTagInfo"]["status"], "Invalid", "an unknown tag");
    let tx = start[2]["transactionId"].as_i64().unwrap();
    assert!(tx > 0);
    s.call("MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": now(&env), "sampledValue": [
        {"value": "11", "measurand": "Power.Active.Import", "unit": "kW"},
        {"value": "4000", "measurand": "Energy.Active.Import.Register"}]}]}))
        .await;
    let device = env.store.get_device(s.device_id).await.unwrap().unwrap();
    let c = &device.connectors[&one()];
    assert_eq!(c.state, ConnectorState::Charging);
    assert_eq!((c.power, c.energy_delivered), (11.0, 3.0));

    env.clock.advance(chrono::Duration::seconds(5));
    for _ in 0..2 {
        let stop = s
            .call("StopTransaction", json!({"meterStop": 9000, "timestamp": now(&env), "transactionId": tx, "reason": "EVDisconnected"}))
            .await;
        assert_eq!(stop[0], 3);
    }
    let records = env
        .domain
        .console
        .list_records(
            &admin(),
            Default::default(),
            Paging::parse(None, None).unwrap(),
        )
        .await
        .unwrap();
    let mine: Vec<_> = records
        .items
        .iter()
        .filter(|r| r.device_id == s.device_id)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].energy, 8.0);
    assert_eq!(mine[0].max_power, Some(11.0));
    assert_eq!(mine[0].stop_reason.as_deref(), Some("ev_disconnected"));
    assert_eq!(
        mine[0].authorization.as_deref(),
        Some("invalid"),
        "a session on a refused card is kept, and marked"
    );
    // The last interval (4,000 to 9,000 Wh, after the last meter value)
    // reaches the energy totals too.
    let counted = energy_counted(&env, &s).await;
    assert!((counted - 8.0).abs() < 1e-9, "counted {counted} kWh");
}

#[tokio::test]
async fn a_remote_start_is_sent_at_once_and_settled_by_the_answer_and_the_transaction() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V201).await;
    let queued = s.remote_start().await;
    let sent = s.sent();
    assert_eq!(sent.len(), 1);
    let call = &sent[0];
    assert_eq!(
        (call[0].as_i64(), call[2].as_str()),
        (Some(2), Some("RequestStartTransaction"))
    );
    assert_eq!(call[1], queued.command_id.to_string());
    assert_eq!(call[3]["evseId"], 1);
    let command = queued.command_id.to_string();
    assert_eq!(status(&env, &command).await, CommandStatus::Delivered);

    // The transaction may start before the answer arrives.
    let token = call[3]["idToken"]["idToken"].as_str().unwrap().to_owned();
    let started = s
        .call("TransactionEvent", json!({
            "eventType": "Started", "timestamp": now(&env), "triggerReason": "RemoteStart", "seqNo": 0,
            "transactionInfo": {"transactionId": "T-9", "remoteStartId": call[3]["remoteStartId"], "chargingState": "Charging"},
            "evse": {"id": 1, "connectorId": 1},
            "idToken": {"idToken": token.to_lowercase(), "type": "Central"}}))
        .await;
    assert_eq!(started[2]["idTokenInfo"]["status"], "Accepted");
    assert_eq!(status(&env, &command).await, CommandStatus::Completed);
    s.answer(&command, json!({"status": "Accepted"})).await;
    let history: Vec<CommandStatus> = env
        .store
        .get_command(queued.command_id)
        .await
        .unwrap()
        .unwrap()
        .history
        .iter()
        .map(|h| h.status)
        .collect();
    assert_eq!(
        history,
        [
            CommandStatus::Queued,
            CommandStatus::Delivered,
            CommandStatus::Accepted,
            CommandStatus::Completed
        ]
    );

    // A stop names the connector's transaction; a CALLERROR fails it.
    let stop = s
        .domain
        .commands
        .queue_connector_command(
            &admin(),
            s.device_id,
            one(),
            CommandParams::StopCharging(StopCharging::default()),
            None,
        )
        .await
        .unwrap();
    let call = s.sent().last().cloned().unwrap();
    assert_eq!(call[2], "RequestStopTransaction");
    assert_eq!(call[3]["transactionId"], "T-9");
    let frame = json!([4, stop.command_id.to_string(), "InternalError", "busy", {}]).to_string();
    assert_eq!(
        s.connection.on_text(&s.domain, &frame).await,
        Reply::Nothing
    );
    let failed = env
        .store
        .get_command(stop.command_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.status, CommandStatus::Failed);
    assert!(
        failed
            .history
            .last()
            .unwrap()
            .message
            .as_deref()
            .unwrap()
            .contains("InternalError")
    );
}

#[tokio::test]
async fn an_answer_nobody_waits_for_changes_nothing_and_overdue_calls_fail() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    s.answer("no-such-call", json!({"status": "Accepted"}))
        .await;
    let reboot = s
        .domain
        .admin
        .queue_admin_command(
            &admin(),
            AdminCommand {
                device_id: s.device_id,
                connector_id: None,
                params: CommandParams::Reboot(Default::default()),
            },
        )
        .await
        .unwrap();
    let call = s.sent().last().cloned().unwrap();
    assert_eq!(
        (call[2].as_str(), call[3]["type"].as_str()),
        (Some("Reset"), Some("Soft"))
    );
    ocpp_link::answers::overdue(&s.domain, s.charger(), &reboot.command_id.to_string()).await;
    let failed = env
        .store
        .get_command(reboot.command_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.status, CommandStatus::Failed);
    // A late answer after that changes nothing.
    s.answer(
        &reboot.command_id.to_string(),
        json!({"status": "Accepted"}),
    )
    .await;
    assert_eq!(
        status(&env, &reboot.command_id.to_string()).await,
        CommandStatus::Failed
    );
}

#[tokio::test]
async fn commands_a_charge_point_cannot_take_are_refused_before_queueing() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    let discharge = CommandParams::StartDischarging(StartDischarging {
        discharge_power: 5.0,
        duration: 60,
        min_soc: 20.0,
    });
    let refused = s
        .domain
        .commands
        .queue_connector_command(&admin(), s.device_id, one(), discharge, None)
        .await
        .unwrap_err();
    assert!(matches!(refused, kernel::Error::Invalid(_)), "{refused:?}");
    let refused = s
        .domain
        .commands
        .queue_connector_command(
            &admin(),
            s.device_id,
            one(),
            CommandParams::StopCharging(StopCharging::default()),
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(refused, kernel::Error::Conflict(_)),
        "no transaction: {refused:?}"
    );

    s.domain
        .charge_points
        .charger_disconnected(s.charger(), "conn-1")
        .await
        .unwrap();
    let start = CommandParams::StartCharging(StartCharging::default());
    let refused = s
        .domain
        .commands
        .queue_connector_command(&admin(), s.device_id, one(), start, None)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, kernel::Error::Conflict(_)),
        "not connected: {refused:?}"
    );
    assert!(s.sent().is_empty());
    // Still online for 90 s after the connection ended, then offline.
    let device = env.store.get_device(s.device_id).await.unwrap().unwrap();
    let after = s.domain.settings.offline_after();
    assert!(device.is_online(env.clock.now(), after));
    assert!(!device.is_online(env.clock.now() + chrono::Duration::seconds(91), after));
}

#[tokio::test]
async fn a_connection_is_online_however_long_it_is_silent_and_a_newer_one_replaces_it() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V201).await;
    let later = env.clock.now() + chrono::Duration::minutes(10);
    let device = env.store.get_device(s.device_id).await.unwrap().unwrap();
    assert!(device.is_online(later, s.domain.settings.offline_after()));
    // A connection whose end was never recorded (a crashed server) stops
    // counting once the charger has been silent for two hours.
    let stale = env.clock.now() + kernel::model::CONNECTION_SILENCE + chrono::Duration::minutes(1);
    assert!(!device.is_online(stale, s.domain.settings.offline_after()));

    s.domain
        .charge_points
        .charger_connected(s.charger(), "ocpp2.0.1", "conn-2")
        .await
        .unwrap();
    // The older connection's end does not end the newer one.
    s.domain
        .charge_points
        .charger_disconnected(s.charger(), "conn-1")
        .await
        .unwrap();
    let device = env.store.get_device(s.device_id).await.unwrap().unwrap();
    assert_eq!(device.connection.unwrap().connection_id, "conn-2");
}

#[tokio::test]
async fn a_rotated_password_ends_the_old_credentials() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    env.clock.advance(chrono::Duration::milliseconds(5));
    let rotated = s
        .domain
        .charge_points
        .rotate_charge_point_password(&admin(), &s.id, "ws://test/ocpp".into())
        .await
        .unwrap();
    assert_ne!(rotated.password.expose(), &s.password);
    let old = s
        .domain
        .charge_points
        .charge_point_login(&s.id, Some(&s.password), "192.0.2.7")
        .await;
    assert!(matches!(old, Err(kernel::Error::Unauthorized(_))));
    let frame = json!([2, "h", "Heartbeat", {}]).to_string();
    assert!(matches!(
        s.connection.on_text(&s.domain, &frame).await,
        Reply::Close(_)
    ));
    s.domain
        .charge_points
        .charge_point_login(&s.id, Some(rotated.password.expose()), "192.0.2.7")
        .await
        .unwrap();
}

#[tokio::test]
async fn another_tenant_sees_no_charge_point_and_viewers_cannot_provision() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    let other = env.operator("other-net").await;
    let seen = s
        .domain
        .charge_points
        .charge_point(&operator(&other, Role::Operator), &s.id, "ws://test/ocpp")
        .await;
    assert!(matches!(seen, Err(kernel::Error::NotFound(_))), "{seen:?}");
    let listed = s
        .domain
        .charge_points
        .charge_points(
            &operator(&other, Role::Operator),
            Default::default(),
            Paging::parse(None, None).unwrap(),
            "ws://test/ocpp",
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 0);
    let new = NewChargePoint {
        charge_point_id: "VIEWER-1".into(),
        operator_id: None,
        site_id: None,
        model: None,
        manufacturer: None,
    };
    let refused = s
        .domain
        .charge_points
        .provision_charge_point(
            &operator(&other, Role::Viewer),
            new,
            "ws://test/ocpp".into(),
        )
        .await;
    assert!(
        matches!(refused, Err(kernel::Error::Forbidden(_))),
        "{refused:?}"
    );
    // The owner's view carries the connection.
    let mine = s
        .domain
        .charge_points
        .charge_point(&admin(), &s.id, "ws://test/ocpp")
        .await
        .unwrap();
    assert!(mine.connected);
    assert_eq!(mine.protocol.as_deref(), Some("ocpp1.6"));
}

fn new_tag(
    tag: &str,
    status: IdTagStatus,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> NewIdTag {
    NewIdTag {
        id_tag: tag.into(),
        label: Some("fleet card".into()),
        status,
        expires_at,
        operator_id: None,
    }
}

#[tokio::test]
async fn driver_tokens_answer_authorize_by_status_case_expiry_and_tenant() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    let now = env.clock.now();
    for (tag, status, expiry) in [
        ("04AABB01", IdTagStatus::Accepted, None),
        ("04AABB02", IdTagStatus::Blocked, None),
        (
            "04AABB03",
            IdTagStatus::Accepted,
            Some(now - chrono::Duration::seconds(1)),
        ),
        (
            "04AABB04",
            IdTagStatus::Accepted,
            Some(now + chrono::Duration::days(30)),
        ),
    ] {
        s.domain
            .id_tags
            .create_id_tag(&admin(), new_tag(tag, status, expiry))
            .await
            .unwrap();
    }
    // Another tenant's card is unknown here.
    let other = env.operator("other-cards").await;
    s.domain
        .id_tags
        .create_id_tag(
            &operator(&other, Role::Operator),
            new_tag("04CCDD01", IdTagStatus::Accepted, None),
        )
        .await
        .unwrap();
    let authorize = |tag: &'static str| {
        let s = &s;
        async move { s.call("Authorize", json!({"idTag": tag})).await[2]["idTagInfo"]["status"].clone() }
    };
    assert_eq!(
        authorize("04aabb01").await,
        "Accepted",
        "case does not matter"
    );
    assert_eq!(authorize("04AABB02").await, "Blocked");
    assert_eq!(authorize("04AABB03").await, "Expired");
    assert_eq!(authorize("04AABB04").await, "Accepted");
    assert_eq!(authorize("04CCDD01").await, "Invalid");
    assert_eq!(authorize("NOSUCHCARD").await, "Invalid");

    // An Authorize of a known card is one read.
    env.counter.reset();
    authorize("04AABB01").await;
    assert_eq!(env.counter.total(), 1, "{:?}", env.counter.snapshot());

    // A block holds from the very next Authorize.
    let block = IdTagChange {
        status: Some(IdTagStatus::Blocked),
        ..IdTagChange::default()
    };
    s.domain
        .id_tags
        .change_id_tag(&admin(), "04AaBb01", block)
        .await
        .unwrap();
    assert_eq!(authorize("04AABB01").await, "Blocked");
    // A viewer reads but cannot change; the other tenant does not see it.
    let op = s.domain.settings.default_operator.clone();
    let viewer = operator(&op, Role::Viewer);
    assert!(s.domain.id_tags.id_tag(&viewer, "04aabb01").await.is_ok());
    let refused = s
        .domain
        .id_tags
        .change_id_tag(&viewer, "04AABB01", IdTagChange::default())
        .await;
    assert!(
        matches!(refused, Err(kernel::Error::Forbidden(_))),
        "{refused:?}"
    );
    let hidden = s
        .domain
        .id_tags
        .id_tag(&operator(&other, Role::Operator), "04AABB01")
        .await;
    assert!(
        matches!(hidden, Err(kernel::Error::NotFound(_))),
        "{hidden:?}"
    );
    let twice = s
        .domain
        .id_tags
        .create_id_tag(&admin(), new_tag("04aabb04", IdTagStatus::Accepted, None))
        .await;
    assert!(
        matches!(twice, Err(kernel::Error::Conflict(_))),
        "{twice:?}"
    );
    s.domain
        .id_tags
        .delete_id_tag(&admin(), "04AABB04")
        .await
        .unwrap();
    assert_eq!(authorize("04AABB04").await, "Invalid");
}

#[tokio::test]
async fn a_session_started_with_a_card_records_it_and_a_remote_start_does_not() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V201).await;
    s.domain
        .id_tags
        .create_id_tag(&admin(), new_tag("CARD-7", IdTagStatus::Accepted, None))
        .await
        .unwrap();
    let event = |kind: &str, seq: u32, extra: Value| {
        let mut e = json!({"eventType": kind, "timestamp": env.now(), "triggerReason": "Authorized", "seqNo": seq,
            "transactionInfo": {"transactionId": "card-tx"}, "evse": {"id": 1, "connectorId": 1}});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    let started = s
        .call(
            "TransactionEvent",
            event(
                "Started",
                0,
                json!({"idToken": {"idToken": "card-7", "type": "ISO14443"},
            "meterValue": [{"timestamp": env.now(), "sampledValue": [{"value": 100.0}]}]}),
            ),
        )
        .await;
    assert_eq!(started[2]["idTokenInfo"]["status"], "Accepted");
    env.clock.advance(chrono::Duration::minutes(30));
    s.call(
        "TransactionEvent",
        event(
            "Ended",
            1,
            json!({"meterValue": [{"timestamp": env.now(), "sampledValue": [{"value": 7100.0}]}]}),
        ),
    )
    .await;
    let filter = RecordFilter {
        id_tag: Some("CARD-7".into()),
        ..RecordFilter::default()
    };
    let records = s
        .domain
        .console
        .list_records(&admin(), filter, Paging::parse(None, None).unwrap())
        .await
        .unwrap();
    assert_eq!(records.total, 1);
    assert_eq!(records.items[0].id_tag.as_deref(), Some("card-7"));
    assert_eq!(records.items[0].energy, 7.0);
    let none = RecordFilter {
        id_tag: Some("CARD-8".into()),
        ..RecordFilter::default()
    };
    let records = s
        .domain
        .console
        .list_records(&admin(), none, Paging::parse(None, None).unwrap())
        .await
        .unwrap();
    assert_eq!(records.total, 0);
}

#[tokio::test]
async fn wrong_passwords_are_throttled_and_the_right_one_always_passes() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    let limit = s.domain.settings.auth_failure_limit.attempts;
    let mut refusals = Vec::new();
    for _ in 0..=limit {
        let wrong = s
            .domain
            .charge_points
            .charge_point_login(&s.id, Some("0000"), "203.0.113.9")
            .await;
        refusals.push(match wrong {
            Err(kernel::Error::Unauthorized(_)) => 401,
            Err(kernel::Error::RateLimited { .. }) => 429,
            other => panic!("{other:?}"),
        });
    }
    assert_eq!(refusals.first(), Some(&401));
    assert_eq!(refusals.last(), Some(&429), "{refusals:?}");
    // The charger behind the same address still connects.
    s.domain
        .charge_points
        .charge_point_login(&s.id, Some(&s.password), "203.0.113.9")
        .await
        .unwrap();
    // Another address is not throttled.
    let elsewhere = s
        .domain
        .charge_points
        .charge_point_login(&s.id, Some("0000"), "198.51.100.4")
        .await;
    assert!(
        matches!(elsewhere, Err(kernel::Error::Unauthorized(_))),
        "{elsewhere:?}"
    );
}

#[tokio::test]
async fn a_2_0_1_charging_state_moves_the_connector_when_it_changed() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V201).await;
    let event = |kind: &str, seq: u32, trigger: &str, state: &str| {
        json!({"eventType": kind, "timestamp": env.now(), "triggerReason": trigger, "seqNo": seq,
            "transactionInfo": {"transactionId": "st-1", "chargingState": state},
            "evse": {"id": 1, "connectorId": 1}})
    };
    s.call(
        "TransactionEvent",
        event("Started", 0, "CablePluggedIn", "EVConnected"),
    )
    .await;
    let state = || async {
        env.store
            .get_device(s.device_id)
            .await
            .unwrap()
            .unwrap()
            .connectors[&one()]
            .state
    };
    assert_eq!(state().await, ConnectorState::Preparing);
    env.clock.advance(chrono::Duration::seconds(1));
    s.call(
        "TransactionEvent",
        event("Updated", 1, "ChargingStateChanged", "Charging"),
    )
    .await;
    assert_eq!(state().await, ConnectorState::Charging);
    env.clock.advance(chrono::Duration::seconds(1));
    s.call(
        "TransactionEvent",
        event("Updated", 2, "ChargingStateChanged", "SuspendedEV"),
    )
    .await;
    assert_eq!(state().await, ConnectorState::Suspended);
    // A periodic event repeating the state writes nothing; one naming
    // another state moves the connector, whatever its trigger.
    let version = || async {
        env.store
            .get_device(s.device_id)
            .await
            .unwrap()
            .unwrap()
            .connectors[&one()]
            .version
    };
    let before = version().await;
    env.clock.advance(chrono::Duration::seconds(1));
    s.call(
        "TransactionEvent",
        event("Updated", 3, "MeterValuePeriodic", "SuspendedEV"),
    )
    .await;
    assert_eq!(version().await, before);
    s.call(
        "TransactionEvent",
        event("Updated", 4, "RemoteStop", "EVConnected"),
    )
    .await;
    assert_eq!(state().await, ConnectorState::Preparing);
}

#[tokio::test]
async fn a_fault_or_pause_inside_a_transaction_counts_no_energy_twice() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    let start = s
        .call(
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "LOCAL2", "meterStart": 0, "timestamp": env.now()}),
        )
        .await;
    let tx = start[2]["transactionId"].as_i64().unwrap();
    let meter = |wh: u32| {
        json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": env.now(), "sampledValue": [
            {"value": wh.to_string(), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]})
    };
    env.clock.advance(chrono::Duration::seconds(60));
    s.call("MeterValues", meter(10_000)).await;
    for status in ["Faulted", "Charging", "SuspendedEV", "Charging"] {
        env.clock.advance(chrono::Duration::seconds(5));
        s.call("StatusNotification", json!({"connectorId": 1, "errorCode": "NoError", "status": status, "timestamp": env.now()}))
            .await;
    }
    env.clock.advance(chrono::Duration::seconds(60));
    s.call("MeterValues", meter(10_500)).await;
    let op = s.domain.settings.default_operator.clone();
    let now = env.clock.now();
    let hours = env
        .store
        .energy_hours(
            &op,
            domain::telemetry::EnergyScope::Device(s.device_id),
            domain::telemetry::energy::hour_of(now - chrono::Duration::hours(2)),
            domain::telemetry::energy::hour_of(now),
        )
        .await
        .unwrap();
    let charged: f64 = hours.iter().map(|h| h.charge_energy).sum();
    assert!(
        (charged - 10.5).abs() < 1e-6,
        "counted {charged} kWh for a 10.5 kWh session"
    );
}

#[tokio::test]
async fn a_retried_1_6_start_gets_its_transaction_back_and_the_platform_tag_stays_accepted() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    let queued = s.remote_start().await;
    let call = s.sent().last().cloned().unwrap();
    let tag = call[3]["idTag"].as_str().unwrap().to_owned();
    s.answer(
        &queued.command_id.to_string(),
        json!({"status": "Accepted"}),
    )
    .await;
    let start = json!({"connectorId": 1, "idTag": tag, "meterStart": 250, "timestamp": env.now()});
    let first = s.call("StartTransaction", start.clone()).await;
    // The answer was lost: the charger sends the same start again.
    let again = s.call("StartTransaction", start).await;
    assert_eq!(first[2]["transactionId"], again[2]["transactionId"]);
    assert_eq!(again[2]["idTagInfo"]["status"], "Accepted");
    let stop = s
        .call("StopTransaction", json!({"meterStop": 1250, "timestamp": env.now(), "transactionId": first[2]["transactionId"], "idTag": tag}))
        .await;
    assert_eq!(
        stop[2]["idTagInfo"]["status"], "Accepted",
        "the platform's tag, for its session"
    );
    let records = s
        .domain
        .console
        .list_records(
            &admin(),
            RecordFilter::default(),
            Paging::parse(None, None).unwrap(),
        )
        .await
        .unwrap();
    let mine: Vec<_> = records
        .items
        .iter()
        .filter(|r| r.device_id == s.device_id)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].energy, 1.0);
}

#[tokio::test]
async fn a_2_0_1_remote_start_joining_a_running_transaction_completes_and_a_late_card_is_recorded()
{
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V201).await;
    let event = |kind: &str, seq: u32, tx: &str, extra: Value| {
        let mut e = json!({"eventType": kind, "timestamp": env.now(), "triggerReason": "CablePluggedIn", "seqNo": seq,
            "transactionInfo": {"transactionId": tx, "chargingState": "EVConnected"},
            "evse": {"id": 1, "connectorId": 1}});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    // Cable first, then the console's start, which the station attaches
    // to the transaction it opened.
    s.call(
        "TransactionEvent",
        event("Started", 0, "cable-1", json!({})),
    )
    .await;
    let queued = s.remote_start().await;
    let call = s.sent().last().cloned().unwrap();
    let mut joined = event(
        "Updated",
        1,
        "cable-1",
        json!({"idToken": call[3]["idToken"]}),
    );
    joined["transactionInfo"]["remoteStartId"] = call[3]["remoteStartId"].clone();
    joined["triggerReason"] = json!("RemoteStart");
    let answer = s.call("TransactionEvent", joined).await;
    assert_eq!(answer[2]["idTokenInfo"]["status"], "Accepted");
    assert_eq!(
        status(&env, &queued.command_id.to_string()).await,
        CommandStatus::Completed
    );

    // Cable first, then a driver's card: the session records the card.
    s.domain
        .id_tags
        .create_id_tag(&admin(), new_tag("LATE-CARD", IdTagStatus::Accepted, None))
        .await
        .unwrap();
    s.call("TransactionEvent", event("Ended", 2, "cable-1", json!({})))
        .await;
    s.call(
        "TransactionEvent",
        event("Started", 3, "cable-2", json!({})),
    )
    .await;
    let card = json!({"idToken": {"idToken": "late-card", "type": "ISO14443"}});
    let answer = s
        .call("TransactionEvent", event("Updated", 4, "cable-2", card))
        .await;
    assert_eq!(answer[2]["idTokenInfo"]["status"], "Accepted");
    s.call("TransactionEvent", event("Ended", 5, "cable-2", json!({})))
        .await;
    let filter = RecordFilter {
        id_tag: Some("LATE-CARD".into()),
        ..RecordFilter::default()
    };
    let records = s
        .domain
        .console
        .list_records(&admin(), filter, Paging::parse(None, None).unwrap())
        .await
        .unwrap();
    assert_eq!(records.total, 1);
}

/// The record of the station's one session.
async fn record_of(env: &TestEnv, s: &Station) -> domain::console::views::RecordView {
    env.domain
        .console
        .list_records(
            &admin(),
            RecordFilter::default(),
            Paging::parse(None, None).unwrap(),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|r| r.device_id == s.device_id)
        .expect("a record")
}

/// The energy the station's hour buckets counted, kWh.
async fn energy_counted(env: &TestEnv, s: &Station) -> f64 {
    env.store
        .energy_hours(
            &env.domain.settings.default_operator,
            domain::telemetry::EnergyScope::Device(s.device_id),
            env.clock.now() - chrono::Duration::hours(2),
            env.clock.now(),
        )
        .await
        .unwrap()
        .iter()
        .map(|h| h.charge_energy)
        .sum()
}

/// The default operator's fleet-wide tariff: energy at 0.30 a kWh, 20 % VAT.
async fn energy_tariff(env: &TestEnv) {
    let content = pricing::TariffContent {
        currency: "GBP".into(),
        vat_percent: pricing::Decimal::from(20),
        elements: vec![pricing::Element {
            price_components: vec![pricing::PriceComponent {
                dimension: pricing::Dimension::Energy,
                price: "0.30".parse().unwrap(),
                step_size: 1,
            }],
            restrictions: None,
        }],
    };
    let acme = env.domain.settings.default_operator.clone();
    env.domain
        .tariffs
        .create_tariff(
            &operator(&acme, Role::Operator),
            domain::tariffs::TariffDraft {
                name: "Energy".into(),
                content,
                site_id: None,
                device_id: None,
                valid_from: None,
                valid_to: None,
                operator_id: None,
            },
        )
        .await
        .unwrap();
    env.clock.advance(chrono::Duration::seconds(1));
}

fn costs_sent(s: &Station) -> Vec<Value> {
    s.sent()
        .into_iter()
        .filter(|f| f[2] == "CostUpdated")
        .map(|f| f[3].clone())
        .collect()
}

#[tokio::test]
async fn a_priced_2_0_1_transaction_hears_its_cost_once_a_minute_and_its_total_at_the_end() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V201).await;
    energy_tariff(&env).await;
    let event = |kind: &str, seq: u32, wh: u32| {
        json!({"eventType": kind, "timestamp": env.now(), "triggerReason": "MeterValuePeriodic",
            "seqNo": seq, "transactionInfo": {"transactionId": "pc-1"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": env.now(), "sampledValue": [
                {"value": wh, "measurand": "Energy.Active.Import.Register"}]}]})
    };
    s.call("TransactionEvent", event("Started", 0, 0)).await;
    // A reading every 20 s, 200 Wh each, for three minutes.
    let mut requests = Vec::new();
    for seq in 1..9 {
        env.clock.advance(chrono::Duration::seconds(20));
        env.counter.reset();
        let answer = s
            .call("TransactionEvent", event("Updated", seq, seq * 200))
            .await;
        requests.push(env.counter.total());
        assert!(answer[2].get("totalCost").is_none(), "only the end has it");
    }
    println!("DynamoDB requests per meter value: {requests:?}");
    // Pricing adds nothing to a reading; a running cost adds the mark it
    // keeps on the transaction, and a tariff read once a minute.
    let plain = *requests.iter().min().unwrap();
    let dearer: Vec<u64> = requests.iter().filter(|&&r| r > plain).copied().collect();
    assert_eq!(dearer.len(), 3, "{requests:?}");
    assert!(dearer.iter().all(|&r| r <= plain + 2), "{requests:?}");
    let told = costs_sent(&s);
    assert_eq!(
        told,
        vec![
            json!({"totalCost": 0.07, "transactionId": "pc-1"}),
            json!({"totalCost": 0.29, "transactionId": "pc-1"}),
            json!({"totalCost": 0.5, "transactionId": "pc-1"}),
        ],
        "0.2, 0.8 and 1.4 kWh at 0.36 incl. VAT, a minute apart"
    );
    for frame in s.sent().iter().filter(|f| f[2] == "CostUpdated") {
        ocpp::validate(
            Version::V201,
            "CostUpdated",
            ocpp::Direction::Request,
            frame[3].as_object().unwrap(),
        )
        .unwrap();
    }
    // Its answer settles nothing and fails nothing.
    let id = s.sent()[0][1].as_str().unwrap().to_owned();
    s.answer(&id, json!({})).await;

    env.clock.advance(chrono::Duration::seconds(20));
    let end = s.call("TransactionEvent", event("Ended", 9, 1800)).await;
    assert_eq!(end[2]["totalCost"], 0.65, "1.8 kWh at 0.36");
    ocpp::validate(
        Version::V201,
        "TransactionEvent",
        ocpp::Direction::Response,
        end[2].as_object().unwrap(),
    )
    .unwrap();
    let again = s.call("TransactionEvent", event("Ended", 9, 1800)).await;
    assert_eq!(
        again[2]["totalCost"], 0.65,
        "a repeated end gets the same total"
    );
    let record = record_of(&env, &s).await;
    let price = record.price.unwrap();
    assert_eq!((price.excl_vat, price.incl_vat), (0.54, 0.65));
    assert_eq!(record.cost, Some(0.65));
}

#[tokio::test]
async fn a_priced_1_6_transaction_hears_no_running_cost_and_its_record_is_priced() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    energy_tariff(&env).await;
    let start = s
        .call("StartTransaction", json!({"connectorId": 1, "idTag": "LOCAL1", "meterStart": 1000, "timestamp": now(&env)}))
        .await;
    let tx = start[2]["transactionId"].as_i64().unwrap();
    for wh in [2000, 3000, 4000] {
        env.clock.advance(chrono::Duration::seconds(70));
        s.call("MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": now(&env), "sampledValue": [
            {"value": wh.to_string(), "measurand": "Energy.Active.Import.Register"}]}]}))
            .await;
    }
    assert!(costs_sent(&s).is_empty(), "1.6 has no running cost");
    s.call(
        "StopTransaction",
        json!({"meterStop": 5000, "timestamp": now(&env), "transactionId": tx}),
    )
    .await;
    let record = record_of(&env, &s).await;
    assert_eq!(record.price.unwrap().incl_vat, 1.44, "4 kWh at 0.36");
}

#[tokio::test]
async fn readings_out_of_bounds_are_refused_as_property_violations_and_nothing_is_kept() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    let start = s
        .call("StartTransaction", json!({"connectorId": 1, "idTag": "LOCAL1", "meterStart": 1000, "timestamp": now(&env)}))
        .await;
    let tx = start[2]["transactionId"].as_i64().unwrap();
    let energy = || async {
        env.store
            .get_device(s.device_id)
            .await
            .unwrap()
            .unwrap()
            .connectors[&one()]
            .energy_delivered
    };
    let before = energy().await;
    for value in ["1e15", "NaN", "-5", "1e300"] {
        let refused = s
            .call("MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": now(&env), "sampledValue": [
                {"value": value, "measurand": "Energy.Active.Import.Register"}]}]}))
            .await;
        assert_eq!(refused[0], 4, "{value}: {refused}");
        assert_eq!(refused[2], "PropertyConstraintViolation", "{value}");
        assert_eq!(energy().await, before, "{value}: nothing kept");
    }
    let bad_start = s
        .call("StartTransaction", json!({"connectorId": 2, "idTag": "LOCAL1", "meterStart": i64::MIN, "timestamp": now(&env)}))
        .await;
    assert_eq!(bad_start[2], "PropertyConstraintViolation");
    let bad_stop = s
        .call(
            "StopTransaction",
            json!({"meterStop": i64::MAX, "timestamp": now(&env), "transactionId": tx}),
        )
        .await;
    assert_eq!(bad_stop[2], "PropertyConstraintViolation");
    let records = env
        .domain
        .console
        .list_records(
            &admin(),
            RecordFilter::default(),
            Paging::parse(None, None).unwrap(),
        )
        .await
        .unwrap();
    assert!(
        records.items.iter().all(|r| r.device_id != s.device_id),
        "no record from a refused stop"
    );
}

#[tokio::test]
async fn a_register_going_down_inside_a_transaction_counts_nothing() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    let start = s
        .call(
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "LOCAL1", "meterStart": 0, "timestamp": now(&env)}),
        )
        .await;
    let tx = start[2]["transactionId"].as_i64().unwrap();
    for wh in [10_000, 0, 10_000, 0, 10_000] {
        env.clock.advance(chrono::Duration::seconds(10));
        s.call("MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": now(&env), "sampledValue": [
            {"value": wh.to_string(), "measurand": "Energy.Active.Import.Register"}]}]}))
            .await;
    }
    let counted = energy_counted(&env, &s).await;
    assert!((counted - 10.0).abs() < 1e-9, "counted {counted} kWh");
}

#[tokio::test]
async fn a_refused_remote_start_leaves_no_accepted_tag_behind() {
    let env = TestEnv::new().await;
    let s = Station::connect(&env, Version::V16).await;
    s.remote_start().await;
    let call = s
        .sent()
        .into_iter()
        .find(|f| f[2] == "RemoteStartTransaction")
        .unwrap();
    let tag = call[3]["idTag"].as_str().unwrap().to_owned();
    let before = s.call("Authorize", json!({"idTag": tag})).await;
    assert_eq!(
        before[2]["idTagInfo"]["status"], "Accepted",
        "the platform's tag while its start is pending"
    );
    s.answer(call[1].as_str().unwrap(), json!({"status": "Rejected"}))
        .await;
    let after = s.call("Authorize", json!({"idTag": tag})).await;
    assert_eq!(after[2]["idTagInfo"]["status"], "Invalid");
}
