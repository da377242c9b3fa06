//! The Lambda Runtime API one process polls: `/next` hands it an
//! invocation with Lambda's headers, `/response` and `/error` end it,
//! `/init/error` reports a failed start. Each process gets its own, so a
//! late call from a process that has died cannot take anything.

use crate::pool::{Outcome, Pool};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;

/// Lambda's limit on a synchronous invocation's response.
const RESPONSE_LIMIT: usize = 6 * 1024 * 1024;

#[derive(Clone)]
struct Process {
    pool: Arc<Pool>,
    slot: usize,
    generation: u64,
}

pub fn router(pool: Arc<Pool>, slot: usize, generation: u64) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .layer(DefaultBodyLimit::disable())
        .with_state(Process {
            pool,
            slot,
            generation,
        })
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

fn rejected(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errorType": error_type, "errorMessage": message });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn next(State(p): State<Process>) -> Response {
    let Some(handout) = p.pool.next(p.slot, p.generation).await else {
        return rejected(
            StatusCode::GONE,
            "Gone",
            "this process is no longer running",
        );
    };
    let headers = [
        ("lambda-runtime-aws-request-id", handout.request_id),
        (
            "lambda-runtime-deadline-ms",
            handout.deadline_ms.to_string(),
        ),
        ("lambda-runtime-invoked-function-arn", p.pool.arn.clone()),
        ("lambda-runtime-trace-id", handout.trace_id),
    ];
    let mut res = ([(header::CONTENT_TYPE, "application/json")], handout.event).into_response();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            res.headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    res
}

async fn response(State(p): State<Process>, Path(id): Path<String>, body: Bytes) -> Response {
    if body.len() > RESPONSE_LIMIT {
        p.pool.answer(p.slot, p.generation, &id, Outcome::Error);
        let message = format!("Exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).");
        return rejected(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &message,
        );
    }
    finish(&p, &id, Outcome::Response(body))
}

async fn error(State(p): State<Process>, Path(id): Path<String>, body: Bytes) -> Response {
    tracing::warn!(
        function = %p.pool.function,
        request_id = %id,
        error = %String::from_utf8_lossy(&body),
        "invocation error"
    );
    finish(&p, &id, Outcome::Error)
}

fn finish(p: &Process, id: &str, outcome: Outcome) -> Response {
    if p.pool.answer(p.slot, p.generation, id, outcome) {
        accepted()
    } else {
        rejected(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "no such invocation is running",
        )
    }
}

async fn init_error(State(p): State<Process>, body: Bytes) -> Response {
    tracing::error!(
        function = %p.pool.function,
        error = %String::from_utf8_lossy(&body),
        "init error"
    );
    p.pool.stop(p.slot, p.generation);
    accepted()
}
