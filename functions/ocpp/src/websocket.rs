//! API Gateway's WebSocket API, as the `ocpp-gateway` function sees it:
//! `$connect` checks the password and picks the subprotocol, `$default`
//! answers one frame (the answer is the route's response), `$disconnect`
//! ends the connection. Between messages the connection is kept in the
//! table, since every message is its own invocation.

use crate::gateway::{Connection, Reply};
use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use axum::http::{HeaderMap, header};
use domain::Domain;
use ocpp::{MAX_FRAME_BYTES, Version};

/// The query parameter the CloudFront Function moves the charge point id
/// into (API Gateway's WebSocket URLs take no path after the stage).
pub const CHARGE_POINT_PARAMETER: &str = "charge_point_id";

/// What the function answers API Gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// The chosen subprotocol, echoed at `$connect`.
    pub subprotocol: Option<&'static str>,
    /// A frame for the charger (`$default`'s route response).
    pub frame: Option<String>,
    /// The connection is to be closed (through `@connections`).
    pub close: bool,
}

impl Answer {
    fn status(status: u16) -> Self {
        Self {
            status,
            subprotocol: None,
            frame: None,
            close: false,
        }
    }
}

/// The password of HTTP Basic `Authorization` for user `id`. Charge point
/// ids may hold `:`, so the user is matched whole rather than split at the
/// first colon.
pub fn basic_password(headers: &HeaderMap, id: &str) -> Option<String> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let credentials = String::from_utf8(decoded).ok()?;
    credentials
        .strip_prefix(id)?
        .strip_prefix(':')
        .map(str::to_owned)
}

/// The newest version the request's `Sec-WebSocket-Protocol` offers.
pub fn offered_version(headers: &HeaderMap) -> Option<Version> {
    Version::negotiate(
        headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}

pub async fn on_event(domain: &Domain, event: &ApiGatewayWebsocketProxyRequest) -> Answer {
    let context = &event.request_context;
    let Some(connection_id) = context.connection_id.as_deref() else {
        return Answer::status(400);
    };
    match context.route_key.as_deref() {
        Some("$connect") => connect(domain, event, connection_id).await,
        Some("$disconnect") => {
            match domain.charge_points.socket(connection_id).await {
                Ok(Some(socket)) => {
                    if let Err(e) = domain.charge_points.socket_closed(&socket).await {
                        tracing::warn!(connection_id, error = %e, "disconnection not recorded");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(connection_id, error = %e, "disconnection not recorded"),
            }
            Answer::status(200)
        }
        _ => message(domain, event, connection_id).await,
    }
}

async fn connect(
    domain: &Domain,
    event: &ApiGatewayWebsocketProxyRequest,
    connection_id: &str,
) -> Answer {
    let Some(version) = offered_version(&event.headers) else {
        return Answer::status(400);
    };
    let Some(id) = event.query_string_parameters.first(CHARGE_POINT_PARAMETER) else {
        return Answer::status(401);
    };
    let password = basic_password(&event.headers, id);
    let source = event
        .request_context
        .identity
        .source_ip
        .clone()
        .unwrap_or_default();
    let charger = match domain
        .charge_points
        .charge_point_login(id, password.as_deref(), &source)
        .await
    {
        Ok(charger) => charger,
        Err(kernel::Error::RateLimited { .. }) => return Answer::status(429),
        Err(kernel::Error::Unauthorized(_)) => return Answer::status(401),
        Err(e) => {
            tracing::warn!(error = %e, "OCPP login failed");
            return Answer::status(503);
        }
    };
    if let Err(e) = domain
        .charge_points
        .socket_opened(&charger, version.subprotocol(), connection_id)
        .await
    {
        tracing::warn!(charge_point_id = id, error = %e, "connection not recorded");
        return Answer::status(503);
    }
    Answer {
        subprotocol: Some(version.subprotocol()),
        ..Answer::status(200)
    }
}

async fn message(
    domain: &Domain,
    event: &ApiGatewayWebsocketProxyRequest,
    connection_id: &str,
) -> Answer {
    let closed = Answer {
        close: true,
        ..Answer::status(200)
    };
    let socket = match domain.charge_points.socket(connection_id).await {
        Ok(Some(socket)) => socket,
        Ok(None) => return closed,
        Err(e) => {
            tracing::warn!(connection_id, error = %e, "connection not read");
            return Answer::status(503);
        }
    };
    let Some(version) = Version::from_subprotocol(&socket.protocol) else {
        return closed;
    };
    let text = event.body.as_deref().unwrap_or_default();
    if text.len() > MAX_FRAME_BYTES {
        return closed;
    }
    let connection = Connection::new(socket.charger(), version, connection_id.to_owned());
    match connection.on_text(domain, text).await {
        Reply::Send(frame) => Answer {
            frame: Some(frame),
            ..Answer::status(200)
        },
        Reply::Nothing => Answer::status(200),
        Reply::Close(why) => {
            tracing::info!(connection_id, why, "closing the connection");
            closed
        }
    }
}
