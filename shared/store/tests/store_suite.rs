//! The store suite: every invariant the DynamoDB code carries, run on the
//! embedded engine in every `cargo test`, and on moto by the test script
//! (`TEST_DYNAMODB_ENDPOINT`). Each test gets a fresh table.

use chrono::{DateTime, Duration, DurationRound, Utc};
use domain::campaigns::{
    Campaign, CampaignCounts, CampaignMember, CampaignStatus, CampaignStore, LinkChange,
    MemberState,
};
use domain::commands::{CommandStore, IdempotencyClaim, Queued};
use domain::devices::{DeviceStore, Profile};
use domain::feeds::FeedStore;
use domain::loads::{LoadStore, SiteAllocation};
use domain::profiles::{ChargerSettings, Profile as ConfigurationProfile, ProfileStore};
use domain::records::{RecordOutcome, RecordStore, RevenueDay, RevenueScope};
use domain::sites::{SiteMember, SiteStore};
use domain::telemetry::{ConnectorWrite, EnergyAdd, EnergyScope, FirmwareWrite, TelemetryStore};
use domain::tenants::TenantStore;
use domain::throttle::ThrottleStore;
use kernel::Clock;
use kernel::command::{Command, CommandParams};
use kernel::ids::ConnectorId;
use kernel::ids::{CampaignId, CommandId, DeviceId, OperatorId, ProfileId, RecordId, SiteId};
use kernel::model::*;
use kernel::storage::*;
use testkit::{TestEnv, unseen_device as device};

fn at(t: &str) -> DateTime<Utc> {
    t.parse().unwrap()
}

fn op(slug: &str) -> OperatorId {
    OperatorId::parse(slug).unwrap()
}

fn command(device: &Device, now: DateTime<Utc>) -> Command {
    Command {
        command_id: CommandId::time_ordered(),
        device_id: device.device_id,
        connector_id: None,
        status: CommandStatus::Queued,
        params: CommandParams::Reboot(Default::default()),
        created_at: now,
        expires_at: now + Duration::minutes(5),
        delivered_at: None,
        operator_id: device.operator_id.clone(),
        history: vec![],
        origin: None,
    }
}

fn act() -> Activity {
    Activity {
        at: Utc::now(),
        kind: "test".into(),
        operator_id: op("acme-charging-uk"),
        device_id: None,
        site_id: None,
        command_id: None,
        record_id: None,
        summary: "a test write".into(),
    }
}

fn connector(ts: DateTime<Utc>, energy: f64) -> Connector {
    Connector {
        state: ConnectorState::Charging,
        ts,
        voltage: 400.0,
        current: 100.0,
        power: 40.0,
        energy_delivered: energy,
        soc: Some(50.0),
        peaks: Peaks::default(),
        sample_ts: Some(ts),
        version: 0,
        since: Some(ts),
        since_energy: Some(energy),
        bucket_mark: None,
        session: None,
    }
}

async fn registered(env: &TestEnv, sn: &str) -> Device {
    let d = device(sn, "acme-charging-uk", env.clock.now());
    assert_eq!(
        env.store.insert_device(&d, &act()).await.unwrap(),
        WriteOutcome::Written
    );
    d
}

#[tokio::test]
async fn a_taken_serial_conflicts_and_the_whole_registration_rolls_back() {
    let env = TestEnv::new().await;
    let first = registered(&env, "ACME-1").await;
    let second = device("ACME-1", "acme-charging-uk", env.clock.now());
    assert_eq!(
        env.store.insert_device(&second, &act()).await.unwrap(),
        WriteOutcome::Conflict
    );
    assert!(
        env.store
            .get_device(second.device_id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        env.store.device_id_by_serial("ACME-1").await.unwrap(),
        Some(first.device_id)
    );
}

#[tokio::test]
async fn open_command_counts_add_up_and_fall_when_answered() {
    let env = TestEnv::new().await;
    let d = registered(&env, "ACME-2").await;
    let now = env.clock.now();
    let a = command(&d, now);
    let b = command(&d, now);
    env.store.insert_command(&a, &act(), None).await.unwrap();
    env.store.insert_command(&b, &act(), None).await.unwrap();
    assert_eq!(
        env.store
            .get_device(d.device_id)
            .await
            .unwrap()
            .unwrap()
            .open_commands,
        2
    );

    let mut delivered = a.clone();
    delivered.status = CommandStatus::Delivered;
    assert_eq!(
        env.store
            .update_command(&delivered, CommandStatus::Queued, &act(), None)
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    let mut accepted = delivered.clone();
    accepted.status = CommandStatus::Accepted;
    assert_eq!(
        env.store
            .update_command(&accepted, CommandStatus::Delivered, &act(), None)
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(
        env.store
            .get_device(d.device_id)
            .await
            .unwrap()
            .unwrap()
            .open_commands,
        1
    );
    let open = env.store.open_commands(d.device_id).await.unwrap();
    assert_eq!(
        open.iter().map(|c| c.command_id).collect::<Vec<_>>(),
        vec![b.command_id]
    );
}

#[tokio::test]
async fn a_command_update_from_a_stale_status_is_refused() {
    let env = TestEnv::new().await;
    let d = registered(&env, "ACME-3").await;
    let c = command(&d, env.clock.now());
    env.store.insert_command(&c, &act(), None).await.unwrap();
    let mut accepted = c.clone();
    accepted.status = CommandStatus::Accepted;
    assert_eq!(
        env.store
            .update_command(&accepted, CommandStatus::Delivered, &act(), None)
            .await
            .unwrap(),
        WriteOutcome::Conflict
    );
    let stored = env.store.get_command(c.command_id).await.unwrap().unwrap();
    assert_eq!(stored.status, CommandStatus::Queued);
    assert_eq!(
        env.store
            .get_device(d.device_id)
            .await
            .unwrap()
            .unwrap()
            .open_commands,
        1
    );
}

#[tokio::test]
async fn a_command_for_a_missing_device_writes_nothing() {
    let env = TestEnv::new().await;
    let ghost = device("GHOST", "acme-charging-uk", env.clock.now());
    let c = command(&ghost, env.clock.now());
    assert!(env.store.insert_command(&c, &act(), None).await.is_err());
    assert!(env.store.get_command(c.command_id).await.unwrap().is_none());
    assert!(
        env.store
            .get_device(ghost.device_id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn operator_devices_come_in_serial_order_a_page_at_a_time() {
    let env = TestEnv::new().await;
    for sn in ["D-3", "D-1", "D-5", "D-2", "D-4"] {
        registered(&env, sn).await;
    }
    let other = device("D-0", "other-operator", env.clock.now());
    env.store.insert_device(&other, &act()).await.unwrap();

    let acme = op("acme-charging-uk");
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = env
            .store
            .operator_devices(&acme, 2, cursor.as_deref())
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|d| d.sn));
        pages += 1;
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, ["D-1", "D-2", "D-3", "D-4", "D-5"]);
    assert!(matches!(
        env.store.operator_devices(&acme, 2, Some("zz")).await,
        Err(StoreError::InvalidCursor)
    ));
}

#[tokio::test]
async fn a_connector_write_applies_only_over_the_state_it_read() {
    let env = TestEnv::new().await;
    let d = registered(&env, "ACME-4").await;
    let t0 = env.clock.now();
    let write = |expected: Option<u64>, version: u64, energy: f64| ConnectorWrite {
        device_id: d.device_id,
        connector_id: ConnectorId::new(1).unwrap(),
        expected_version: expected,
        operator_id: d.operator_id.clone(),
        site_id: None,
        connector: Connector {
            version,
            ..connector(t0, energy)
        },
        last_seen: t0,
        sample: None,
        energy: None,
        activity: None,
        pushes: Vec::new(),
        fault: None,
    };
    let apply = |w: ConnectorWrite| {
        let store = env.store.clone();
        async move { store.apply_connector(&w).await.unwrap() }
    };
    assert_eq!(apply(write(None, 0, 1.0)).await, WriteOutcome::Written);
    // A second "new connector" write loses: the connector exists now.
    assert_eq!(apply(write(None, 0, 9.0)).await, WriteOutcome::Conflict);
    assert_eq!(
        apply(write(Some(5), 6, 9.0)).await,
        WriteOutcome::Conflict,
        "stale version"
    );
    assert_eq!(apply(write(Some(0), 1, 2.0)).await, WriteOutcome::Written);
    let stored = env.store.get_device(d.device_id).await.unwrap().unwrap();
    assert_eq!(
        stored.connectors[&ConnectorId::new(1).unwrap()].energy_delivered,
        2.0
    );
    assert_eq!(stored.connectors[&ConnectorId::new(1).unwrap()].version, 1);

    // Energy goes to the operator and site read; after a move it must not.
    let mut moved = write(Some(1), 2, 3.0);
    moved.operator_id = op("other-operator");
    assert_eq!(
        apply(moved).await,
        WriteOutcome::Conflict,
        "operator changed"
    );
    let mut sited = write(Some(1), 2, 3.0);
    sited.site_id = Some(SiteId::random());
    assert_eq!(apply(sited).await, WriteOutcome::Conflict, "site changed");
}

fn energy_add(
    d: &Device,
    site: Option<SiteId>,
    kwh: f64,
    max: Option<f64>,
    mark: DateTime<Utc>,
    after: Option<DateTime<Utc>>,
) -> EnergyAdd {
    EnergyAdd {
        device_id: d.device_id,
        connector_id: ConnectorId::new(1).unwrap(),
        site_id: site,
        operator_id: d.operator_id.clone(),
        hour: at("2026-05-10T14:00:00Z"),
        charge_kwh: kwh,
        discharge_kwh: 0.0,
        raise_max_kw: max,
        mark,
        after,
    }
}

fn sample_write(
    d: &Device,
    expected: Option<u64>,
    version: u64,
    energy: Option<EnergyAdd>,
) -> ConnectorWrite {
    let ts = energy
        .as_ref()
        .map_or(at("2026-05-10T14:00:00Z"), |e| e.mark);
    ConnectorWrite {
        device_id: d.device_id,
        connector_id: ConnectorId::new(1).unwrap(),
        expected_version: expected,
        operator_id: d.operator_id.clone(),
        site_id: d.site_id,
        connector: Connector {
            version,
            ..connector(ts, 0.0)
        },
        last_seen: ts,
        sample: None,
        energy,
        activity: None,
        pushes: Vec::new(),
        fault: None,
    }
}

#[tokio::test]
async fn energy_buckets_add_up_and_keep_the_highest_power() {
    let env = TestEnv::new().await;
    let d = registered(&env, "ACME-5").await;
    let acme = op("acme-charging-uk");
    let scope = EnergyScope::Device(d.device_id);
    let t0 = at("2026-05-10T14:05:00Z");
    let mut expected = None;
    let mut after = None;
    for (i, (kwh, max)) in [(1.5, Some(100.0)), (0.5, Some(60.0)), (0.25, None)]
        .into_iter()
        .enumerate()
    {
        let ts = t0 + Duration::seconds(i as i64);
        let w = sample_write(
            &d,
            expected,
            i as u64,
            Some(energy_add(&d, None, kwh, max, ts, after)),
        );
        assert_eq!(
            env.store.apply_connector(&w).await.unwrap(),
            WriteOutcome::Written
        );
        expected = Some(i as u64);
        after = Some(ts);
    }
    let day = (at("2026-05-10T00:00:00Z"), at("2026-05-10T23:00:00Z"));
    let buckets = env
        .store
        .energy_hours(&acme, scope, day.0, day.1)
        .await
        .unwrap();
    assert_eq!(buckets.len(), 1);
    assert_eq!(buckets[0].hour, at("2026-05-10T14:00:00Z"));
    assert!((buckets[0].charge_energy - 2.25).abs() < 1e-9);
    assert_eq!(
        buckets[0].max_power,
        Some(100.0),
        "a lower peak does not lower the max"
    );
    let elsewhere = env
        .store
        .energy_hours(&op("other-operator"), scope, day.0, day.1)
        .await
        .unwrap();
    assert!(elsewhere.is_empty(), "buckets are keyed by operator");
}

#[tokio::test]
async fn a_sample_is_counted_once_whatever_the_retries_and_races() {
    let env = TestEnv::new().await;
    let d = registered(&env, "ACME-5B").await;
    let scope = EnergyScope::Device(d.device_id);
    let t0 = at("2026-05-10T14:05:00Z");
    let first = energy_add(&d, None, 1.0, None, t0, None);
    assert_eq!(
        env.store
            .apply_connector(&sample_write(&d, None, 0, Some(first.clone())))
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    // The next sample's device write loses (a stale version): its energy
    // is in the bucket, its state is not.
    let t1 = t0 + Duration::seconds(30);
    let second = energy_add(&d, None, 2.0, None, t1, Some(t0));
    assert_eq!(
        env.store
            .apply_connector(&sample_write(&d, Some(7), 8, Some(second.clone())))
            .await
            .unwrap(),
        WriteOutcome::Conflict
    );
    // Tried again over the state it read: counted already, so not again.
    assert_eq!(
        env.store
            .apply_connector(&sample_write(&d, Some(0), 1, Some(second)))
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    // A sample computed from the state before `second` lost the race.
    let stale = energy_add(&d, None, 5.0, None, t1 + Duration::seconds(1), Some(t0));
    assert_eq!(
        env.store
            .apply_connector(&sample_write(&d, Some(1), 2, Some(stale)))
            .await
            .unwrap(),
        WriteOutcome::Conflict
    );
    let hours = env
        .store
        .energy_hours(
            &d.operator_id,
            scope,
            at("2026-05-10T00:00:00Z"),
            at("2026-05-10T23:00:00Z"),
        )
        .await
        .unwrap();
    assert!((hours[0].charge_energy - 3.0).abs() < 1e-9, "{hours:?}");
}

#[tokio::test]
async fn a_sites_hours_are_the_sum_of_its_devices_buckets() {
    let env = TestEnv::new().await;
    let site = SiteId::random();
    let mut devices = Vec::new();
    for sn in ["ACME-S1", "ACME-S2", "ACME-S3"] {
        devices.push(registered(&env, sn).await);
    }
    let t0 = at("2026-05-10T14:05:00Z");
    for (i, d) in devices.iter().enumerate() {
        // The third device is in no site.
        let in_site = (i < 2).then_some(site);
        let add = energy_add(
            d,
            in_site,
            1.0 + i as f64,
            Some(10.0 * (i + 1) as f64),
            t0,
            None,
        );
        let mut w = sample_write(d, None, 0, Some(add));
        w.site_id = None;
        assert_eq!(
            env.store.apply_connector(&w).await.unwrap(),
            WriteOutcome::Written
        );
    }
    let day = (at("2026-05-10T00:00:00Z"), at("2026-05-10T23:00:00Z"));
    let acme = op("acme-charging-uk");
    let hours = env
        .store
        .energy_hours(&acme, EnergyScope::Site(site), day.0, day.1)
        .await
        .unwrap();
    assert_eq!(hours.len(), 1);
    assert!((hours[0].charge_energy - 3.0).abs() < 1e-9, "{hours:?}");
    assert_eq!(hours[0].max_power, Some(20.0), "the highest of its devices");
    let other = env
        .store
        .energy_hours(&op("other-operator"), EnergyScope::Site(site), day.0, day.1)
        .await
        .unwrap();
    assert!(other.is_empty());
}

#[tokio::test]
async fn a_charge_record_is_stored_once() {
    let env = TestEnv::new().await;
    let d = registered(&env, "ACME-6").await;
    let now = env.clock.now();
    let record = ChargingRecord {
        record_id: RecordId::random(),
        device_id: d.device_id,
        operator_id: d.operator_id.clone(),
        site_id: None,
        connector_id: ConnectorId::new(1).unwrap(),
        start_time: now - Duration::hours(1),
        end_time: now,
        energy: 12.5,
        max_power: Some(180.0),
        cost: Some(4.38),
        currency: Some("GBP".into()),
        stop_reason: None,
        received_at: now,
        id_tag: None,
        price: None,
        parking_time_s: 0,
        authorization: None,
    };
    assert_eq!(
        env.store.put_record(&record, &act(), None).await.unwrap(),
        RecordOutcome::Created
    );
    let mut other = record.clone();
    other.energy = 99.0;
    match env.store.put_record(&other, &act(), None).await.unwrap() {
        RecordOutcome::Exists(stored) => assert_eq!(*stored, record, "first write wins"),
        RecordOutcome::Created => panic!("a second put with the same id must not create"),
    }
    assert_eq!(
        env.store.get_record(record.record_id).await.unwrap(),
        Some(record)
    );
}

#[tokio::test]
async fn a_priced_record_adds_to_its_days_revenue_once_per_scope() {
    let env = TestEnv::new().await;
    let d = registered(&env, "REV-1").await;
    let now = env.clock.now();
    let site = SiteId::random();
    let price = |excl: &str, incl: &str| RecordPrice {
        tariff_id: kernel::ids::TariffId::time_ordered(),
        currency: "GBP".into(),
        vat_percent: "20".parse().unwrap(),
        excl_vat: excl.parse().unwrap(),
        incl_vat: incl.parse().unwrap(),
        energy: excl.parse().unwrap(),
        time: Default::default(),
        parking_time: Default::default(),
        flat: Default::default(),
    };
    let record = |energy: f64, p: RecordPrice| ChargingRecord {
        record_id: RecordId::random(),
        device_id: d.device_id,
        operator_id: d.operator_id.clone(),
        site_id: Some(site),
        connector_id: ConnectorId::new(1).unwrap(),
        start_time: now - Duration::hours(1),
        end_time: now,
        energy,
        max_power: None,
        cost: None,
        currency: None,
        stop_reason: None,
        received_at: now,
        id_tag: None,
        price: Some(p),
        parking_time_s: 0,
        authorization: None,
    };
    let first = record(12.345, price("3.09", "3.71"));
    let second = record(0.5, price("0.13", "0.16"));
    // A session whose token was refused is kept but earns nothing.
    let refused = ChargingRecord {
        authorization: Some("blocked".into()),
        ..record(5.0, price("9.99", "11.99"))
    };
    for r in [&first, &first, &second, &refused] {
        env.store.put_record(r, &act(), None).await.unwrap();
    }
    let day = now.duration_trunc(Duration::days(1)).unwrap();
    let acme = d.operator_id.clone();
    for scope in [
        RevenueScope::Operator,
        RevenueScope::Site(site),
        RevenueScope::Device(d.device_id),
    ] {
        let days = env
            .store
            .revenue_days(&acme, scope, day - Duration::days(1), day)
            .await
            .unwrap();
        assert_eq!(
            days,
            vec![RevenueDay {
                day,
                currency: "GBP".into(),
                sessions: 2,
                energy_wh: 12_845,
                excl_vat_cents: 322,
                incl_vat_cents: 387,
            }],
            "{scope:?}: the repeated record counts once"
        );
    }
    let before = env
        .store
        .revenue_days(
            &acme,
            RevenueScope::Operator,
            day - Duration::days(3),
            day - Duration::days(1),
        )
        .await
        .unwrap();
    assert!(before.is_empty(), "days outside the range are left out");
}

#[tokio::test]
async fn a_site_allocation_is_written_only_over_the_version_read() {
    let env = TestEnv::new().await;
    let site = SiteId::random();
    let now = env.clock.now();
    let first = SiteAllocation {
        site_id: site,
        version: 1,
        computed_at: now,
        shares: vec![],
    };
    let w = |a: SiteAllocation, expected: Option<u64>| {
        let store = env.store.clone();
        async move { store.save_allocation(&a, expected).await.unwrap() }
    };
    assert_eq!(w(first.clone(), None).await, WriteOutcome::Written);
    assert_eq!(
        w(first.clone(), None).await,
        WriteOutcome::Conflict,
        "a second first write loses"
    );
    let second = SiteAllocation {
        version: 2,
        ..first.clone()
    };
    assert_eq!(w(second.clone(), Some(1)).await, WriteOutcome::Written);
    assert_eq!(
        w(
            SiteAllocation {
                version: 3,
                ..first
            },
            Some(1)
        )
        .await,
        WriteOutcome::Conflict,
        "a stale version loses"
    );
    assert_eq!(env.store.get_allocation(site).await.unwrap(), Some(second));
}

#[tokio::test]
async fn a_secret_rotates_only_from_the_hash_it_read_and_kills_old_tokens() {
    let env = TestEnv::new().await;
    let d = registered(&env, "ACME-7").await;
    let profile = Profile {
        model: "TP-AC22",
        manufacturer: "Tellus Power",
        firmware_version: "1.6.0",
    };
    assert_eq!(
        env.store
            .rotate_secret(
                &Device {
                    secret_hash: "wrong".into(),
                    ..d.clone()
                },
                "new",
                1000,
                profile
            )
            .await
            .unwrap(),
        WriteOutcome::Conflict
    );
    assert_eq!(
        env.store
            .rotate_secret(&d, "new", 1000, profile)
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    let now = env.clock.now();
    assert!(
        env.store
            .touch_device(d.device_id, 999, now, Some("online"))
            .await
            .unwrap()
            .is_none()
    );
    let seen = env
        .store
        .touch_device(d.device_id, 1000, now, Some("online"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.last_seen, None, "the answer is the device as it was");
    assert_eq!(seen.firmware_version, "1.6.0");
    let again = env
        .store
        .touch_device(d.device_id, 1000, now + Duration::seconds(30), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again.last_seen,
        Some(now),
        "the old last_seen shows the gap"
    );
    assert!(
        env.store
            .touch_device(DeviceId::random(), 1000, now, Some("online"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn writes_to_a_missing_device_create_nothing() {
    let env = TestEnv::new().await;
    let ghost = DeviceId::random();
    let progress = FirmwareProgress {
        firmware_version: kernel::version::FirmwareVersion::parse("2.0").unwrap(),
        status: FirmwareStatus::Installed,
        progress: None,
        message: None,
        at: env.clock.now(),
    };
    assert!(
        env.store
            .set_firmware(FirmwareWrite {
                device_id: ghost,
                progress: &progress,
                installed: Some("2.0"),
                now: env.clock.now(),
                activity: None,
            })
            .await
            .is_err()
    );
    assert!(env.store.get_device(ghost).await.unwrap().is_none());
}

#[tokio::test]
async fn a_site_never_changes_operator_and_members_move_only_from_where_they_were() {
    let env = TestEnv::new().await;
    let d = registered(&env, "ACME-8").await;
    let now = env.clock.now();
    let site = Site {
        site_id: SiteId::random(),
        operator_id: op("acme-charging-uk"),
        name: "Coventry".into(),
        address: String::new(),
        postcode: String::new(),
        lat: 52.4,
        lng: -1.5,
        power_capacity: 176.0,
        created_at: now,
        updated_at: now,
        flex_limit_kw: None,
        flex_until: None,
        city: None,
        country: None,
        time_zone: None,
        load_management: None,
    };
    let stale = SiteMember {
        previous_site: Some(SiteId::random()),
        ..SiteMember::from(&d)
    };
    assert_eq!(
        env.store
            .save_site(&site, None, &[stale], &act())
            .await
            .unwrap(),
        WriteOutcome::Conflict
    );
    assert!(
        env.store.get_site(site.site_id).await.unwrap().is_none(),
        "rolled back"
    );

    let member = SiteMember::from(&d);
    assert_eq!(
        env.store
            .save_site(&site, None, &[member], &act())
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(
        env.store
            .get_device(d.device_id)
            .await
            .unwrap()
            .unwrap()
            .site_id,
        Some(site.site_id)
    );

    let mut hijack = site.clone();
    hijack.operator_id = op("other-operator");
    assert_eq!(
        env.store
            .save_site(&hijack, Some(&site), &[], &act())
            .await
            .unwrap(),
        WriteOutcome::Conflict
    );
    assert_eq!(
        env.store
            .get_site(site.site_id)
            .await
            .unwrap()
            .unwrap()
            .operator_id,
        site.operator_id
    );
}

#[tokio::test]
async fn an_existing_operator_is_not_overwritten() {
    let env = TestEnv::new().await;
    let acme = Operator {
        id: op("acme-charging-uk"),
        name: "Acme".into(),
        country: "GB".into(),
        status: "active".into(),
    };
    assert_eq!(
        env.store.ensure_operator(&acme).await.unwrap(),
        WriteOutcome::Written
    );
    let renamed = Operator {
        name: "Other".into(),
        ..acme.clone()
    };
    assert_eq!(
        env.store.ensure_operator(&renamed).await.unwrap(),
        WriteOutcome::Conflict
    );
}

#[tokio::test]
async fn expired_request_log_lines_are_hidden_on_read() {
    let env = TestEnv::new().await;
    let now = env.clock.now();
    // The store keeps the log 24 hours (the default retention).
    let line = |i: i64, age: Duration| RequestLogEntry {
        at: now - age + Duration::milliseconds(i),
        method: "GET".into(),
        path: format!("/v1/r{i}"),
        status: 200,
        duration_ms: 1,
        request_id: format!("req-{i}"),
        caller: None,
        function: "console-api".into(),
    };
    env.store
        .log_request(&line(1, Duration::hours(25)))
        .await
        .unwrap();
    env.store
        .log_request(&line(2, Duration::hours(1)))
        .await
        .unwrap();
    env.store
        .log_request(&line(3, Duration::hours(1)))
        .await
        .unwrap();
    let recent = env.store.recent_requests(200, now).await.unwrap();
    let paths: Vec<_> = recent.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(paths, ["/v1/r3", "/v1/r2"], "newest first, expired hidden");
}

#[tokio::test]
async fn a_batch_read_returns_every_existing_device_beyond_one_batch() {
    let env = TestEnv::new().await;
    let mut ids = Vec::new();
    for i in 0..105 {
        ids.push(registered(&env, &format!("B-{i:03}")).await.device_id);
    }
    ids.push(DeviceId::random());
    let found = env.store.get_devices(&ids).await.unwrap();
    assert_eq!(found.len(), 105);
    let batches = env
        .counter
        .snapshot()
        .get("BatchGetItem")
        .copied()
        .unwrap_or(0);
    assert_eq!(
        batches,
        2,
        "at most 100 keys per BatchGetItem: {:?}",
        env.counter.snapshot()
    );
}

#[tokio::test]
async fn an_idempotency_key_used_twice_queues_one_command() {
    let env = TestEnv::new().await;
    let d = registered(&env, "IDEM-1").await;
    let first = command(&d, env.clock.now());
    let retry = command(&d, env.clock.now());
    let claim = IdempotencyClaim {
        key: "client#key-1".into(),
        request_digest: "digest-of-the-first-request".into(),
    };
    assert_eq!(
        env.store
            .insert_command(&first, &act(), Some(&claim))
            .await
            .unwrap(),
        Queued::Created
    );
    let other = IdempotencyClaim {
        request_digest: "another-request".into(),
        ..claim.clone()
    };
    assert_eq!(
        env.store
            .insert_command(&retry, &act(), Some(&other))
            .await
            .unwrap(),
        Queued::Replayed {
            command_id: first.command_id,
            request_digest: "digest-of-the-first-request".into(),
        },
        "the key answers with the first command and what it was bound to"
    );
    assert!(
        env.store
            .get_command(retry.command_id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        env.store
            .get_device(d.device_id)
            .await
            .unwrap()
            .unwrap()
            .open_commands,
        1
    );
}

#[tokio::test]
async fn activity_is_written_with_its_change_or_not_at_all() {
    let env = TestEnv::new().await;
    registered(&env, "ACT-1").await;
    let before = env.items_with_pk_prefix("ACT").await;
    assert_eq!(before, 1);
    let taken = device("ACT-1", "acme-charging-uk", env.clock.now());
    assert_eq!(
        env.store.insert_device(&taken, &act()).await.unwrap(),
        WriteOutcome::Conflict
    );
    assert_eq!(
        env.items_with_pk_prefix("ACT").await,
        before,
        "a cancelled change leaves no activity"
    );
    let feed = env
        .store
        .activity_since(None, 10, env.clock.now())
        .await
        .unwrap();
    assert_eq!(feed.len(), 1);
    let (cursor, _) = &feed[0];
    assert!(
        env.store
            .activity_since(Some(cursor), 10, env.clock.now())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        env.store
            .activity_since(Some("not hex"), 10, env.clock.now())
            .await,
        Err(StoreError::InvalidCursor)
    ));
}

#[tokio::test]
async fn operator_records_come_newest_first_within_the_range() {
    let env = TestEnv::new().await;
    let d = registered(&env, "REC-1").await;
    let now = env.clock.now();
    for hours in [5, 3, 1] {
        let record = ChargingRecord {
            record_id: RecordId::random(),
            device_id: d.device_id,
            operator_id: d.operator_id.clone(),
            site_id: None,
            connector_id: ConnectorId::new(1).unwrap(),
            start_time: now - Duration::hours(hours),
            end_time: now,
            energy: hours as f64,
            max_power: None,
            cost: None,
            currency: None,
            stop_reason: None,
            received_at: now,
            id_tag: None,
            price: None,
            parking_time_s: 0,
            authorization: None,
        };
        env.store.put_record(&record, &act(), None).await.unwrap();
    }
    let acme = op("acme-charging-uk");
    let all = env
        .store
        .operator_records(&acme, now - Duration::hours(6), now)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|r| r.energy).collect::<Vec<_>>(),
        [1.0, 3.0, 5.0]
    );
    let some = env
        .store
        .operator_records(&acme, now - Duration::hours(4), now - Duration::hours(3))
        .await
        .unwrap();
    assert_eq!(
        some.iter().map(|r| r.energy).collect::<Vec<_>>(),
        [3.0],
        "bounds are inclusive"
    );
    let other = env
        .store
        .operator_records(&op("other-operator"), now - Duration::hours(6), now)
        .await
        .unwrap();
    assert!(other.is_empty());
}

#[tokio::test]
async fn a_cap_on_a_missing_site_is_an_error_not_a_new_item() {
    let env = TestEnv::new().await;
    let ghost = SiteId::random();
    assert!(
        env.store
            .set_site_cap(ghost, 10.0, env.clock.now(), env.clock.now())
            .await
            .is_err()
    );
    assert!(env.store.get_site(ghost).await.unwrap().is_none());
}

#[tokio::test]
async fn a_poll_of_the_activity_feed_reads_forward_from_its_cursor() {
    let env = TestEnv::new().await;
    let now = env.clock.now();
    let line = |i: i64| Activity {
        at: now + Duration::milliseconds(i),
        summary: format!("line {i}"),
        ..act()
    };
    let first = device("FEED-0", "acme-charging-uk", now);
    env.store.insert_device(&first, &line(0)).await.unwrap();
    let start = env.store.activity_since(None, 10, now).await.unwrap();
    let cursor = start[0].0.clone();
    for i in 1..=5 {
        let d = device(&format!("FEED-{i}"), "acme-charging-uk", now);
        env.store.insert_device(&d, &line(i)).await.unwrap();
    }
    // A page of 3 from the cursor holds the 3 oldest new lines, newest first.
    let page = env
        .store
        .activity_since(Some(&cursor), 3, now)
        .await
        .unwrap();
    let summaries: Vec<_> = page.iter().map(|(_, a)| a.summary.as_str()).collect();
    assert_eq!(summaries, ["line 3", "line 2", "line 1"]);
    let rest = env
        .store
        .activity_since(Some(&page[0].0), 3, now)
        .await
        .unwrap();
    let summaries: Vec<_> = rest.iter().map(|(_, a)| a.summary.as_str()).collect();
    assert_eq!(summaries, ["line 5", "line 4"]);
}

#[tokio::test]
async fn a_site_saved_from_a_stale_read_does_not_erase_a_cap_set_meanwhile() {
    let env = TestEnv::new().await;
    let now = env.clock.now();
    let site = Site {
        site_id: SiteId::random(),
        operator_id: op("acme-charging-uk"),
        name: "Depot".into(),
        address: String::new(),
        postcode: String::new(),
        lat: 52.0,
        lng: -1.0,
        power_capacity: 100.0,
        created_at: now,
        updated_at: now,
        flex_limit_kw: None,
        flex_until: None,
        city: None,
        country: None,
        time_zone: None,
        load_management: None,
    };
    assert_eq!(
        env.store.save_site(&site, None, &[], &act()).await.unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(
        env.store.save_site(&site, None, &[], &act()).await.unwrap(),
        WriteOutcome::Conflict,
        "a second creation from a read that found nothing"
    );
    let later = now + Duration::seconds(5);
    env.store
        .set_site_cap(site.site_id, 20.0, later + Duration::minutes(15), later)
        .await
        .unwrap();
    let renamed = Site {
        name: "Renamed".into(),
        updated_at: later,
        ..site.clone()
    };
    assert_eq!(
        env.store
            .save_site(&renamed, Some(&site), &[], &act())
            .await
            .unwrap(),
        WriteOutcome::Conflict
    );
    let stored = env.store.get_site(site.site_id).await.unwrap().unwrap();
    assert_eq!(stored.flex_limit_kw, Some(20.0));
}

#[tokio::test]
async fn a_command_update_from_a_stale_history_is_refused() {
    let env = TestEnv::new().await;
    let d = registered(&env, "HIST-1").await;
    let mut c = command(&d, env.clock.now());
    c.history = vec![HistoryEntry {
        status: CommandStatus::Queued,
        at: env.clock.now(),
        message: None,
    }];
    env.store.insert_command(&c, &act(), None).await.unwrap();
    let delivered = |at_s: i64| {
        let mut next = c.clone();
        next.status = CommandStatus::Delivered;
        next.history.push(HistoryEntry {
            status: CommandStatus::Delivered,
            at: env.clock.now() + Duration::seconds(at_s),
            message: None,
        });
        next
    };
    let first = delivered(1);
    assert_eq!(
        env.store
            .update_command(&first, CommandStatus::Queued, &act(), None)
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    // A redelivery built from the same read races the first and loses.
    let mut again = delivered(2);
    again.status = CommandStatus::Delivered;
    assert_eq!(
        env.store
            .update_command(&again, CommandStatus::Delivered, &act(), None)
            .await
            .unwrap(),
        WriteOutcome::Conflict
    );
    let stored = env.store.get_command(c.command_id).await.unwrap().unwrap();
    assert_eq!(stored.history.len(), 2);
}

#[tokio::test]
async fn attempts_are_counted_per_source_scope_and_window() {
    let env = TestEnv::new().await;
    let start = at("2026-05-10T14:00:00Z");
    let end = start + Duration::minutes(5);
    let count = |scope: &'static str, source: &'static str, from: DateTime<Utc>| {
        let store = env.store.clone();
        async move {
            store
                .count_attempt(scope, source, from, from + Duration::minutes(5))
                .await
                .unwrap()
        }
    };
    assert_eq!(count("device-auth", "198.51.100.7", start).await, 1);
    assert_eq!(count("device-auth", "198.51.100.7", start).await, 2);
    assert_eq!(
        count("device-auth", "203.0.113.9", start).await,
        1,
        "per source"
    );
    assert_eq!(
        count("register", "198.51.100.7", start).await,
        1,
        "per scope"
    );
    assert_eq!(
        count("device-auth", "198.51.100.7", end).await,
        1,
        "per window"
    );
}

fn campaign(now: DateTime<Utc>, status: CampaignStatus, eligible: u32) -> Campaign {
    Campaign {
        campaign_id: CampaignId::time_ordered(),
        operator_id: op("acme-charging-uk"),
        model: "TP-AC22".into(),
        target_version: kernel::version::FirmwareVersion::parse("2.0.0").unwrap(),
        firmware_url: "https://fw.example.com/2.0.0.bin".into(),
        site_id: None,
        waves: vec![50, 100],
        failure_threshold_pct: 10,
        status,
        wave: 0,
        paused_reason: None,
        counts: CampaignCounts {
            eligible,
            pending: eligible,
            ..CampaignCounts::default()
        },
        resumed_wave: None,
        revision: 0,
        created_at: now,
        updated_at: now,
    }
}

fn member(device: &Device, now: DateTime<Utc>) -> CampaignMember {
    CampaignMember {
        device_id: device.device_id,
        state: MemberState::Pending,
        wave: None,
        sent_at: None,
        timed_out: false,
        updated_at: now,
    }
}

#[tokio::test]
async fn a_campaign_member_moves_once_and_the_counters_move_with_it() {
    let env = TestEnv::new().await;
    let now = env.clock.now();
    let (a, b) = (
        registered(&env, "CAMP-1").await,
        registered(&env, "CAMP-2").await,
    );
    let c = campaign(now, CampaignStatus::Running, 2);
    let members = [member(&a, now), member(&b, now)];
    env.store
        .insert_campaign(&c, &members, &act())
        .await
        .unwrap();
    assert_eq!(
        env.store
            .campaign_members(c.campaign_id)
            .await
            .unwrap()
            .len(),
        2
    );
    let link = CampaignLink {
        campaign_id: c.campaign_id,
        target_version: kernel::version::FirmwareVersion::parse("2.0.0").unwrap(),
    };
    let sent = CampaignMember {
        state: MemberState::Updating,
        sent_at: Some(now),
        ..members[0].clone()
    };
    let send = || {
        env.store.move_member(
            c.campaign_id,
            &sent,
            MemberState::Pending,
            LinkChange::Set(link.clone()),
        )
    };
    assert_eq!(send().await.unwrap(), WriteOutcome::Written);
    assert_eq!(send().await.unwrap(), WriteOutcome::Conflict, "sent once");
    let stored = env
        .store
        .get_campaign(c.campaign_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.counts.pending, stored.counts.updating), (1, 1));
    assert_eq!(stored.revision, 1);
    let device = env.store.get_device(a.device_id).await.unwrap().unwrap();
    assert_eq!(device.campaign, Some(link));

    let installed = CampaignMember {
        state: MemberState::Installed,
        ..sent.clone()
    };
    let outcome = env
        .store
        .move_member(
            c.campaign_id,
            &installed,
            MemberState::Updating,
            LinkChange::Clear,
        )
        .await
        .unwrap();
    assert_eq!(outcome, WriteOutcome::Written);
    let stored = env
        .store
        .get_campaign(c.campaign_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.counts.updating, stored.counts.installed), (0, 1));
    let device = env.store.get_device(a.device_id).await.unwrap().unwrap();
    assert_eq!(device.campaign, None);
}

#[tokio::test]
async fn a_campaign_write_from_a_stale_revision_is_refused_and_only_active_ones_are_swept() {
    let env = TestEnv::new().await;
    let now = env.clock.now();
    let d = registered(&env, "CAMP-3").await;
    let running = campaign(now, CampaignStatus::Running, 1);
    env.store
        .insert_campaign(&running, &[member(&d, now)], &act())
        .await
        .unwrap();
    let done = campaign(now, CampaignStatus::Completed, 1);
    env.store
        .insert_campaign(&done, &[member(&d, now)], &act())
        .await
        .unwrap();
    let active = env.store.active_campaigns().await.unwrap();
    assert_eq!(
        active.iter().map(|c| c.campaign_id).collect::<Vec<_>>(),
        [running.campaign_id]
    );

    let mut paused = running.clone();
    paused.status = CampaignStatus::Paused;
    paused.revision = 1;
    assert_eq!(
        env.store.update_campaign(&paused, 0, None).await.unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(
        env.store.update_campaign(&paused, 0, None).await.unwrap(),
        WriteOutcome::Conflict
    );
    let mut cancelled = paused.clone();
    cancelled.status = CampaignStatus::Cancelled;
    cancelled.revision = 2;
    assert_eq!(
        env.store
            .update_campaign(&cancelled, 1, None)
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    assert!(env.store.active_campaigns().await.unwrap().is_empty());
    let listed = env
        .store
        .operator_campaigns(&op("acme-charging-uk"))
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].campaign_id, done.campaign_id, "newest first");
}

#[tokio::test]
async fn a_settled_configuration_forgets_only_its_own_pending_version() {
    let env = TestEnv::new().await;
    let now = env.clock.now();
    let d = registered(&env, "CFG-1").await;
    let profile = ProfileId::time_ordered();
    let (first, second) = (CommandId::time_ordered(), CommandId::time_ordered());
    let pending = |version, command_id| PendingConfiguration {
        profile_id: profile,
        version,
        command_id,
        queued_at: now,
    };
    env.store
        .set_configuration_pending(d.device_id, &pending(1, first))
        .await
        .unwrap();
    env.store
        .set_configuration_pending(d.device_id, &pending(2, second))
        .await
        .unwrap();
    let applied = AppliedConfiguration {
        profile_id: profile,
        version: 1,
        applied_at: now,
    };
    env.store
        .settle_configuration(d.device_id, first, Some(&applied))
        .await
        .unwrap();
    let stored = env.store.get_device(d.device_id).await.unwrap().unwrap();
    assert_eq!(stored.configuration, Some(applied));
    assert_eq!(stored.configuration_pending, Some(pending(2, second)));
    env.store
        .settle_configuration(d.device_id, second, None)
        .await
        .unwrap();
    let stored = env.store.get_device(d.device_id).await.unwrap().unwrap();
    assert_eq!(stored.configuration_pending, None);
    assert_eq!(stored.configuration.map(|c| c.version), Some(1));
}

#[tokio::test]
async fn profiles_are_listed_per_operator_and_updated_only_from_the_version_read() {
    let env = TestEnv::new().await;
    let now = env.clock.now();
    let p = ConfigurationProfile {
        profile_id: ProfileId::time_ordered(),
        operator_id: op("acme-charging-uk"),
        name: "Depot".into(),
        model: None,
        version: 1,
        settings: ChargerSettings {
            heartbeat_interval_s: 30,
            meter_interval_s: 60,
            max_current_a: 16.0,
            offline_charging: false,
            free_vend: false,
        },
        created_at: now,
        updated_at: now,
    };
    env.store.insert_profile(&p, &act()).await.unwrap();
    let next = ConfigurationProfile {
        version: 2,
        ..p.clone()
    };
    assert_eq!(
        env.store.update_profile(&next, 1, &act()).await.unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(
        env.store.update_profile(&next, 1, &act()).await.unwrap(),
        WriteOutcome::Conflict
    );
    let mine = env
        .store
        .operator_profiles(&op("acme-charging-uk"))
        .await
        .unwrap();
    assert_eq!(mine, [next]);
    assert!(
        env.store
            .operator_profiles(&op("volt-uk"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_command_item_written_before_typed_parameters_still_loads() {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let env = TestEnv::new().await;
    let d = registered(&env, "ACME-OLD").await;
    let id = CommandId::time_ordered();
    let (pk, sk) = store::keys::command(id);
    let now = env
        .clock
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let params = std::collections::HashMap::from([
        ("charge_power".to_owned(), A::N("7.4".into())),
        ("target_soc".to_owned(), A::N("80".into())),
    ]);
    let history = A::L(vec![A::M(std::collections::HashMap::from([
        ("status".to_owned(), A::S("queued".into())),
        ("at".to_owned(), A::S(now.clone())),
        ("message".to_owned(), A::Null(true)),
    ]))]);
    // The item exactly as commands were written before their parameters
    // were typed: a map beside `command`.
    env.store
        .client()
        .put_item()
        .table_name(env.store.table())
        .item("PK", A::S(pk))
        .item("SK", A::S(sk))
        .item("GSI1PK", A::S(store::keys::device_queue(d.device_id)))
        .item("GSI1SK", A::S(id.to_string()))
        .item("command_id", A::S(id.to_string()))
        .item("command", A::S("start_charging".into()))
        .item("device_id", A::S(d.device_id.to_string()))
        .item("connector_id", A::N("1".into()))
        .item("status", A::S("queued".into()))
        .item("params", A::M(params))
        .item("created_at", A::S(now.clone()))
        .item("expires_at", A::S(now))
        .item("delivered_at", A::Null(true))
        .item("operator_id", A::S(d.operator_id.to_string()))
        .item("history", history)
        .send()
        .await
        .unwrap();
    let read = env.store.get_command(id).await.unwrap().unwrap();
    assert_eq!(
        read.params,
        CommandParams::StartCharging(kernel::command::params::StartCharging {
            charge_power: Some(7.4),
            target_soc: Some(80.0),
        })
    );
    let open = env.store.open_commands(d.device_id).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].command_id, id);
    // Written back, it keeps the same shape.
    let mut delivered = read.clone();
    delivered.status = CommandStatus::Delivered;
    delivered.history.push(HistoryEntry {
        status: CommandStatus::Delivered,
        at: env.clock.now(),
        message: None,
    });
    env.store
        .update_command(&delivered, CommandStatus::Queued, &act(), None)
        .await
        .unwrap();
    let raw = env
        .store
        .client()
        .get_item()
        .table_name(env.store.table())
        .key("PK", A::S(store::keys::command(id).0))
        .key("SK", A::S("CMD".into()))
        .send()
        .await
        .unwrap();
    let item = raw.item().unwrap();
    assert_eq!(item["command"], A::S("start_charging".into()));
    let params = item["params"].as_m().unwrap();
    let soc: f64 = params["target_soc"].as_n().unwrap().parse().unwrap();
    assert_eq!(soc, 80.0);
    assert!(!params.contains_key("command"));
}
