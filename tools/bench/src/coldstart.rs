//! Cold start: each function binary is started as Lambda starts it, under
//! a minimal Lambda Runtime API on loopback, and timed from process start
//! to the answer of its first event.

use crate::{FUNCTIONS, percentile};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use local_dynamo::{Engine, Storage};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Notify};

/// The Runtime API's side of one invocation.
struct Invocation {
    event: String,
    handed_out: Mutex<bool>,
    answer: Mutex<Option<String>>,
    answered: Notify,
}

async fn next(State(inv): State<Arc<Invocation>>) -> (HeaderMap, String) {
    let first = {
        let mut handed = inv.handed_out.lock().await;
        !std::mem::replace(&mut *handed, true)
    };
    if !first {
        // One invocation per process: later polls wait until it is killed.
        std::future::pending::<()>().await;
    }
    let mut headers = HeaderMap::new();
    let deadline = (chrono::Utc::now().timestamp_millis() + 30_000).to_string();
    headers.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_static("bench-request-1"),
    );
    headers.insert(
        "lambda-runtime-deadline-ms",
        HeaderValue::from_str(&deadline).unwrap_or(HeaderValue::from_static("0")),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:eu-west-2:123456789012:function:bench"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
    );
    (headers, inv.event.clone())
}

async fn answer(State(inv): State<Arc<Invocation>>, body: String) -> StatusCode {
    *inv.answer.lock().await = Some(body);
    inv.answered.notify_one();
    StatusCode::ACCEPTED
}

/// The event each function answers first: its own fixture under `events/`.
fn first_event(function: &str) -> &'static str {
    match function {
        "device-api" => "events/device-api/heartbeat-401.json",
        "console-api" => "events/console-api/health-deep-200.json",
        "command-api" => "events/command-api/stop-401.json",
        "intelligence-api" => "events/intelligence-api/agents-401.json",
        "partner-api" => "events/partner-api/partners-401.json",
        _ => "events/auth-api/oauth-token-401.json",
    }
}

async fn one_start(
    bin: &std::path::Path,
    event: String,
    dynamodb: &str,
    table: &str,
) -> Result<(f64, String), String> {
    let inv = Arc::new(Invocation {
        event,
        handed_out: Mutex::new(false),
        answer: Mutex::new(None),
        answered: Notify::new(),
    });
    let app = axum::Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(answer))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(answer))
        .route("/2018-06-01/runtime/init/error", post(answer))
        .with_state(inv.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let api = listener
        .local_addr()
        .map_err(|e| e.to_string())?
        .to_string();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let started = Instant::now();
    let mut child = tokio::process::Command::new(bin)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "eu-west-2")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_ENDPOINT_URL_DYNAMODB", dynamodb)
        .env("TABLE_NAME", table)
        .env("TOKEN_SIGNING_KEY", "07".repeat(32))
        .env("REQUEST_LOG", "off")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            format!(
                "{}: {e} (build with cargo build --release first)",
                bin.display()
            )
        })?;
    let waited = tokio::time::timeout(Duration::from_secs(20), inv.answered.notified()).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let _ = child.kill().await;
    server.abort();
    waited.map_err(|_| format!("{} did not answer in 20 s", bin.display()))?;
    let body = inv.answer.lock().await.clone().unwrap_or_default();
    Ok((ms, body))
}

pub async fn run(rounds: usize, bin_dir: &std::path::Path) -> Result<(), String> {
    let engine = Engine::start(&Storage::Memory, 0).await?;
    let client = store::client_for_endpoint(&engine.endpoint(), None);
    let table = "coldstart";
    store::table::ensure_table(&client, table)
        .await
        .map_err(|e| e.to_string())?;
    println!("cold start to first answered event, {rounds} starts each (goal: p50 <= 45 ms):");
    for f in FUNCTIONS {
        let event = std::fs::read_to_string(first_event(f))
            .map_err(|e| format!("{}: {e}", first_event(f)))?;
        let mut samples = Vec::new();
        let mut status = String::new();
        for _ in 0..rounds {
            let (ms, body) =
                one_start(&bin_dir.join(f), event.clone(), &engine.endpoint(), table).await?;
            samples.push(ms);
            status = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["statusCode"].as_u64())
                .map_or("?".into(), |s| s.to_string());
        }
        samples.sort_by(f64::total_cmp);
        println!(
            "  {f:<12} p50 {:>6.1} ms  max {:>6.1} ms  (event {} -> {status})",
            percentile(&samples, 0.5),
            samples.last().copied().unwrap_or(0.0),
            first_event(f).rsplit('/').next().unwrap_or_default()
        );
    }
    engine.stop().await;
    Ok(())
}
