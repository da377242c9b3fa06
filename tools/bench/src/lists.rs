//! Console lists of one big operator: registers a fleet in the default
//! operator (through the domain, in process, on the embedded engine), puts
//! it in sites, then times the first page of each list through the routes
//! and counts the DynamoDB requests each costs.

use crate::percentile;
use domain::devices::{Possession, Registration};
use domain::sites::{SiteAuthority, SiteRegistration};
use kernel::ids::DeviceId;
use kernel::model::Role;
use kernel::settings::RequestLogMode;
use std::time::Instant;
use testkit::{TestEnv, call_as};

/// Registrations in flight at once.
const CONCURRENCY: usize = 8;
/// Devices per site.
const PER_SITE: usize = 25;

/// Models and firmware versions the fleet is spread over.
const BUILDS: [(&str, &str); 4] = [
    ("TP-AC22", "1.5.0"),
    ("TP-AC22", "1.6.0"),
    ("TP-DC180", "2.0.1"),
    ("TP-DC180", "2.1.0"),
];

async fn register_fleet(env: &TestEnv, devices: usize) -> Result<Vec<DeviceId>, String> {
    let mut ids = Vec::with_capacity(devices);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..CONCURRENCY {
        let domain = env.domain.clone();
        tasks.spawn(async move {
            let mut mine = Vec::new();
            for i in (worker..devices).step_by(CONCURRENCY) {
                let (model, firmware) = BUILDS[i % BUILDS.len()];
                let reg = Registration {
                    sn: kernel::ids::SerialNumber::parse(&format!("LIST-{i:06}"))
                        .expect("a serial number"),
                    model: model.into(),
                    manufacturer: "Tellus Power".into(),
                    firmware_version: kernel::version::FirmwareVersion::parse(firmware)
                        .expect("a version"),
                };
                let creds = domain
                    .devices
                    .register(reg, Possession::default(), "bench")
                    .await
                    .map_err(|e| format!("registration {i}: {e}"))?;
                mine.push((i, creds.device_id));
            }
            Ok::<_, String>(mine)
        });
    }
    let mut all = Vec::with_capacity(devices);
    while let Some(done) = tasks.join_next().await {
        all.extend(done.map_err(|e| e.to_string())??);
    }
    all.sort();
    ids.extend(all.into_iter().map(|(_, id)| id));
    Ok(ids)
}

async fn place_in_sites(env: &TestEnv, ids: &[DeviceId]) -> Result<usize, String> {
    let mut tasks = tokio::task::JoinSet::new();
    let groups: Vec<Vec<DeviceId>> = ids.chunks(PER_SITE).map(<[_]>::to_vec).collect();
    let sites = groups.len();
    for (worker, mine) in (0..CONCURRENCY).map(|w| {
        (
            w,
            groups
                .iter()
                .enumerate()
                .filter(|(i, _)| i % CONCURRENCY == w)
                .map(|(i, g)| (i, g.clone()))
                .collect::<Vec<_>>(),
        )
    }) {
        let domain = env.domain.clone();
        tasks.spawn(async move {
            for (i, device_ids) in mine {
                let reg = SiteRegistration {
                    site_id: None,
                    operator_id: None,
                    name: format!("Site {i:05}"),
                    address: format!("{i} Bench Road"),
                    postcode: "CV1 1AA".into(),
                    lat: 52.0,
                    lng: -1.5,
                    power_capacity: 550.0,
                    device_ids,
                };
                domain
                    .sites
                    .register_site(&SiteAuthority::Anonymous, reg)
                    .await
                    .map_err(|e| format!("site {i} (worker {worker}): {e}"))?;
            }
            Ok::<_, String>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    Ok(sites)
}

pub async fn run(devices: usize, rounds: usize) -> Result<(), String> {
    let env = TestEnv::with_settings(|s| {
        s.request_log = RequestLogMode::Off;
        s.registration_limit.attempts = 0;
    })
    .await;
    let app = local_server::app(&env.domain, Default::default(), "bench");
    let acme = env.domain.settings.default_operator.clone();

    let started = Instant::now();
    let ids = register_fleet(&env, devices).await?;
    let registered = started.elapsed();
    let sites = place_in_sites(&env, &ids).await?;
    println!(
        "lists: {devices} devices registered in {:.0} s, in {sites} sites of {PER_SITE} ({:.0} s), one operator",
        registered.as_secs_f64(),
        (started.elapsed() - registered).as_secs_f64()
    );

    let operator = env.operator_token(Role::Viewer, vec![acme]).await;
    let admin = env.operator_token(Role::Admin, vec![]).await;
    let routes = [
        ("operator", &operator, "/v1/devices?size=20"),
        ("operator", &operator, "/v1/devices?page=50&size=20"),
        ("operator", &operator, "/v1/sites?size=20"),
        ("operator", &operator, "/v1/models"),
        ("operator", &operator, "/v1/firmware/versions"),
        ("admin", &admin, "/v1/devices?size=20"),
        ("operator", &operator, "/v1/devices?size=20&model=TP-DC180"),
        ("operator", &operator, "/v1/devices?size=20&status=offline"),
    ];
    println!(
        "{:<9} {:<40} {:>9} {:>9} {:>9}  requests",
        "caller", "route", "p50 ms", "p99 ms", "total"
    );
    for (who, token, path) in routes {
        // A route that reads the whole fleet is timed fewer times.
        let rounds = if path.contains("status=") { 3 } else { rounds };
        let mut times = Vec::with_capacity(rounds);
        let mut requests = Default::default();
        let mut total = serde_json::Value::Null;
        for _ in 0..rounds {
            env.counter.reset();
            let t = Instant::now();
            let r = call_as(&app, token, "GET", path, None).await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            if !r.status.is_success() {
                return Err(format!("{path}: {} {}", r.status, r.body));
            }
            requests = env.counter.snapshot();
            total = r.data()["total"].clone();
        }
        times.sort_by(f64::total_cmp);
        let requests: Vec<String> = requests
            .into_iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect();
        println!(
            "{who:<9} {path:<40} {:>9.1} {:>9.1} {:>9}  {}",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            total.to_string(),
            requests.join(", ")
        );
    }
    Ok(())
}
