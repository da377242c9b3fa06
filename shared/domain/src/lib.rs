//! The charging network's domain: models, validation, credentials and the
//! services behind every route. Storage is reached only through the
//! [`store::Store`] port, implemented once against the DynamoDB API.

pub mod activity;
pub mod catalogue;
pub mod clock;
pub mod commands;
pub mod console;
pub mod credentials;
pub mod devices;
pub mod dispatch;
pub mod energy;
pub mod error;
pub mod flexibility;
pub mod ids;
pub mod ingest;
pub mod model;
pub mod operators;
pub mod records;
pub mod request_log;
pub mod schedule;
pub mod settings;
pub mod sites;
pub mod store;
pub mod validate;
pub mod views;

use std::sync::Arc;

pub use clock::{Clock, SystemClock};
pub use error::{Error, FieldError};
pub use settings::Settings;

/// Everything a request handler needs, built once per cold start and shared.
#[derive(Clone)]
pub struct Domain {
    pub store: Arc<dyn store::Store>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    keys: Arc<credentials::TokenKey>,
}

impl Domain {
    pub fn new(store: Arc<dyn store::Store>, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        let keys = Arc::new(credentials::TokenKey::new(&settings.token_signing_key));
        Self {
            store,
            settings: Arc::new(settings),
            clock,
            keys,
        }
    }

    /// Whether the store answers; used by the deep health check.
    pub async fn store_ready(&self) -> Result<(), Error> {
        Ok(self.store.ping().await?)
    }
}
