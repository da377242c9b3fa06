//! The charging network's domain, by capability: `devices` (registration,
//! credentials), `telemetry` (what chargers report), `commands`, `sites`,
//! `records`, `tenants` (operators, clients, sessions), `feeds` (activity,
//! request log), `profiles` (configuration profiles), `campaigns` (staged
//! firmware roll-outs), `intelligence` (outages, anomalies, health,
//! forecasts, briefings, agents, questions), `console` (the operators'
//! reads) and `access` (the visibility reads). What they share (ids,
//! entities, settings, the caller, the error) is the `kernel` crate. Each
//! capability owns its rules, typed inputs and storage port; the ports are
//! implemented once, against the DynamoDB API, in the `store` crate.

pub mod access;
pub mod campaigns;
pub mod chargepoints;
pub mod commands;
pub mod console;
pub mod devices;
pub mod feeds;
pub mod idtags;
pub mod intelligence;
pub mod observations;
pub mod partners;
pub mod profiles;
pub mod records;
pub mod sites;
pub mod storage;
pub mod telemetry;
pub mod tenants;
pub mod throttle;

use std::sync::Arc;

use kernel::{Clock, Error, Settings};

/// Everything a request handler needs, built once per cold start and shared.
#[derive(Clone)]
pub struct Domain {
    store: Arc<dyn storage::Store>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    /// Which operators have partners to notify, cached per container.
    partner_feeds: Arc<partners::feeds::FeedCache>,
    /// The activity feed and the request log.
    pub feeds: feeds::Feeds,
    /// Operators, API clients and their sessions.
    pub tenants: tenants::Tenants,
    throttle: throttle::Throttle,
    /// Who may see what.
    pub access: access::Access,
    /// Outages and findings as messages arrive.
    pub observations: observations::Observations,
    /// Chargers' registration and credentials.
    pub devices: devices::Devices,
    /// Drivers' tokens.
    pub id_tags: idtags::IdTags,
    /// How commands reach OCPP chargers' connections, where this process
    /// can reach them.
    charger_link: Option<Arc<dyn chargepoints::ChargerLink>>,
}

impl Domain {
    pub fn new<S: storage::Store + 'static>(
        store: Arc<S>,
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let settings = Arc::new(settings);
        let throttle = throttle::Throttle::new(store.clone(), settings.clone(), clock.clone());
        let feeds = feeds::Feeds::new(store.clone(), settings.clone(), clock.clone());
        let access = access::Access::new(store.clone(), settings.clone());
        let observations = observations::Observations::new(store.clone(), clock.clone());
        let tenants = tenants::Tenants::new(
            store.clone(),
            settings.clone(),
            clock.clone(),
            throttle.clone(),
        );
        let devices = devices::Devices::new(
            store.clone(),
            devices::DevicesParts {
                settings: settings.clone(),
                clock: clock.clone(),
                throttle: throttle.clone(),
                feeds: feeds.clone(),
                access: access.clone(),
                observations: observations.clone(),
            },
        );
        let id_tags = idtags::IdTags::new(store.clone(), clock.clone(), access.clone());
        Self {
            id_tags,
            store,
            settings,
            clock,
            partner_feeds: Arc::default(),
            feeds,
            tenants,
            throttle,
            access,
            observations,
            devices,
            charger_link: None,
        }
    }

    /// Whether the store answers; used by the deep health check.
    pub async fn store_ready(&self) -> Result<(), Error> {
        Ok(self.store.ping().await?)
    }
}
