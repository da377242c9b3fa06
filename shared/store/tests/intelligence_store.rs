//! What intelligence keeps, on the embedded engine and on moto: outages by
//! end time, fault marks by time, findings upserted under their id, the
//! newest run's health scores, agent runs, and an operator's commands by
//! creation time.

use chrono::{DateTime, Duration, Utc};
use domain::commands::CommandStore;
use domain::devices::DeviceStore;
use domain::intelligence::agents::{AgentId, AgentRun, RunStatus};
use domain::intelligence::anomalies::{Anomaly, AnomalyKind, Severity, finding_id};
use domain::intelligence::health::{Component, Components, HealthScore};
use domain::intelligence::{FaultMark, IntelligenceStore, Outage, Window};
use domain::observations::ObservationStore;
use domain::telemetry::{ConnectorWrite, FaultWrite, TelemetryStore};
use kernel::Clock;
use kernel::command::{Command, CommandParams};
use kernel::ids::{CommandId, ConnectorId, DeviceId, OperatorId};
use kernel::model::{Activity, CommandStatus, Connector, ConnectorState, Device};
use kernel::storage::WriteOutcome;
use testkit::TestEnv;

fn op(slug: &str) -> OperatorId {
    OperatorId::parse(slug).unwrap()
}

async fn registered(env: &TestEnv, o: &OperatorId) -> Device {
    let d = testkit::unseen_device(
        &format!("SN-{}", DeviceId::random()),
        o.as_str(),
        env.clock.now(),
    );
    let activity = activity(o, d.created_at, "device.registered");
    assert_eq!(
        env.store.insert_device(&d, &activity).await.unwrap(),
        WriteOutcome::Written
    );
    d
}

fn activity(o: &OperatorId, at: DateTime<Utc>, kind: &str) -> Activity {
    Activity {
        at,
        kind: kind.into(),
        operator_id: o.clone(),
        device_id: None,
        site_id: None,
        command_id: None,
        record_id: None,
        summary: "test".into(),
    }
}

fn outage(o: &OperatorId, d: DeviceId, from: DateTime<Utc>, minutes: i64) -> Outage {
    Outage {
        device_id: d,
        operator_id: o.clone(),
        site_id: None,
        from,
        to: from + Duration::minutes(minutes),
    }
}

#[tokio::test]
async fn outages_are_read_by_their_end_and_per_operator() {
    let env = TestEnv::new().await;
    let (acme, other) = (op("acme"), op("other"));
    let t = env.clock.now();
    let d = DeviceId::random();
    env.store
        .put_outage(&outage(&acme, d, t, 10))
        .await
        .unwrap();
    env.store
        .put_outage(&outage(&acme, d, t + Duration::hours(2), 5))
        .await
        .unwrap();
    env.store
        .put_outage(&outage(&other, d, t, 10))
        .await
        .unwrap();
    // The same outage written twice is one item.
    env.store
        .put_outage(&outage(&acme, d, t, 10))
        .await
        .unwrap();
    assert_eq!(env.store.outages(&acme, t).await.unwrap().len(), 2);
    let later = env
        .store
        .outages(&acme, t + Duration::minutes(11))
        .await
        .unwrap();
    assert_eq!(later.len(), 1, "only the outage that ended after `since`");
    assert_eq!(later[0].from, t + Duration::hours(2));
}

#[tokio::test]
async fn fault_marks_are_read_by_time_range() {
    let env = TestEnv::new().await;
    let acme = op("acme");
    let t = env.clock.now();
    let d = registered(&env, &acme).await;
    let c1 = ConnectorId::new(1).unwrap();
    for (version, m) in [0, 30, 90].into_iter().enumerate() {
        let at = t + Duration::minutes(m);
        let write = ConnectorWrite {
            device_id: d.device_id,
            connector_id: c1,
            expected_version: version.checked_sub(1).map(|v| v as u64),
            operator_id: acme.clone(),
            site_id: None,
            connector: Connector {
                version: version as u64,
                ..Connector::first_seen(ConnectorState::Fault, at)
            },
            last_seen: at,
            sample: None,
            energy: None,
            activity: None,
            pushes: Vec::new(),
            fault: Some(FaultWrite {
                mark: FaultMark {
                    device_id: d.device_id,
                    operator_id: acme.clone(),
                    site_id: None,
                    connector_id: c1,
                    at,
                },
                recent: vec![at],
            }),
        };
        assert_eq!(
            env.store.apply_connector(&write).await.unwrap(),
            WriteOutcome::Written
        );
    }
    let kept = env.store.get_device(d.device_id).await.unwrap().unwrap();
    assert_eq!(kept.recent_faults, vec![t + Duration::minutes(90)]);
    let hour = env
        .store
        .faults(&acme, t, t + Duration::minutes(60))
        .await
        .unwrap();
    assert_eq!(hour.len(), 2);
    assert!(
        env.store
            .faults(&op("other"), t, t + Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
}

fn finding(
    o: &OperatorId,
    d: DeviceId,
    start: DateTime<Utc>,
    detected: DateTime<Utc>,
    observed: f64,
) -> Anomaly {
    Anomaly {
        anomaly_id: finding_id(&d.to_string(), None, AnomalyKind::HeartbeatGap, start),
        kind: AnomalyKind::HeartbeatGap,
        severity: Severity::Warning,
        device_id: Some(d),
        sn: Some("SN-1".into()),
        connector_id: None,
        site_id: None,
        operator_id: o.clone(),
        detected_at: detected,
        window: Window {
            from: start,
            to: detected,
        },
        observed,
        expected: 10.0,
        unit: "min".into(),
        explanation: format!("silent for {observed} minutes"),
    }
}

#[tokio::test]
async fn a_finding_found_again_keeps_its_id_and_first_detection_and_takes_the_new_figures() {
    let env = TestEnv::new().await;
    let acme = op("acme");
    let t = env.clock.now();
    let d = DeviceId::random();
    let first = finding(&acme, d, t, t + Duration::minutes(15), 15.0);
    assert!(env.store.put_anomaly(&first).await.unwrap(), "new");
    let mut again = finding(&acme, d, t, t + Duration::minutes(75), 75.0);
    again.severity = Severity::Critical;
    assert!(!env.store.put_anomaly(&again).await.unwrap(), "known");
    let stored = env
        .store
        .anomalies(&acme, t, t + Duration::hours(3))
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].anomaly_id, first.anomaly_id);
    assert_eq!(stored[0].detected_at, first.detected_at);
    assert_eq!(stored[0].severity, Severity::Critical);
    assert_eq!(stored[0].observed, 75.0);
    assert_eq!(stored[0].window.to, again.window.to);
    assert!(
        env.store
            .anomalies(&op("other"), t, t + Duration::hours(3))
            .await
            .unwrap()
            .is_empty()
    );
}

fn score(d: DeviceId, run: uuid::Uuid, at: DateTime<Utc>) -> HealthScore {
    let c = Component {
        score: Some(100),
        weight: 40,
        value: Some(1.0),
    };
    HealthScore {
        device_id: d,
        sn: d.to_string(),
        site_id: None,
        model: "TP-AC22".into(),
        score: 100,
        grade: "A".into(),
        window: Window { from: at, to: at },
        components: Components {
            uptime: c.clone(),
            faults: c.clone(),
            commands: c.clone(),
            firmware: c,
        },
        reasons: Vec::new(),
        computed_at: at,
        run_id: Some(run),
    }
}

#[tokio::test]
async fn only_the_newest_runs_health_scores_are_the_fleets() {
    let env = TestEnv::new().await;
    let acme = op("acme");
    let t = env.clock.now();
    let (stays, leaves) = (DeviceId::random(), DeviceId::random());
    let (old, new) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    env.store
        .put_health_scores(&acme, &[score(stays, old, t), score(leaves, old, t)])
        .await
        .unwrap();
    env.store
        .put_health_scores(&acme, &[score(stays, new, t)])
        .await
        .unwrap();
    let scores = env.store.health_scores(&acme).await.unwrap();
    assert_eq!(scores.len(), 1);
    assert_eq!(scores[0].device_id, stays);
    assert_eq!(scores[0].run_id, Some(new));
}

#[tokio::test]
async fn an_agents_last_run_replaces_the_one_before() {
    let env = TestEnv::new().await;
    let acme = op("acme");
    let t = env.clock.now();
    for (i, agent) in [
        AgentId::HealthScorer,
        AgentId::HealthScorer,
        AgentId::DailyBriefer,
    ]
    .into_iter()
    .enumerate()
    {
        let run = AgentRun {
            run_id: uuid::Uuid::now_v7(),
            agent_id: agent,
            at: t + Duration::minutes(i as i64),
            status: RunStatus::Ok,
            duration_ms: 3,
            findings: i as u32,
        };
        env.store.put_agent_run(&acme, &run).await.unwrap();
    }
    let runs = env.store.agent_runs(&acme).await.unwrap();
    assert_eq!(runs.len(), 2);
    let scorer = runs
        .iter()
        .find(|r| r.agent_id == AgentId::HealthScorer)
        .unwrap();
    assert_eq!(scorer.findings, 1, "the second run replaced the first");
}

#[tokio::test]
async fn an_operators_commands_are_read_by_creation_time() {
    let env = TestEnv::new().await;
    let acme = op("acme");
    let t = env.clock.now();
    let device = registered(&env, &acme).await.device_id;
    for h in [0, 5, 30] {
        let c = Command {
            command_id: CommandId::time_ordered(),
            device_id: device,
            connector_id: None,
            status: CommandStatus::Queued,
            params: CommandParams::Reboot(Default::default()),
            created_at: t + Duration::hours(h),
            expires_at: t + Duration::hours(h + 1),
            delivered_at: None,
            operator_id: acme.clone(),
            history: Vec::new(),
            origin: None,
        };
        let activity = activity(&acme, c.created_at, "command.queued");
        env.store.insert_command(&c, &activity, None).await.unwrap();
    }
    let day = env
        .store
        .operator_commands(&acme, t, t + Duration::hours(24))
        .await
        .unwrap();
    assert_eq!(day.len(), 2);
    assert!(day[0].created_at < day[1].created_at, "oldest first");
    assert!(
        env.store
            .operator_commands(&op("other"), t, t + Duration::days(2))
            .await
            .unwrap()
            .is_empty()
    );
}
