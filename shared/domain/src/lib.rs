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
pub mod admin;
pub mod campaigns;
pub mod chargepoints;
pub mod commands;
pub mod console;
pub mod devices;
pub mod feeds;
pub mod flexibility;
pub mod idtags;
pub mod intelligence;
pub mod observations;
pub mod outbox;
pub mod partners;
pub mod profiles;
pub mod records;
pub mod recount;
pub mod sites;
pub mod storage;
pub mod telemetry;
pub mod tenants;
pub mod throttle;

use std::sync::Arc;

use kernel::{Clock, Error, Settings};

/// Builds this domain again with another charger link.
type Rebuild = Arc<dyn Fn(Option<Arc<dyn chargepoints::ChargerLink>>) -> Domain + Send + Sync>;

/// Every service, built once per cold start and shared.
#[derive(Clone)]
pub struct Domain {
    store: Arc<dyn storage::StoreHealth>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    /// What changes owe partners.
    pub partner_notices: partners::feeds::PartnerNotices,
    /// The activity feed and the request log.
    pub feeds: feeds::Feeds,
    /// Operators, API clients and their sessions.
    pub tenants: tenants::Tenants,
    /// Who may see what.
    pub access: access::Access,
    /// Outages and findings as messages arrive.
    pub observations: observations::Observations,
    /// Chargers' registration and credentials.
    pub devices: devices::Devices,
    /// Drivers' tokens.
    pub id_tags: idtags::IdTags,
    /// Sites and their capacity.
    pub sites: sites::Sites,
    /// Commands and their lifecycle.
    pub commands: commands::Commands,
    /// Firmware campaigns.
    pub campaigns: campaigns::Campaigns,
    /// What chargers report.
    pub telemetry: telemetry::Telemetry,
    /// Charging records.
    pub records: records::Records,
    /// The operators' reads.
    pub console: console::Console,
    /// Partner platforms.
    pub partners: partners::Partners,
    /// Fleet intelligence.
    pub intelligence: intelligence::Intelligence,
    /// Configuration profiles.
    pub profiles: profiles::Profiles,
    /// Site flexibility.
    pub flexibility: flexibility::Flexibility,
    /// An admin's manual commands.
    pub admin: admin::AdminCommands,
    /// Maintenance: fleet counters counted again.
    pub recount: recount::FleetRecount,
    /// OCPP charge points.
    pub charge_points: chargepoints::ChargePoints,
    rebuild: Rebuild,
}

impl Domain {
    /// Every service over one store: the adapter implements every port,
    /// and each service is handed only the ports it uses.
    pub fn new<S>(store: Arc<S>, settings: Settings, clock: Arc<dyn Clock>) -> Self
    where
        S: storage::StoreHealth
            + access::AccessPorts
            + campaigns::CampaignsPorts
            + chargepoints::ChargePointsPorts
            + commands::CommandStore
            + console::ConsolePorts
            + feeds::FeedStore
            + idtags::IdTagStore
            + intelligence::IntelligencePorts
            + partners::PartnersPorts
            + profiles::ProfilesPorts
            + telemetry::TelemetryPorts
            + throttle::ThrottleStore
            + 'static,
    {
        Self::assemble(store, Arc::new(settings), clock, None)
    }

    /// The same services, sending commands to OCPP chargers through `link`.
    pub fn with_charger_link(self, link: Arc<dyn chargepoints::ChargerLink>) -> Self {
        (self.rebuild)(Some(link))
    }

    fn assemble<S>(
        store: Arc<S>,
        settings: Arc<Settings>,
        clock: Arc<dyn Clock>,
        charger_link: Option<Arc<dyn chargepoints::ChargerLink>>,
    ) -> Self
    where
        S: storage::StoreHealth
            + access::AccessPorts
            + campaigns::CampaignsPorts
            + chargepoints::ChargePointsPorts
            + commands::CommandStore
            + console::ConsolePorts
            + feeds::FeedStore
            + idtags::IdTagStore
            + intelligence::IntelligencePorts
            + partners::PartnersPorts
            + profiles::ProfilesPorts
            + telemetry::TelemetryPorts
            + throttle::ThrottleStore
            + 'static,
    {
        let rebuild: Rebuild = {
            let (store, settings, clock) = (store.clone(), settings.clone(), clock.clone());
            Arc::new(move |link| {
                Self::assemble(store.clone(), settings.clone(), clock.clone(), link)
            })
        };
        let throttle = throttle::Throttle::new(store.clone(), settings.clone(), clock.clone());
        let feeds = feeds::Feeds::new(store.clone(), settings.clone(), clock.clone());
        let partner_notices =
            partners::feeds::PartnerNotices::new(store.clone(), settings.clone(), clock.clone());
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
                observations: observations.clone(),
            },
        );
        let id_tags = idtags::IdTags::new(store.clone(), clock.clone(), access.clone());
        let sites = sites::Sites::new(
            store.clone(),
            settings.clone(),
            clock.clone(),
            devices.clone(),
            feeds.clone(),
        );
        let commands = commands::Commands::new(
            store.clone(),
            commands::CommandParts {
                settings: settings.clone(),
                clock: clock.clone(),
                feeds: feeds.clone(),
                access: access.clone(),
                devices: devices.clone(),
                sites: sites.clone(),
            },
            commands::CommandHooks {
                owed: Arc::new(partner_notices.clone()),
                line: Arc::new(chargepoints::ChargePointLine::new(
                    store.clone(),
                    clock.clone(),
                    charger_link.clone(),
                )),
                reports: Arc::new(profiles::ConfigurationReports::new(store.clone())),
            },
        );
        let owed: Arc<dyn outbox::Owed> = Arc::new(partner_notices.clone());
        let campaigns = campaigns::Campaigns::new(
            store.clone(),
            clock.clone(),
            access.clone(),
            commands.clone(),
            feeds.clone(),
        );
        let telemetry = telemetry::Telemetry::new(
            store.clone(),
            telemetry::TelemetryParts {
                settings: settings.clone(),
                clock: clock.clone(),
                feeds: feeds.clone(),
                devices: devices.clone(),
                observations: observations.clone(),
                commands: commands.clone(),
                owed: owed.clone(),
                firmware: Arc::new(campaigns.clone()),
            },
        );
        let records = records::Records::new(
            store.clone(),
            clock.clone(),
            feeds.clone(),
            devices.clone(),
            owed,
        );
        let recount = recount::FleetRecount::new(store.clone(), access.clone());
        let profiles = profiles::Profiles::new(
            store.clone(),
            settings.clone(),
            clock.clone(),
            access.clone(),
            commands.clone(),
            feeds.clone(),
        );
        let flexibility = flexibility::Flexibility::new(
            store.clone(),
            settings.clone(),
            clock.clone(),
            access.clone(),
            commands.clone(),
        );
        let admin = admin::AdminCommands::new(access.clone(), commands.clone(), profiles.clone());
        let console = console::Console::new(
            store.clone(),
            settings.clone(),
            clock.clone(),
            access.clone(),
        );
        let intelligence = intelligence::Intelligence::new(
            store.clone(),
            intelligence::IntelligenceParts {
                settings: settings.clone(),
                clock: clock.clone(),
                access: access.clone(),
                console: console.clone(),
                observations: observations.clone(),
            },
        );
        let partners = partners::Partners::new(
            store.clone(),
            partners::PartnerParts {
                settings: settings.clone(),
                clock: clock.clone(),
                throttle: throttle.clone(),
                tenants: tenants.clone(),
                access: access.clone(),
                commands: commands.clone(),
            },
        );
        let charge_points = chargepoints::ChargePoints::new(
            store.clone(),
            chargepoints::ChargePointParts {
                clock: clock.clone(),
                throttle: throttle.clone(),
                feeds: feeds.clone(),
                access: access.clone(),
                devices: devices.clone(),
                id_tags: id_tags.clone(),
                observations: observations.clone(),
                commands: commands.clone(),
                telemetry: telemetry.clone(),
                records: records.clone(),
                link: charger_link,
            },
        );
        Self {
            charge_points,
            partners,
            intelligence,
            console,
            profiles,
            flexibility,
            admin,
            recount,
            campaigns,
            telemetry,
            records,
            store,
            settings,
            clock,
            partner_notices,
            feeds,
            tenants,
            access,
            observations,
            devices,
            id_tags,
            sites,
            commands,
            rebuild,
        }
    }

    /// Whether the store answers; used by the deep health check.
    pub async fn store_ready(&self) -> Result<(), Error> {
        Ok(self.store.ping().await?)
    }
}
