//! The transport in AWS: API Gateway's `@connections` management API, which
//! every function that queues commands posts through, so that a command
//! reaches a connected charger at once.

use crate::line::{Gone, OcppLine, Transport};
use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use domain::Domain;
use domain::chargepoints::ChargePointStore;
use domain::commands::LineAddress;
use std::sync::Arc;

/// The management endpoint of the WebSocket API's stage
/// (`https://<api>.execute-api.<region>.amazonaws.com/<stage>`).
pub const ENDPOINT_VARIABLE: &str = "OCPP_CONNECTIONS_URL";

pub struct Connections {
    client: Client,
}

impl Connections {
    /// The transport `OCPP_CONNECTIONS_URL` names; `None` without it
    /// (commands for OCPP chargers then go out when they next send a
    /// heartbeat).
    pub async fn from_env() -> Option<Arc<Self>> {
        let endpoint = std::env::var(ENDPOINT_VARIABLE)
            .ok()
            .filter(|e| !e.is_empty())?;
        let shared = aws_config::load_from_env().await;
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(&shared)
            .endpoint_url(endpoint)
            .build();
        Some(Arc::new(Self {
            client: Client::from_conf(config),
        }))
    }

    /// `domain` sending commands to OCPP chargers through these
    /// connections; the line notes its calls in `store`.
    pub fn attached(self: &Arc<Self>, domain: Domain, store: Arc<dyn ChargePointStore>) -> Domain {
        let line = OcppLine::new(store, domain.clock.clone(), self.clone());
        domain.with_charger_line(Arc::new(line))
    }

    /// `domain` sending commands to OCPP chargers through the transport
    /// the environment names, if it names one.
    pub async fn attach(domain: Domain, store: Arc<dyn ChargePointStore>) -> Domain {
        match Self::from_env().await {
            Some(connections) => connections.attached(domain, store),
            None => domain,
        }
    }
}

#[async_trait]
impl Transport for Connections {
    async fn post(&self, to: &LineAddress, message_id: &str, frame: String) -> Result<(), Gone> {
        let connection_id = to.connection.connection_id.as_str();
        let sent = self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(frame.into_bytes()))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => {
                // 410 is a connection that ended; any other failure is
                // as final for this call.
                let gone = matches!(&e, SdkError::ServiceError(s) if s.err().is_gone_exception());
                tracing::warn!(connection_id, message_id, gone, error = %e, "call not delivered");
                Err(Gone)
            }
        }
    }

    async fn close(&self, to: &LineAddress) {
        self.close_connection(&to.connection.connection_id).await;
    }
}

impl Connections {
    /// Closes a connection (a charger whose credentials ended, or one the
    /// table no longer knows).
    pub async fn close_connection(&self, connection_id: &str) {
        let closed = self
            .client
            .delete_connection()
            .connection_id(connection_id)
            .send()
            .await;
        if let Err(e) = closed {
            tracing::debug!(connection_id, error = %e, "connection not closed");
        }
    }
}
