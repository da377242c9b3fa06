//! The fleet: enrol chargers, register sites, run every charger on its own
//! task for the duration, print progress, and sum up.

use crate::Config;
use crate::api::Api;
use crate::charger::{AC, Charger, DC_V2G};
use crate::stats::{DeviceReport, Stats, Summary};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Simulated seconds between two steps of a charger.
const STEP_S: f64 = 10.0;

/// Simulated seconds over which an OCPP fleet's chargers boot: one
/// heartbeat interval.
const OCPP_BOOT_SPREAD_S: f64 = 300.0;

/// The most the service accepts as a site's capacity (kW).
const SITE_CAPACITY_MAX_KW: f64 = 100_000.0;

/// What a charger keeps across runs (its own flash, in the real world).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    chargers: BTreeMap<String, (String, String)>,
    sites: Vec<String>,
}

fn load(path: Option<&std::path::Path>) -> Saved {
    path.and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn save(path: &std::path::Path, saved: &Saved) -> Result<(), String> {
    let text = serde_json::to_string_pretty(saved).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(())
}

pub async fn run(config: Config) -> Result<Summary, String> {
    if let crate::Protocol::Ocpp(version) = config.protocol {
        return run_ocpp(config, version).await;
    }
    let stats = Arc::new(Stats::default());
    let api = Api::new(&config.url, stats.clone(), config.provisioning_key.clone());
    let mut saved = load(config.state.as_deref());
    let started = Instant::now();

    let mut chargers = Vec::new();
    for i in 0..config.chargers {
        let sn = format!("TWIN-{}-{i:04}", config.seed);
        // Every fourth charger is a DC V2G unit.
        let model = if i % 4 == 3 { &DC_V2G } else { &AC };
        let mut c = Charger::new(
            api.clone(),
            sn.clone(),
            model,
            config.seed.wrapping_mul(1000).wrapping_add(i as u64),
            config.firmware_failure_rate,
        );
        if config.anomalies {
            c.misbehave(crate::misbehaviour::Misbehaviour::for_charger(i));
        }
        c.enrol(saved.chargers.get(&sn).cloned()).await?;
        saved
            .chargers
            .insert(sn, (c.device_id.clone(), c.secret.clone()));
        chargers.push(c);
    }

    let sites = config.sites.max(1).min(chargers.len().max(1));
    let mut site_ids = Vec::new();
    let mut rng = fastrand::Rng::with_seed(config.seed);
    for s in 0..sites.min(config.sites) {
        let members: Vec<usize> = (0..chargers.len()).filter(|i| i % sites == s).collect();
        // The chargers' ratings, within the service's bound on a site's capacity.
        let capacity: f64 = members
            .iter()
            .map(|i| chargers[*i].model.max_kw)
            .sum::<f64>()
            .min(SITE_CAPACITY_MAX_KW);
        let mut body = json!({"name": format!("Twin site {s}"), "address": format!("{s} Simulation Way"),
            "postcode": "CV1 1AA", "lat": 52.0 + rng.f64(), "lng": -1.5 + rng.f64(),
            "power_capacity": config.site_capacity_kw.unwrap_or(capacity).max(1.0),
            "device_ids": members.iter().map(|i| chargers[*i].device_id.clone()).collect::<Vec<_>>()});
        if let Some(id) = saved.sites.get(s) {
            body["site_id"] = json!(id);
        }
        // A charger of the site registers it: an existing site may be
        // changed only by its operator or a charger already in it.
        let installer = members.first().map(|i| chargers[*i].token());
        let r = api.post("/v1/device/site", installer, &body).await;
        let id = r.data()["site_id"].as_str().map(str::to_owned);
        let Some(id) = id.filter(|_| r.status == 200) else {
            return Err(format!("site registration: {} {}", r.status, r.body));
        };
        for i in members {
            chargers[i].site_id = Some(id.clone());
        }
        if config.site_capacity_kw.is_some() {
            manage_load(&api, &config, &id).await?;
        }
        site_ids.push(id);
    }
    saved.sites = site_ids.clone();
    if let Some(path) = &config.state {
        save(path, &saved)?;
    }

    let deadline = Instant::now() + config.duration;
    let wall_step = Duration::from_secs_f64(STEP_S / config.speed.max(0.01));
    let mut tasks = Vec::new();
    for (i, mut c) in chargers.into_iter().enumerate() {
        let config = config.clone();
        tasks.push(tokio::spawn(async move {
            // Spread the fleet over one step so requests do not all coincide.
            tokio::time::sleep(wall_step.mul_f64(i as f64 / config.chargers.max(1) as f64)).await;
            let mut t = 0.0;
            let mut next = Instant::now();
            while Instant::now() < deadline {
                c.tick(t, STEP_S, config.session_rate, config.fault_rate)
                    .await;
                t += STEP_S;
                next += wall_step;
                tokio::time::sleep_until(next.into()).await;
            }
            while next < deadline {
                c.missed(t);
                t += STEP_S;
                next += wall_step;
            }
            c.wind_down().await;
            c
        }));
    }
    let progress = {
        let stats = stats.clone();
        let show = config.progress;
        tokio::spawn(async move {
            let begun = Instant::now();
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                if show {
                    let (requests, errors, energy) = stats.progress();
                    eprintln!(
                        "[{:>5.1}s] {requests} requests, {errors} errors, {energy:.2} kWh charged",
                        begun.elapsed().as_secs_f64()
                    );
                }
            }
        })
    };
    let mut devices = Vec::new();
    for task in tasks {
        let c = task.await.map_err(|e| e.to_string())?;
        devices.push(DeviceReport {
            device_id: c.device_id.clone(),
            sn: c.sn.clone(),
            model: c.model.name.to_owned(),
            firmware_version: c.firmware.clone(),
            site_id: c.site_id.clone(),
            energy_charged_kwh: c.charged_kwh,
            energy_discharged_kwh: c.discharged_kwh,
            firmware_installs: c.firmware_installs,
            firmware_failures: c.firmware_failures,
            configuration: c.configuration.clone(),
        });
    }
    progress.abort();
    Ok(stats.summary(devices, site_ids, started.elapsed().as_secs_f64()))
}

/// The fleet's cards: a few per charger, registered with the operator.
fn cards(config: &Config) -> Vec<String> {
    (0..(config.chargers / 2).max(3))
        .map(|n| format!("TW{}C{n:04}", config.seed % 100_000))
        .collect()
}

/// Turns a site's load management on, as its operator would.
async fn manage_load(api: &Api, config: &Config, site: &str) -> Result<(), String> {
    let token = operator_token(api, config).await?;
    let r = api
        .call(
            reqwest::Method::PATCH,
            &format!("/v1/sites/{site}"),
            Some(&token),
            Some(&json!({"load_management": {"enabled": true}})),
        )
        .await;
    if r.status != 200 {
        return Err(format!("load management: {} {}", r.status, r.body));
    }
    Ok(())
}

/// An operator token for the client the configuration names.
async fn operator_token(api: &Api, config: &Config) -> Result<String, String> {
    let (id, secret) = config.client.clone().ok_or(
        "OCPP chargers are provisioned by an API client: give --client-id and --client-secret",
    )?;
    let body =
        json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret});
    let r = api.post("/v1/oauth/token", None, &body).await;
    r.body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("operator token: {} {}", r.status, r.body))
}

/// A charge point provisioned (or, seen before, given a new password).
async fn provision(api: &Api, token: &str, id: &str) -> Result<crate::ocpp::Enrolled, String> {
    let created = api
        .post(
            "/v1/ocpp/charge-points",
            Some(token),
            &json!({"charge_point_id": id}),
        )
        .await;
    let answer = match created.status {
        201 => created,
        409 => {
            let path = format!("/v1/ocpp/charge-points/{id}/password");
            api.post(&path, Some(token), &json!({})).await
        }
        _ => {
            return Err(format!(
                "provisioning {id}: {} {}",
                created.status, created.body
            ));
        }
    };
    let data = answer.data();
    match (data["device_id"].as_str(), data["password"].as_str()) {
        (Some(device_id), Some(password)) => Ok(crate::ocpp::Enrolled {
            id: id.to_owned(),
            device_id: device_id.to_owned(),
            password: password.to_owned(),
        }),
        _ => Err(format!(
            "provisioning {id}: {} {}",
            answer.status, answer.body
        )),
    }
}

/// The fleet as OCPP chargers on WebSockets: provisioned through the API,
/// each with the fleet's cards.
async fn run_ocpp(config: Config, version: crate::ocpp::Version) -> Result<Summary, String> {
    let stats = Arc::new(Stats::default());
    let api = Api::new(&config.url, stats.clone(), config.provisioning_key.clone());
    let started = Instant::now();
    let token = operator_token(&api, &config).await?;
    let cards = cards(&config);
    for card in &cards {
        let r = api
            .post(
                "/v1/id-tags",
                Some(&token),
                &json!({"id_tag": card, "label": "Twin driver"}),
            )
            .await;
        if r.status != 201 && r.status != 409 {
            return Err(format!("card {card}: {} {}", r.status, r.body));
        }
    }
    let ws_url = format!(
        "{}/ocpp",
        config.url.trim_end_matches('/').replacen("http", "ws", 1)
    );
    let mut chargers = Vec::new();
    for i in 0..config.chargers {
        let id = format!(
            "TWIN-{}-{}-{i:04}",
            config.seed,
            version.subprotocol().replace('.', "")
        );
        let who = provision(&api, &token, &id).await?;
        let seed = config.seed.wrapping_mul(1000).wrapping_add(i as u64);
        let c = crate::ocpp::OcppCharger::connect(
            &ws_url,
            who,
            version,
            seed,
            cards.clone(),
            config.firmware_failure_rate,
            stats.clone(),
        )
        .await?;
        chargers.push(c);
    }
    let sites = ocpp_sites(&api, &token, &config, &chargers).await?;
    let deadline = Instant::now() + config.duration;
    let wall_step = Duration::from_secs_f64(STEP_S / config.speed.max(0.01));
    let boot_spread = Duration::from_secs_f64(OCPP_BOOT_SPREAD_S / config.speed.max(0.01))
        .min(config.duration / 2);
    let mut tasks = Vec::new();
    for (i, mut c) in chargers.into_iter().enumerate() {
        let config = config.clone();
        tasks.push(tokio::spawn(async move {
            // Chargers come online over a heartbeat interval, as a fleet
            // does, rather than all in the same second.
            tokio::time::sleep(boot_spread.mul_f64(i as f64 / config.chargers.max(1) as f64)).await;
            c.boot(0.0).await;
            let mut t = 0.0;
            let mut next = Instant::now();
            while Instant::now() < deadline {
                c.tick(t, STEP_S, config.session_rate, config.fault_rate)
                    .await;
                t += STEP_S;
                next += wall_step;
                c.serve_until(next.into(), t).await;
            }
            // Sessions still running end with the run, unrecorded, as when
            // a charger loses its connection: a fleet-wide stop in the same
            // second is nothing a real fleet does.
            c
        }));
    }
    let mut devices = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let c = task.await.map_err(|e| e.to_string())?;
        devices.push(DeviceReport {
            device_id: c.device_id.clone(),
            sn: c.id.clone(),
            model: "Twin AC7".into(),
            firmware_version: c.firmware.clone(),
            site_id: sites.get(i % sites.len().max(1)).cloned(),
            energy_charged_kwh: c.charged_kwh,
            energy_discharged_kwh: 0.0,
            firmware_installs: c.firmware_installs,
            firmware_failures: c.firmware_failures,
            configuration: crate::stats::Configuration {
                profile_id: None,
                version: None,
                heartbeat_interval_s: c.heartbeat_s,
                meter_interval_s: Some(60.0),
                max_current_a: None,
            },
        });
    }
    Ok(stats.summary(devices, sites, started.elapsed().as_secs_f64()))
}

/// The OCPP fleet's sites where its connection is given (`--site-capacity`,
/// with load management on), registered by its API client as an installer
/// would: charger `i` in site `i % sites`. Without it the fleet has none.
async fn ocpp_sites(
    api: &Api,
    token: &str,
    config: &Config,
    chargers: &[crate::ocpp::OcppCharger],
) -> Result<Vec<String>, String> {
    let Some(capacity) = config.site_capacity_kw else {
        return Ok(Vec::new());
    };
    let count = config.sites.min(chargers.len());
    let mut ids = Vec::new();
    for s in 0..count {
        let members: Vec<&str> = chargers
            .iter()
            .enumerate()
            .filter(|(i, _)| i % count == s)
            .map(|(_, c)| c.device_id.as_str())
            .collect();
        let body = json!({"name": format!("Twin OCPP site {s}"), "address": format!("{s} Protocol Row"),
            "postcode": "CV1 1AA", "lat": 52.4, "lng": -1.5, "power_capacity": capacity.max(1.0),
            "device_ids": members});
        let r = api.post("/v1/device/site", Some(token), &body).await;
        let Some(id) = r.data()["site_id"].as_str().filter(|_| r.status == 200) else {
            return Err(format!("site registration: {} {}", r.status, r.body));
        };
        manage_load(api, config, id).await?;
        ids.push(id.to_owned());
    }
    Ok(ids)
}
