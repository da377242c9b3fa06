//! One structured log line per request (method, path, status, duration;
//! never bodies, query strings or headers, which may carry secrets), and
//! the same facts in the shared request log.

use crate::auth::CallerSlot;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use domain::Domain;
use kernel::model::RequestLogEntry;
use std::time::Instant;

#[derive(Clone)]
pub struct LogState {
    pub domain: Domain,
    pub function: &'static str,
}

pub async fn log_requests(State(state): State<LogState>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let request_id = uuid::Uuid::now_v7().to_string();
    let slot = CallerSlot::default();
    req.extensions_mut().insert(slot.clone());
    let at = state.domain.clock.now();
    let started = Instant::now();
    let mut res = next.run(req).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    let status = res.status().as_u16();
    tracing::info!(
        %method,
        %path,
        status,
        ms = duration_ms,
        request_id,
        function = state.function,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert("x-request-id", value);
    }
    if state.domain.feeds.logs_request(status) {
        state
            .domain
            .feeds
            .log_request(RequestLogEntry {
                at,
                method: method.to_string(),
                path,
                status,
                duration_ms,
                request_id,
                caller: slot.get(),
                function: state.function.to_owned(),
            })
            .await;
    }
    res
}
