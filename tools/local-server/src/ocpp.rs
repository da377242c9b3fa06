//! `/ocpp/<charge_point_id>`: OCPP chargers' WebSockets, served by the
//! local server itself over the gateway the Lambda function runs. The
//! sockets are also the OCPP line's transport: commands reach chargers
//! the moment they are queued.

use async_trait::async_trait;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Domain;
use domain::chargepoints::ChargePointStore;
use domain::commands::LineAddress;
use futures_util::{SinkExt, StreamExt};
use ocpp::MAX_FRAME_BYTES;
use ocpp_gateway::{Connection, Reply};
use ocpp_link::{ANSWER_TIMEOUT, Gone, OcppLine, Transport};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A frame this much over the OCPP limit is still read, so that it can be
/// answered with close code 1009 rather than a broken connection.
const READ_LIMIT: usize = 4 * MAX_FRAME_BYTES;
/// Bytes read from a charger's socket at a time.
const SOCKET_BUFFER: usize = 4 * 1024;

/// A frame on its way to a charger; a platform CALL names its message id,
/// whose answer the connection then waits for.
struct Outgoing {
    message: Message,
    call: Option<String>,
}

impl From<Message> for Outgoing {
    fn from(message: Message) -> Self {
        Self {
            message,
            call: None,
        }
    }
}

struct Live {
    connection: Arc<Connection>,
    outbox: mpsc::UnboundedSender<Outgoing>,
}

/// The open connections, by charge point id (one each: a newer one
/// replaces an older one).
#[derive(Default)]
pub struct Sockets {
    live: Mutex<HashMap<String, Live>>,
}

impl Sockets {
    /// `domain` sending commands to OCPP chargers over these sockets; the
    /// line notes its calls in `store`.
    pub fn attached(self: &Arc<Self>, domain: Domain, store: Arc<dyn ChargePointStore>) -> Domain {
        let line = OcppLine::new(store, domain.clock.clone(), self.clone());
        domain.with_charger_line(Arc::new(line))
    }

    fn find(&self, to: &LineAddress) -> Option<mpsc::UnboundedSender<Outgoing>> {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.get(&to.charge_point_id)
            .filter(|l| l.connection.connection_id == to.connection.connection_id)
            .map(|l| l.outbox.clone())
    }
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

#[async_trait]
impl Transport for Sockets {
    async fn post(&self, to: &LineAddress, message_id: &str, frame: String) -> Result<(), Gone> {
        let outbox = self.find(to).ok_or(Gone)?;
        let frame = Outgoing {
            message: Message::Text(frame.into()),
            call: Some(message_id.to_owned()),
        };
        outbox.send(frame).map_err(|_| Gone)
    }

    async fn close(&self, to: &LineAddress) {
        if let Some(outbox) = self.find(to) {
            let _ = outbox.send(close(close_code::POLICY, "credentials changed").into());
        }
    }
}

pub fn router(domain: Domain, sockets: Arc<Sockets>) -> axum::Router {
    axum::Router::new()
        .route("/ocpp/{charge_point_id}", axum::routing::get(upgrade))
        .with_state((domain, sockets))
}

async fn upgrade(
    State((domain, sockets)): State<(Domain, Arc<Sockets>)>,
    Path(id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(version) = ocpp_gateway::websocket::offered_version(&headers) else {
        return (
            StatusCode::BAD_REQUEST,
            "offer ocpp2.0.1 or ocpp1.6 in Sec-WebSocket-Protocol",
        )
            .into_response();
    };
    let password = ocpp_gateway::websocket::basic_password(&headers, &id);
    let charger = match domain
        .charge_points
        .charge_point_login(&id, password.as_deref(), &peer.ip().to_string())
        .await
    {
        Ok(charger) => charger,
        Err(kernel::Error::RateLimited { retry_after_s }) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, retry_after_s.to_string())],
            )
                .into_response();
        }
        Err(kernel::Error::Unauthorized(_)) => {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Basic realm=\"ocpp\"")],
            )
                .into_response();
        }
        Err(e) => {
            tracing::warn!(error = %e, "OCPP login failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    // OCPP frames are small and a fleet holds thousands of connections:
    // small buffers (the defaults reserve 128 KiB a connection), and each
    // frame written at once (a charger waits for its answer).
    ws.protocols([version.subprotocol()])
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(0)
        .max_message_size(READ_LIMIT)
        .max_frame_size(READ_LIMIT)
        .on_upgrade(move |socket| async move {
            let connection = Arc::new(Connection::new(
                charger,
                version,
                uuid::Uuid::new_v4().to_string(),
            ));
            run(domain, sockets, connection, socket).await;
        })
}

async fn run(
    domain: Domain,
    sockets: Arc<Sockets>,
    connection: Arc<Connection>,
    socket: WebSocket,
) {
    let id = connection.charger.charge_point_id.clone();
    let (mut sink, mut stream) = socket.split();
    let (outbox, mut queued) = mpsc::unbounded_channel::<Outgoing>();
    let (writing, answers) = (connection.clone(), domain.clone());
    let writer = tokio::spawn(async move {
        while let Some(Outgoing { message, call }) = queued.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
            // A call sent waits for its answer so long.
            if let Some(message_id) = call {
                let (connection, domain) = (writing.clone(), answers.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(ANSWER_TIMEOUT).await;
                    ocpp_link::answers::overdue(&domain, &connection.charger, &message_id).await;
                });
            }
        }
    });
    let replaced = sockets
        .live
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            id.clone(),
            Live {
                connection: connection.clone(),
                outbox: outbox.clone(),
            },
        );
    if let Some(old) = replaced {
        let _ = old
            .outbox
            .send(close(close_code::NORMAL, "replaced by a newer connection").into());
    }
    let protocol = connection.version.subprotocol();
    let ready = async {
        domain
            .charge_points
            .charger_connected(&connection.charger, protocol, &connection.connection_id)
            .await?;
        domain
            .charge_points
            .charger_ready(&connection.charger)
            .await
    };
    if let Err(e) = ready.await {
        tracing::warn!(charge_point_id = %id, error = %e, "connection not recorded");
    }
    tracing::info!(charge_point_id = %id, protocol, "charge point connected");
    while let Some(Ok(message)) = stream.next().await {
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => break,
            Message::Binary(_) => {
                let _ =
                    outbox.send(close(close_code::UNSUPPORTED, "OCPP-J frames are text").into());
                break;
            }
            _ => continue,
        };
        if text.len() > MAX_FRAME_BYTES {
            let _ = outbox.send(close(close_code::SIZE, "frame over 64 KiB").into());
            break;
        }
        match connection.on_text(&domain, &text).await {
            Reply::Send(frame) => {
                if outbox.send(Message::Text(frame.into()).into()).is_err() {
                    break;
                }
            }
            Reply::Nothing => {}
            Reply::Close(why) => {
                let _ = outbox.send(close(close_code::POLICY, &why).into());
                break;
            }
        }
    }
    {
        let mut live = sockets.live.lock().unwrap_or_else(|p| p.into_inner());
        if live
            .get(&id)
            .is_some_and(|l| l.connection.connection_id == connection.connection_id)
        {
            live.remove(&id);
        }
    }
    // With every sender gone the writer sends what is queued and ends.
    drop(outbox);
    if tokio::time::timeout(std::time::Duration::from_secs(5), writer)
        .await
        .is_err()
    {
        tracing::debug!(charge_point_id = %id, "writer did not finish");
    }
    if let Err(e) = domain
        .charge_points
        .charger_disconnected(&connection.charger, &connection.connection_id)
        .await
    {
        tracing::warn!(charge_point_id = %id, error = %e, "disconnection not recorded");
    }
    tracing::info!(charge_point_id = %id, "charge point disconnected");
}
