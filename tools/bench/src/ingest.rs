//! Ingest throughput: heartbeats and status samples through the whole
//! service on the embedded engine, next to a bare axum JSON endpoint driven
//! the same way in the same run.

use crate::percentile;
use crate::service::{Service, now};
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Figures {
    rps: f64,
    p50: f64,
    p99: f64,
    errors: usize,
}

/// `concurrency` clients, each sending `body()` to `url` until the deadline.
async fn load(
    http: &reqwest::Client,
    url: String,
    tokens: Vec<String>,
    seconds: u64,
    body: Arc<dyn Fn(usize) -> Value + Send + Sync>,
) -> Figures {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let (http, url, body) = (http.clone(), url.clone(), body.clone());
        workers.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0);
            while Instant::now() < deadline {
                let t = Instant::now();
                // Any answer is the route's; only transport failures count.
                let ok = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body(i))
                    .send()
                    .await
                    .is_ok();
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                errors += usize::from(!ok);
            }
            (lat, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for w in workers {
        if let Ok((lat, e)) = w.await {
            all.extend(lat);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    Figures {
        rps: all.len() as f64 / elapsed,
        p50: percentile(&all, 0.5),
        p99: percentile(&all, 0.99),
        errors,
    }
}

async fn bare_endpoint() -> Result<String, String> {
    let app = axum::Router::new().route(
        "/bare",
        post(|axum::Json(_): axum::Json<Value>| async {
            axum::Json(json!({"code": 0, "message": "success", "data": {"commands": []}}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/bare",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

pub async fn run(seconds: u64, concurrency: usize) -> Result<(), String> {
    // The shared request log is off: it would add a write to every request.
    let svc = Service::start(None, None, |s| {
        s.request_log = kernel::settings::RequestLogMode::Off
    })
    .await?;
    let mut tokens = Vec::new();
    for i in 0..concurrency {
        tokens.push(svc.device(&format!("LOAD-{i:03}"), "TP-AC22").await?.token);
    }
    let bare = bare_endpoint().await?;
    let heartbeat: Arc<dyn Fn(usize) -> Value + Send + Sync> =
        Arc::new(|_| json!({"timestamp": now(), "status": "online"}));
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let status: Arc<dyn Fn(usize) -> Value + Send + Sync> = Arc::new(move |_| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as f64;
        json!({"timestamp": now(), "connector_id": 1, "state": "charging", "voltage": 400,
            "current": 50, "power": 20, "energy_delivered": n * 0.01, "soc": 50})
    });
    println!(
        "ingest, {concurrency} concurrent clients, {seconds} s each, one process on this machine:"
    );
    let base = load(&svc.http, bare, tokens.clone(), seconds, heartbeat.clone()).await;
    let hb = load(
        &svc.http,
        format!("{}/v1/device/heartbeat", svc.base),
        tokens.clone(),
        seconds,
        heartbeat,
    )
    .await;
    let st = load(
        &svc.http,
        format!("{}/v1/device/status", svc.base),
        tokens.clone(),
        seconds,
        status,
    )
    .await;
    // The same route with a refused token: the whole stack but the store.
    let forged = vec!["ab".repeat(32); tokens.len()];
    let refuse: Arc<dyn Fn(usize) -> Value + Send + Sync> =
        Arc::new(|_| json!({"timestamp": now(), "status": "online"}));
    let url = format!("{}/v1/device/heartbeat", svc.base);
    let no_store = load(&svc.http, url, forged, seconds, refuse).await;
    for (name, f) in [
        ("bare axum JSON", &base),
        ("heartbeat", &hb),
        ("status sample", &st),
        ("refused token", &no_store),
    ] {
        println!(
            "  {name:<15} {:>7.0} req/s  p50 {:>5.1} ms  p99 {:>6.1} ms  errors {}",
            f.rps, f.p50, f.p99, f.errors
        );
    }
    println!(
        "  heartbeat / bare = {:.2}  status / bare = {:.2}  refused token / bare = {:.2}  (goal >= 0.5)",
        hb.rps / base.rps,
        st.rps / base.rps,
        no_store.rps / base.rps
    );
    Ok(())
}
