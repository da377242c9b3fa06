//! The stage (`tools/stage`): each function's cold start under it (process
//! start to its first Runtime API poll, and the first request that waited
//! for it), and what API Gateway's stand-in and the Runtime API add to a
//! warm request over the local server.

use crate::percentile;
use crate::service::Service;
use kernel::model::Role;
use kernel::settings::RequestLogMode;
use local_dynamo::Storage;
use reqwest::Method;
use stage::{Config, Stage, TableSource};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

const ADMIN_ID: &str = "bench-admin";
const ADMIN_SECRET: &str = "bench-admin-secret-0123456789abcdef";

/// One request per function, none needing a token: each starts its
/// function once.
const PROBES: [(&str, &str); 4] = [
    ("GET", "/v1/health"),
    ("POST", "/v1/device/heartbeat"),
    ("POST", "/v1/devices/x/connectors/1/stop"),
    ("POST", "/v1/oauth/token"),
];

fn config(bin_dir: &Path) -> Config {
    Config {
        template: "template.yaml".into(),
        bin_dir: bin_dir.to_path_buf(),
        table: TableSource::Embedded(Storage::Memory),
        port: 0,
        concurrency: 1,
        parameters: BTreeMap::new(),
        admin: Some((ADMIN_ID.into(), ADMIN_SECRET.into())),
        function_logs: false,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn run(bin_dir: &Path, starts: usize, requests: usize) -> Result<(), String> {
    cold_starts(bin_dir, starts).await?;
    overhead(bin_dir, requests).await
}

async fn cold_starts(bin_dir: &Path, starts: usize) -> Result<(), String> {
    let http = reqwest::Client::new();
    let mut init: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut first: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for _ in 0..starts {
        let stage = Stage::start(config(bin_dir))
            .await
            .map_err(|e| e.to_string())?;
        for (method, path) in PROBES {
            let started = Instant::now();
            http.request(
                Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?,
                format!("{}{path}", stage.url()),
            )
            .send()
            .await
            .map_err(|e| e.to_string())?;
            let probe = format!("{method} {path}");
            first.entry(probe).or_default().push(ms(started.elapsed()));
        }
        for (function, took) in stage.cold_starts() {
            init.entry(function)
                .or_default()
                .extend(took.into_iter().map(ms));
        }
        stage.stop().await;
    }
    println!("stage cold start, {starts} starts of each function:");
    for (function, mut samples) in init {
        samples.sort_by(f64::total_cmp);
        println!(
            "  {function:<20} process start to first poll p50 {:>6.1} ms  max {:>6.1} ms",
            percentile(&samples, 0.5),
            samples.last().copied().unwrap_or(0.0)
        );
    }
    for (probe, mut samples) in first {
        samples.sort_by(f64::total_cmp);
        println!(
            "  first request {probe:<38} (with its cold start) p50 {:>6.1} ms",
            percentile(&samples, 0.5)
        );
    }
    Ok(())
}

/// p50 and p99 of `requests` sequential calls, after a warm-up.
async fn timed(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    requests: usize,
) -> Result<(f64, f64), String> {
    let mut samples = Vec::with_capacity(requests);
    for i in 0..requests + 20 {
        let mut req = http.get(url);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let started = Instant::now();
        let res = req.send().await.map_err(|e| e.to_string())?;
        let status = res.status();
        res.bytes().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{url}: {status}"));
        }
        if i >= 20 {
            samples.push(ms(started.elapsed()));
        }
    }
    samples.sort_by(f64::total_cmp);
    Ok((percentile(&samples, 0.5), percentile(&samples, 0.99)))
}

async fn admin_token(http: &reqwest::Client, base: &str) -> Result<String, String> {
    let body = serde_json::json!({"grant_type": "client_credentials",
        "client_id": ADMIN_ID, "client_secret": ADMIN_SECRET});
    let res: serde_json::Value = http
        .post(format!("{base}/v1/oauth/token"))
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    res["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no admin token from {base}: {res}"))
}

async fn overhead(bin_dir: &Path, requests: usize) -> Result<(), String> {
    // The template's request log setting, so both write the same.
    let local = Service::start(None, None, |s| s.request_log = RequestLogMode::Errors).await?;
    local
        .domain
        .tenants
        .bootstrap_client(
            Some(ADMIN_ID.into()),
            Some(ADMIN_SECRET.into()),
            Role::Admin,
            vec![],
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
    let stage = Stage::start(config(bin_dir))
        .await
        .map_err(|e| e.to_string())?;
    let http = reqwest::Client::new();
    println!("warm requests, {requests} sequential each (p50 / p99):");
    let mut p50s = Vec::new();
    for (name, base) in [
        ("local server", local.base.as_str()),
        ("stage", stage.url()),
    ] {
        let token = admin_token(&http, base).await?;
        let health = timed(&http, &format!("{base}/v1/health"), None, requests).await?;
        let read = timed(&http, &format!("{base}/v1/devices"), Some(&token), requests).await?;
        println!(
            "  {name:<13} GET /v1/health {:>5.2} / {:>5.2} ms   GET /v1/devices (admin token) {:>5.2} / {:>5.2} ms",
            health.0, health.1, read.0, read.1
        );
        p50s.push((health.0, read.0));
    }
    if let [(lh, lr), (sh, sr)] = p50s[..] {
        println!(
            "  stage overhead at p50: health +{:.2} ms, console read +{:.2} ms",
            sh - lh,
            sr - lr
        );
    }
    stage.stop().await;
    Ok(())
}
