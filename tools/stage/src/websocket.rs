//! The stand-in for the OCPP side of the stack: CloudFront running the
//! template's own viewer-request function (with node), an API Gateway
//! WebSocket API that hands its function `$connect`, `$default` and
//! `$disconnect` events in API Gateway's shape and sends `$default`'s
//! response back, and the `@connections` management API the functions
//! call to reach a charger.

use crate::pool::{Outcome, Pool};
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// API Gateway's WebSocket integration timeout.
const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);
/// API Gateway's largest WebSocket message.
const MESSAGE_LIMIT: usize = 128 * 1024;

/// Runs a CloudFront Function's code on one event, as CloudFront would.
const NODE_RUNNER: &str = "const handler = new Function(process.env.CF_FUNCTION + '\\nreturn handler;')();\
let input = ''; process.stdin.on('data', (d) => { input += d; }).on('end', () => {\
process.stdout.write(JSON.stringify(handler(JSON.parse(input)))); });";

pub struct WebSockets {
    pub pool: Arc<Pool>,
    pub stage: String,
    pub viewer_request: Option<String>,
    pub port: u16,
    open: Mutex<HashMap<String, mpsc::UnboundedSender<Message>>>,
}

impl WebSockets {
    pub fn new(pool: Arc<Pool>, stage: String, viewer_request: Option<String>, port: u16) -> Self {
        Self {
            pool,
            stage,
            viewer_request,
            port,
            open: Mutex::default(),
        }
    }

    fn socket(&self, id: &str) -> Option<mpsc::UnboundedSender<Message>> {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }
}

pub fn router(ws: Arc<WebSockets>) -> Router {
    let connections = format!("/{}/@connections/{{id}}", ws.stage);
    Router::new()
        .route(
            &connections,
            axum::routing::post(post_to_connection).delete(delete_connection),
        )
        .route("/ocpp/{*path}", axum::routing::get(upgrade))
        .with_state(ws)
}

/// CloudFront's answer to a viewer request: the request to pass on (its
/// query string), or a response of its own.
enum Viewer {
    Pass(Map<String, Value>),
    Answer(u16),
}

/// The viewer-request function on this request (its code run by node,
/// on CloudFront's event shape).
async fn viewer_request(
    code: &str,
    uri: &str,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<Viewer, String> {
    let headers: Map<String, Value> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), json!({"value": v.to_str().ok()?}))))
        .collect();
    let event = json!({
        "version": "1.0",
        "context": {"eventType": "viewer-request"},
        "viewer": {"ip": peer.ip().to_string()},
        "request": {"method": "GET", "uri": uri, "querystring": {}, "headers": headers, "cookies": {}},
    });
    let mut child = tokio::process::Command::new("node")
        .arg("-e")
        .arg(NODE_RUNNER)
        .env("CF_FUNCTION", code)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run node for the CloudFront Function: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(event.to_string().as_bytes())
            .await
            .map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().await.map_err(|e| e.to_string())?;
    let result: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("the CloudFront Function answered no JSON: {e}"))?;
    if let Some(status) = result["statusCode"].as_u64() {
        return Ok(Viewer::Answer(u16::try_from(status).unwrap_or(500)));
    }
    let query = result["querystring"]
        .as_object()
        .map(|q| {
            q.iter()
                .filter_map(|(k, v)| Some((k.clone(), json!(v["value"].as_str()?))))
                .collect()
        })
        .unwrap_or_default();
    Ok(Viewer::Pass(query))
}

fn connection_id() -> String {
    (0..16).map(|_| fastrand::alphanumeric()).collect()
}

impl WebSockets {
    /// An event in API Gateway's WebSocket shape.
    fn event(
        &self,
        route: &str,
        (connection, connected_at): (&str, i64),
        peer: SocketAddr,
        extra: Map<String, Value>,
    ) -> Value {
        let now = chrono::Utc::now();
        let request_id = connection_id();
        let kind = match route {
            "$connect" => "CONNECT",
            "$disconnect" => "DISCONNECT",
            _ => "MESSAGE",
        };
        let mut event = json!({
            "requestContext": {
                "routeKey": route,
                "eventType": kind,
                "messageDirection": "IN",
                "stage": self.stage,
                "connectionId": connection,
                "connectedAt": connected_at,
                "requestId": request_id,
                "extendedRequestId": request_id,
                "messageId": connection_id(),
                "requestTime": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
                "requestTimeEpoch": now.timestamp_millis(),
                "domainName": format!("127.0.0.1:{}", self.port),
                "apiId": "local",
                "identity": {"sourceIp": peer.ip().to_string()},
            },
            "isBase64Encoded": false,
        });
        for (k, v) in extra {
            event[k] = v;
        }
        event
    }

    /// The function's answer to an event: its status, headers and body.
    async fn invoke(&self, event: &Value) -> Option<Value> {
        let trace = format!(
            "Root=1-{:08x}-{}",
            chrono::Utc::now().timestamp(),
            connection_id()
        );
        let outcome = self.pool.invoke(Bytes::from(event.to_string()), &trace);
        match tokio::time::timeout(INTEGRATION_TIMEOUT, outcome).await {
            Ok(Ok(Outcome::Response(output))) => serde_json::from_slice(&output).ok(),
            _ => None,
        }
    }
}

async fn upgrade(
    State(ws): State<Arc<WebSockets>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(path): Path<String>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let uri = format!("/ocpp/{path}");
    let query = match &ws.viewer_request {
        Some(code) => match viewer_request(code, &uri, &headers, peer).await {
            Ok(Viewer::Pass(query)) => query,
            Ok(Viewer::Answer(status)) => {
                return StatusCode::from_u16(status)
                    .unwrap_or(StatusCode::NOT_FOUND)
                    .into_response();
            }
            Err(e) => {
                tracing::error!("{e}");
                return StatusCode::BAD_GATEWAY.into_response();
            }
        },
        None => Map::new(),
    };
    let Ok(upgrade) = upgrade else {
        return (StatusCode::UPGRADE_REQUIRED, "a WebSocket upgrade").into_response();
    };
    let connection = connection_id();
    let connected_at = chrono::Utc::now().timestamp_millis();
    let single: Map<String, Value> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), json!(v.to_str().ok()?))))
        .collect();
    let multi: Map<String, Value> = single
        .iter()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    let query_multi: Map<String, Value> =
        query.iter().map(|(k, v)| (k.clone(), json!([v]))).collect();
    let extra = Map::from_iter([
        ("headers".to_owned(), Value::Object(single)),
        ("multiValueHeaders".to_owned(), Value::Object(multi)),
        ("queryStringParameters".to_owned(), Value::Object(query)),
        (
            "multiValueQueryStringParameters".to_owned(),
            Value::Object(query_multi),
        ),
    ]);
    let Some(answer) = ws
        .invoke(&ws.event("$connect", (&connection, connected_at), peer, extra))
        .await
    else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let status = answer["statusCode"].as_u64().unwrap_or(500);
    if status != 200 {
        return StatusCode::from_u16(u16::try_from(status).unwrap_or(500))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response();
    }
    let chosen = answer["headers"].as_object().and_then(|h| {
        h.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(header::SEC_WEBSOCKET_PROTOCOL.as_str()))
            .and_then(|(_, v)| v.as_str().map(str::to_owned))
    });
    let upgrade = match chosen {
        Some(protocol) => upgrade.protocols([protocol]),
        None => upgrade,
    };
    upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(MESSAGE_LIMIT)
        .on_upgrade(move |socket| relay(ws, socket, (connection, connected_at), peer))
}

/// One connection: each text message is a `$default` invocation whose
/// response body goes back; the end is `$disconnect`.
async fn relay(
    ws: Arc<WebSockets>,
    socket: WebSocket,
    (connection, connected_at): (String, i64),
    peer: SocketAddr,
) {
    use futures_util::{SinkExt, StreamExt};
    let (mut sink, mut stream) = socket.split();
    let (outbox, mut queued) = mpsc::unbounded_channel::<Message>();
    ws.open
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(connection.clone(), outbox.clone());
    let writer = tokio::spawn(async move {
        while let Some(message) = queued.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
    });
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else {
            if matches!(message, Message::Close(_)) {
                break;
            }
            continue;
        };
        let extra = Map::from_iter([("body".to_owned(), json!(text.as_str()))]);
        let answer = ws
            .invoke(&ws.event("$default", (&connection, connected_at), peer, extra))
            .await;
        if let Some(body) = answer
            .as_ref()
            .and_then(|a| a["body"].as_str())
            .filter(|b| !b.is_empty())
            && outbox.send(Message::Text(body.to_owned().into())).is_err()
        {
            break;
        }
    }
    ws.open
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&connection);
    drop(outbox);
    let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
    let _ = ws
        .invoke(&ws.event("$disconnect", (&connection, connected_at), peer, Map::new()))
        .await;
}

/// `POST @connections/{id}`: a message to a charger.
async fn post_to_connection(
    State(ws): State<Arc<WebSockets>>,
    Path(id): Path<String>,
    req: Request,
) -> StatusCode {
    let Some(socket) = ws.socket(&id) else {
        return StatusCode::GONE;
    };
    let Ok(body) = axum::body::to_bytes(req.into_body(), MESSAGE_LIMIT).await else {
        return StatusCode::PAYLOAD_TOO_LARGE;
    };
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return StatusCode::BAD_REQUEST;
    };
    match socket.send(Message::Text(text.into())) {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::GONE,
    }
}

/// `DELETE @connections/{id}`: the charger's connection closed.
async fn delete_connection(
    State(ws): State<Arc<WebSockets>>,
    Path(id): Path<String>,
) -> StatusCode {
    match ws.socket(&id) {
        Some(socket) => {
            let _ = socket.send(Message::Close(None));
            StatusCode::NO_CONTENT
        }
        None => StatusCode::GONE,
    }
}
