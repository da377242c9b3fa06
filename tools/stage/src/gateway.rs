//! The stand-in for API Gateway: its payload limit, its route selection,
//! the payload 2.0 event to the route's function, its integration timeout,
//! and the function's answer mapped back to HTTP.

use crate::event::{self, Incoming};
use crate::pool::{Outcome, Pool};
use crate::reply;
use crate::routes::RouteTable;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderValue;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// API Gateway's request payload limit for HTTP APIs.
pub const PAYLOAD_LIMIT: usize = 10 * 1024 * 1024;

/// Where a route goes.
pub struct Target {
    pub pool: Arc<Pool>,
    pub integration_timeout: Duration,
}

pub struct Gateway {
    pub routes: RouteTable<Target>,
    pub port: u16,
}

pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new().fallback(handle).with_state(gateway)
}

async fn handle(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let started = Instant::now();
    let request_id = request_id();
    let (parts, body) = req.into_parts();
    let (mut res, function) = gateway.pass(&parts, body, peer, &request_id).await;
    tracing::info!(
        method = %parts.method,
        path = parts.uri.path(),
        function = function.unwrap_or("-"),
        status = res.status().as_u16(),
        ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert("apigw-requestid", value);
    }
    res
}

impl Gateway {
    /// The response, and the function that answered when one did.
    async fn pass(
        &self,
        parts: &axum::http::request::Parts,
        body: Body,
        peer: SocketAddr,
        request_id: &str,
    ) -> (Response, Option<&str>) {
        let Some(body) = read_body(body).await else {
            return (reply::too_large(), None);
        };
        let Some(matched) = self.routes.find(&parts.method, parts.uri.path()) else {
            return (reply::not_found(), None);
        };
        let received = chrono::Utc::now();
        let trace_id = event::trace_id(received);
        let event = event::build(
            &Incoming {
                method: &parts.method,
                uri: &parts.uri,
                headers: &parts.headers,
                body: &body,
                peer,
                local_port: self.port,
                request_id,
                trace_id: &trace_id,
                received,
            },
            &matched.route_key,
            matched.path_parameters,
        );
        let target = matched.target;
        let function = Some(target.pool.function.as_str());
        let payload = match serde_json::to_vec(&event) {
            Ok(payload) => Bytes::from(payload),
            Err(e) => {
                tracing::error!("cannot encode the event: {e}");
                return (reply::internal_error(), function);
            }
        };
        let outcome = target.pool.invoke(payload, &trace_id);
        let res = match tokio::time::timeout(target.integration_timeout, outcome).await {
            Err(_) => reply::unavailable(),
            Ok(Ok(Outcome::Response(output))) => reply::from_output(&output),
            Ok(Ok(Outcome::Error | Outcome::Crashed | Outcome::TimedOut) | Err(_)) => {
                reply::internal_error()
            }
        };
        (res, function)
    }
}

/// The whole body, or `None` when it is over the payload limit (or the
/// client went away). An oversized body is still read to its end, so the
/// client gets the 413 instead of a broken connection.
async fn read_body(mut body: Body) -> Option<Bytes> {
    let mut buf = BytesMut::new();
    let mut over = false;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.ok()?.into_data() else {
            continue;
        };
        over |= buf.len() + data.len() > PAYLOAD_LIMIT;
        if over {
            buf.clear();
        } else {
            buf.extend_from_slice(&data);
        }
    }
    (!over).then(|| buf.freeze())
}

/// An id shaped like API Gateway's (`Vta3928b66hcEJw=`).
fn request_id() -> String {
    let mut id: String = (0..15).map(|_| fastrand::alphanumeric()).collect();
    id.push('=');
    id
}
