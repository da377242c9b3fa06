//! The charging network's domain, by capability: `devices` (registration,
//! credentials), `telemetry` (what chargers report), `commands`, `sites`,
//! `records`, `tenants` (operators, clients, sessions), `feeds` (activity,
//! request log), `profiles` (configuration profiles), `campaigns` (staged
//! firmware roll-outs), `intelligence` (outages, anomalies, health,
//! forecasts, briefings, agents, questions), `console` (the operators' reads) and `access` (who may
//! do what). Each capability owns its rules, typed inputs and storage port;
//! the ports are implemented once, against the DynamoDB API, in the `store`
//! crate.

/// An enum of the wire: one snake-case name per variant, the same for serde,
/// for parsing at the edge (`strum`: value lists come from the enum itself)
/// and in the OpenAPI document.
macro_rules! wire_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident,)+ }) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
            strum::EnumString,
            strum::IntoStaticStr,
            strum::EnumIter,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }
    };
}

pub mod access;
pub mod campaigns;
pub mod catalogue;
pub mod clock;
pub mod commands;
pub mod console;
pub mod devices;
pub mod error;
pub mod feeds;
pub mod ids;
pub mod input;
pub mod intelligence;
pub mod model;
pub mod partners;
pub mod profiles;
pub mod records;
pub mod secret;
pub mod settings;
pub mod sites;
pub mod storage;
pub mod telemetry;
pub mod tenants;
pub mod throttle;

use std::sync::Arc;

pub use clock::{Clock, SystemClock};
pub use error::{Error, FieldError};
pub use settings::Settings;

/// Everything a request handler needs, built once per cold start and shared.
#[derive(Clone)]
pub struct Domain {
    store: Arc<dyn storage::Store>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    /// Only functions that issue or check device tokens hold the key.
    keys: Option<Arc<devices::credentials::TokenKey>>,
    /// Which operators have partners to notify, cached per container.
    partner_feeds: Arc<partners::feeds::FeedCache>,
}

impl Domain {
    pub fn new(store: Arc<dyn storage::Store>, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        let keys = settings
            .token_signing_key
            .as_ref()
            .map(|key| Arc::new(devices::credentials::TokenKey::new(key.expose())));
        Self {
            store,
            settings: Arc::new(settings),
            clock,
            keys,
            partner_feeds: Arc::default(),
        }
    }

    /// Whether the store answers; used by the deep health check.
    pub async fn store_ready(&self) -> Result<(), Error> {
        Ok(self.store.ping().await?)
    }
}
