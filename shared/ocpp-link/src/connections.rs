//! Calls to chargers through API Gateway's `@connections` management API:
//! what a function that queues commands uses, so that a command reaches a
//! connected charger at once.

use crate::gateway::Connection;
use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use domain::Domain;
use domain::chargepoints::{ChargerAddress, ChargerLink, Order};
use ocpp::Version;
use std::sync::{Arc, OnceLock};

/// The management endpoint of the WebSocket API's stage
/// (`https://<api>.execute-api.<region>.amazonaws.com/<stage>`).
pub const ENDPOINT_VARIABLE: &str = "OCPP_CONNECTIONS_URL";

pub struct Connections {
    client: Client,
    domain: OnceLock<Domain>,
}

impl Connections {
    /// The link `OCPP_CONNECTIONS_URL` names; `None` without it (commands
    /// for OCPP chargers then wait for their next heartbeat).
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
            domain: OnceLock::new(),
        }))
    }

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

    /// `domain` sending through this link.
    pub fn attached(self: &Arc<Self>, domain: Domain) -> Domain {
        let domain = domain.with_charger_link(self.clone());
        let _ = self.domain.set(domain.clone());
        domain
    }

    /// `domain` with the link the environment names, if it names one.
    pub async fn attach(domain: Domain) -> Domain {
        match Self::from_env().await {
            Some(link) => link.attached(domain),
            None => domain,
        }
    }
}

#[async_trait]
impl ChargerLink for Connections {
    async fn send(&self, to: &ChargerAddress, orders: Vec<Order>) -> bool {
        let (Some(domain), Some(version)) = (
            self.domain.get(),
            Version::from_subprotocol(&to.connection.protocol),
        ) else {
            return false;
        };
        let charger = match domain
            .charge_points
            .socket(&to.connection.connection_id)
            .await
        {
            Ok(Some(socket)) => socket.charger(),
            _ => return false,
        };
        let connection = Connection::new(charger, version, to.connection.connection_id.clone());
        for (_, frame) in connection.send_orders(domain, orders).await {
            let sent = self
                .client
                .post_to_connection()
                .connection_id(&to.connection.connection_id)
                .data(Blob::new(frame.into_bytes()))
                .send()
                .await;
            if let Err(e) = sent {
                tracing::warn!(charge_point_id = %to.charge_point_id, error = %e, "call not delivered");
                return false;
            }
        }
        true
    }

    async fn close(&self, to: &ChargerAddress) {
        self.close_connection(&to.connection.connection_id).await;
    }
}
