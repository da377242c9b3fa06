//! The stack's table: on the embedded engine or another DynamoDB endpoint,
//! created and seeded as the local server does it.

use domain::Domain;
use kernel::{Settings, SystemClock};
use local_dynamo::{Engine, Storage};
use std::sync::Arc;
use store::DynamoStore;

/// Where the table lives.
#[derive(Debug, Clone)]
pub enum TableSource {
    Embedded(Storage),
    Endpoint(String),
}

pub struct Table {
    pub endpoint: String,
    engine: Option<Engine>,
}

impl Table {
    /// Starts the engine when it is embedded, creates the table when
    /// missing, and seeds the default operator and an admin client.
    pub async fn open(
        source: &TableSource,
        settings: Settings,
        admin: Option<(String, String)>,
    ) -> Result<Self, String> {
        let (endpoint, engine) = match source {
            TableSource::Embedded(storage) => {
                let engine = Engine::start(storage, 0).await?;
                (engine.endpoint(), Some(engine))
            }
            TableSource::Endpoint(url) => (url.clone(), None),
        };
        let client = store::client_for_endpoint(&endpoint, None);
        store::table::ensure_table(&client, &settings.table_name)
            .await
            .map_err(|e| format!("cannot create the table: {e}"))?;
        let store =
            DynamoStore::new(client, &settings.table_name).with_retention(settings.retention);
        let domain = Domain::new(Arc::new(store), settings, Arc::new(SystemClock));
        local_server::seed(&domain, admin).await?;
        Ok(Self { endpoint, engine })
    }

    pub async fn close(self) {
        if let Some(engine) = self.engine {
            engine.stop().await;
        }
    }
}
