//! The partner adapter: unique codes across both items, one-time replay
//! claims, token items, and pushes where the newest replaces the last.
//! Runs on the embedded engine and, in the test script, on moto.

use chrono::{DateTime, Duration, Utc};
use domain::partners::{Partner, PartnerConnector, PartnerSession, PartnerStore, PartnerToken};
use kernel::Clock;
use kernel::ids::{OperatorId, PartnerId};
use kernel::storage::WriteOutcome;
use testkit::TestEnv;

fn partner(code: &str, now: DateTime<Utc>) -> Partner {
    Partner {
        partner_id: PartnerId::time_ordered(),
        partner_operator_id: code.into(),
        name: "Hub".into(),
        operator_id: OperatorId::parse("acme-charging-uk").unwrap(),
        notify_url: None,
        utc_offset_minutes: 480,
        operator_secret_hash: "hash".into(),
        sealed_keys: "sealed".into(),
        created_at: now,
    }
}

#[tokio::test]
async fn a_partner_is_found_by_id_and_by_code_and_codes_stay_unique() {
    let env = TestEnv::new().await;
    let now = env.clock.now();
    let p = partner("MA1234567", now);
    assert_eq!(
        env.store.insert_partner(&p).await.unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(
        env.store.get_partner(p.partner_id).await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(
        env.store.partner_by_code("MA1234567").await.unwrap(),
        Some(p.clone())
    );
    let twin = partner("MA1234567", now);
    assert_eq!(
        env.store.insert_partner(&twin).await.unwrap(),
        WriteOutcome::Conflict
    );
    // Nothing of the refused partner was written.
    assert_eq!(env.store.get_partner(twin.partner_id).await.unwrap(), None);
    let other = partner("MB7654321", now);
    env.store.insert_partner(&other).await.unwrap();
    let codes: Vec<String> = env
        .store
        .all_partners()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.partner_operator_id)
        .collect();
    assert_eq!(codes, ["MA1234567", "MB7654321"]);
}

#[tokio::test]
async fn a_nonce_is_claimed_once() {
    let env = TestEnv::new().await;
    let until = env.clock.now() + Duration::minutes(10);
    let claim = || {
        env.store
            .claim_nonce("MA1234567", "20261125073000", "0001", until)
    };
    assert_eq!(claim().await.unwrap(), WriteOutcome::Written);
    assert_eq!(claim().await.unwrap(), WriteOutcome::Conflict);
    let next = env
        .store
        .claim_nonce("MA1234567", "20261125073000", "0002", until)
        .await
        .unwrap();
    assert_eq!(next, WriteOutcome::Written);
}

#[tokio::test]
async fn tokens_and_pushes_are_kept_and_the_newest_push_wins() {
    let env = TestEnv::new().await;
    let now = env.clock.now();
    let id = PartnerId::time_ordered();
    let token = PartnerToken {
        partner_id: id,
        expires_at: now + Duration::hours(2),
    };
    env.store.put_partner_token("abc", &token).await.unwrap();
    assert_eq!(
        env.store.get_partner_token("abc").await.unwrap(),
        Some(token)
    );
    assert_eq!(env.store.get_partner_token("abd").await.unwrap(), None);

    for status in [1, 3] {
        let push = PartnerConnector {
            partner_id: id,
            connector_id: "HUB-1".into(),
            status,
            park_status: None,
            lock_status: Some(0),
            received_at: now,
        };
        env.store.put_partner_connector(&push).await.unwrap();
    }
    let connectors = env.store.partner_connectors(id).await.unwrap();
    assert_eq!(connectors.len(), 1);
    assert_eq!(connectors[0].status, 3);

    let session = |soc: f64| PartnerSession {
        partner_id: id,
        start_charge_seq: "MA1234567000000000000000001".into(),
        start_charge_seq_stat: 2,
        connector_id: "HUB-1".into(),
        connector_status: 3,
        current_a: None,
        voltage_a: None,
        soc: Some(soc),
        start_time: None,
        end_time: None,
        total_power: Some(1.5),
        elec_money: None,
        service_money: None,
        total_money: None,
        received_at: now,
    };
    env.store.put_partner_session(&session(40.0)).await.unwrap();
    env.store.put_partner_session(&session(70.0)).await.unwrap();
    let sessions = env.store.partner_sessions(id).await.unwrap();
    assert_eq!(sessions, vec![session(70.0)]);
    // Pushes are not mistaken for each other's kind.
    assert_eq!(env.store.partner_connectors(id).await.unwrap().len(), 1);
    let other = PartnerId::time_ordered();
    assert!(env.store.partner_sessions(other).await.unwrap().is_empty());
}

#[tokio::test]
async fn only_pending_messages_are_due_and_in_due_order() {
    use domain::partners::outbox::{Delivery, DeliveryStatus};
    let env = TestEnv::new().await;
    let now = env.clock.now();
    let id = PartnerId::time_ordered();
    let first = Delivery::new(
        id,
        "notification_stationStatus",
        serde_json::json!({"n": 1}),
        now,
    );
    let mut later = Delivery::new(
        id,
        "notification_stationStatus",
        serde_json::json!({"n": 2}),
        now,
    );
    later.next_attempt_at = now + Duration::minutes(1);
    for d in [&later, &first] {
        env.store.save_delivery(d).await.unwrap();
    }
    let due = env.store.due_deliveries(now, 10).await.unwrap();
    assert_eq!(due, vec![first.clone()]);
    let due = env
        .store
        .due_deliveries(now + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(due, vec![first.clone(), later.clone()]);
    assert_eq!(
        env.store
            .due_deliveries(now + Duration::minutes(1), 1)
            .await
            .unwrap()
            .len(),
        1
    );

    let mut done = first.clone();
    done.status = DeliveryStatus::Delivered;
    done.delivered_at = Some(now);
    env.store.save_delivery(&done).await.unwrap();
    let due = env
        .store
        .due_deliveries(now + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(
        due,
        vec![later.clone()],
        "a delivered message leaves the index"
    );
    assert_eq!(
        env.store.partner_deliveries(id).await.unwrap(),
        vec![done, later]
    );
}

#[tokio::test]
async fn a_session_mark_is_kept_until_deleted() {
    use domain::partners::outbox::SessionMark;
    use kernel::ids::{ConnectorId, DeviceId};
    let env = TestEnv::new().await;
    let (device, one) = (DeviceId::random(), ConnectorId::new(1).unwrap());
    let mark = SessionMark {
        device_id: device,
        connector_id: one,
        partner_id: PartnerId::time_ordered(),
        start_charge_seq: "MA1234567000000000000000001".into(),
        connector: format!("{device}-1"),
        queued_at: env.clock.now(),
        command_id: Some(kernel::ids::CommandId::time_ordered()),
    };
    env.store.put_session_mark(&mark).await.unwrap();
    assert_eq!(
        env.store.get_session_mark(device, one).await.unwrap(),
        Some(mark)
    );
    let two = ConnectorId::new(2).unwrap();
    assert_eq!(env.store.get_session_mark(device, two).await.unwrap(), None);
    env.store.delete_session_mark(device, one).await.unwrap();
    assert_eq!(env.store.get_session_mark(device, one).await.unwrap(), None);
}
