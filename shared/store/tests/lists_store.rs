//! The store behind big lists: operators' counters kept by every write
//! that adds, moves or changes a device or adds a site, listings read up
//! to a limit, and sites too large for one transaction saved in parts,
//! all or nothing.

use chrono::{DateTime, Utc};
use domain::devices::{DeviceStore, FleetCounts, Profile};
use domain::sites::{SiteMember, SiteStore};
use domain::telemetry::{FirmwareWrite, TelemetryStore};
use kernel::Clock;
use kernel::ids::{OperatorId, SiteId};
use kernel::model::*;
use kernel::storage::WriteOutcome;
use testkit::{TestEnv, unseen_device as device};

fn op(slug: &str) -> OperatorId {
    OperatorId::parse(slug).unwrap()
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

fn site(name: &str, operator: &str, now: DateTime<Utc>) -> Site {
    Site {
        site_id: SiteId::random(),
        operator_id: op(operator),
        name: name.into(),
        address: String::new(),
        postcode: String::new(),
        lat: 52.0,
        lng: -1.0,
        power_capacity: 1000.0,
        created_at: now,
        updated_at: now,
        flex_limit_kw: None,
        flex_until: None,
        city: None,
        country: None,
        time_zone: None,
        load_management: None,
    }
}

async fn registered(env: &TestEnv, sn: &str, operator: &str) -> Device {
    let d = device(sn, operator, env.clock.now());
    assert_eq!(
        env.store.insert_device(&d, &act()).await.unwrap(),
        WriteOutcome::Written
    );
    d
}

/// Devices per build, as the counters show them.
fn builds(counts: &FleetCounts) -> Vec<(String, u32)> {
    counts
        .builds()
        .map(|((m, _, v), n)| (format!("{m} {v}"), n))
        .collect()
}

#[tokio::test]
async fn counters_follow_registration_reregistration_moves_and_installs() {
    let env = TestEnv::new().await;
    let (acme, volt) = (op("acme-charging-uk"), op("volt-uk"));
    let a = registered(&env, "C-1", "acme-charging-uk").await;
    let b = registered(&env, "C-2", "acme-charging-uk").await;
    let c = registered(&env, "C-3", "acme-charging-uk").await;
    let counts = env.store.fleet_counts(&acme).await.unwrap();
    assert_eq!(builds(&counts), [("TP-AC22 1.5.0".into(), 3)]);
    assert_eq!(counts.devices(), 3);

    // Re-registered with another firmware: moved from one build to the other.
    let profile = Profile {
        model: "TP-AC22",
        manufacturer: "Tellus Power",
        firmware_version: "1.6.0",
    };
    assert_eq!(
        env.store
            .rotate_secret(&a, "new", 1, profile)
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    // A rotation from a stale read changes nothing, counters included.
    assert_eq!(
        env.store
            .rotate_secret(&a, "newer", 2, profile)
            .await
            .unwrap(),
        WriteOutcome::Conflict
    );
    // An install moves it; reporting the version it runs again does not.
    let progress = FirmwareProgress {
        firmware_version: kernel::version::FirmwareVersion::parse("1.7.0").unwrap(),
        status: FirmwareStatus::Installed,
        progress: None,
        message: None,
        at: env.clock.now(),
    };
    for _ in 0..2 {
        env.store
            .set_firmware(FirmwareWrite {
                device_id: b.device_id,
                progress: &progress,
                installed: Some("1.7.0"),
                now: env.clock.now(),
                activity: None,
            })
            .await
            .unwrap();
    }
    assert_eq!(
        builds(&env.store.fleet_counts(&acme).await.unwrap()),
        [
            ("TP-AC22 1.5.0".into(), 1),
            ("TP-AC22 1.6.0".into(), 1),
            ("TP-AC22 1.7.0".into(), 1)
        ]
    );

    // Joining a site of another operator counts it out of one, into the other.
    let s = site("Volt depot", "volt-uk", env.clock.now());
    assert_eq!(
        env.store
            .save_site(&s, None, &[SiteMember::from(&c)], &act())
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    let acme_counts = env.store.fleet_counts(&acme).await.unwrap();
    let volt_counts = env.store.fleet_counts(&volt).await.unwrap();
    assert_eq!(
        (acme_counts.devices(), acme_counts.site_count()),
        (2, 0),
        "{acme_counts:?}"
    );
    assert_eq!((volt_counts.devices(), volt_counts.site_count()), (1, 1));
    assert_eq!(builds(&volt_counts), [("TP-AC22 1.5.0".into(), 1)]);
}

#[tokio::test]
async fn listings_and_sites_are_read_in_order_only_up_to_the_limit() {
    let env = TestEnv::new().await;
    let acme = op("acme-charging-uk");
    for sn in ["L-4", "L-2", "L-5", "L-1", "L-3"] {
        registered(&env, sn, "acme-charging-uk").await;
    }
    let first = env.store.operator_listing(&acme, 3).await.unwrap();
    let sns: Vec<&str> = first.iter().map(|l| l.sn.as_str()).collect();
    assert_eq!(sns, ["L-1", "L-2", "L-3"]);
    assert_eq!(
        env.store.operator_listing(&acme, 50).await.unwrap().len(),
        5
    );

    let now = env.clock.now();
    for name in ["Depot 2", "Abbey", "Depot", "Zeta"] {
        let s = site(name, "acme-charging-uk", now);
        env.store.save_site(&s, None, &[], &act()).await.unwrap();
    }
    let names: Vec<String> = env
        .store
        .first_sites(&acme, 3)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["Abbey", "Depot", "Depot 2"]);
    assert_eq!(env.store.fleet_counts(&acme).await.unwrap().site_count(), 4);
}

/// Members of the big site: 500 on the embedded engine; on another
/// endpoint (moto, which copies every table for each transaction, so its
/// memory and time grow with the square of the items) 120, still three
/// transactions' worth.
fn big_site(env: &TestEnv) -> usize {
    if env.backend == "dynoxide" { 500 } else { 120 }
}

#[tokio::test]
async fn a_site_of_500_devices_moves_them_all_or_none() {
    let env = TestEnv::new().await;
    let (acme, volt) = (op("acme-charging-uk"), op("volt-uk"));
    let size = big_site(&env);
    let mut fleet = Vec::new();
    for i in 0..size {
        fleet.push(registered(&env, &format!("BIG-{i:03}"), "acme-charging-uk").await);
    }
    let now = env.clock.now();
    let first = site("First", "acme-charging-uk", now);
    let members: Vec<SiteMember> = fleet.iter().map(SiteMember::from).collect();
    assert_eq!(
        env.store
            .save_site(&first, None, &members, &act())
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(
        env.store.site_devices(first.site_id).await.unwrap().len(),
        size
    );

    // Into another operator's site, the last member read stale: the parts
    // already written are undone and the new site is gone again.
    let second = site("Second", "volt-uk", now);
    let mut moving: Vec<SiteMember> = fleet
        .iter()
        .map(|d| SiteMember {
            previous_site: Some(first.site_id),
            ..SiteMember::from(d)
        })
        .collect();
    moving[size - 1].previous_site = None;
    assert_eq!(
        env.store
            .save_site(&second, None, &moving, &act())
            .await
            .unwrap(),
        WriteOutcome::Conflict
    );
    assert!(env.store.get_site(second.site_id).await.unwrap().is_none());
    let still = env.store.site_devices(first.site_id).await.unwrap();
    assert_eq!(still.len(), size);
    assert!(still.iter().all(|d| d.operator_id == acme));
    assert!(
        env.store
            .site_devices(second.site_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        env.store
            .operator_listing(&volt, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        env.store.operator_listing(&acme, 1000).await.unwrap().len(),
        size
    );
    let volt_counts = env.store.fleet_counts(&volt).await.unwrap();
    assert_eq!((volt_counts.devices(), volt_counts.site_count()), (0, 0));
    assert_eq!(env.store.fleet_counts(&acme).await.unwrap().devices(), size);

    // Read right, they all move.
    moving[size - 1].previous_site = Some(first.site_id);
    assert_eq!(
        env.store
            .save_site(&second, None, &moving, &act())
            .await
            .unwrap(),
        WriteOutcome::Written
    );
    let moved = env.store.site_devices(second.site_id).await.unwrap();
    assert_eq!(moved.len(), size);
    assert!(moved.iter().all(|d| d.operator_id == volt));
    assert!(
        env.store
            .site_devices(first.site_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        env.store.operator_listing(&volt, 1000).await.unwrap().len(),
        size
    );
    let (acme_counts, volt_counts) = (
        env.store.fleet_counts(&acme).await.unwrap(),
        env.store.fleet_counts(&volt).await.unwrap(),
    );
    assert_eq!((acme_counts.devices(), acme_counts.site_count()), (0, 1));
    assert_eq!((volt_counts.devices(), volt_counts.site_count()), (size, 1));
}
