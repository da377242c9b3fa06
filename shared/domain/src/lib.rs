//! The charging network's domain: one service per capability, each holding
//! only the storage ports it uses and the services below it. Bottom first
//! (`tests/layers.rs` keeps the order): `throttle`, `feeds` (activity,
//! request log), `outbox` (what changes owe partners), `observations`
//! (outages, findings at ingest), `tenants` (operators, clients, sessions);
//! `devices`, `sites`, `access` (who sees what), `idtags` (drivers' tokens),
//! `tariffs`, `recount`; `commands`, `loads`; `telemetry`, `records`; `campaigns`, `profiles`,
//! `flexibility`, `admin`; `console` (the operators' reads), `intelligence`,
//! `partners`, `chargepoints`. What they share (ids, entities, settings,
//! the caller, the error) is the `kernel` crate; the ports are implemented
//! once, against the DynamoDB API, in the `store` crate, and
//! [`Domain::new`] assembles the services over it ([`Assemble`]).

/// A service's ports as one trait, which every store that implements
/// them all has: `ports!(AccessPorts: DeviceStore, SiteStore)`.
macro_rules! ports {
    ($(#[$meta:meta])* $name:ident: $($port:path),+ $(,)?) => {
        $(#[$meta])*
        pub trait $name: $($port +)+ {}
        impl<T: $($port +)+ ?Sized> $name for T {}
    };
}

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
pub mod loads;
pub mod observations;
pub mod outbox;
pub mod partners;
pub mod profiles;
pub mod records;
pub mod recount;
pub mod sites;
pub mod storage;
pub mod tariffs;
pub mod telemetry;
pub mod tenants;
pub mod throttle;

use std::sync::Arc;

use kernel::{Clock, Error, Settings};

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
    /// Tariffs.
    pub tariffs: tariffs::Tariffs,
    /// Sites and their capacity.
    pub sites: sites::Sites,
    /// Commands and their lifecycle.
    pub commands: commands::Commands,
    /// Site load management.
    pub loads: loads::Loads,
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
    /// The store, to build the services again with a charger link.
    assembler: Arc<dyn Assemble>,
}

impl Domain {
    /// Every service over one store.
    pub fn new(store: Arc<impl Assemble>, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        store.assemble(Arc::new(settings), clock, None)
    }

    /// Every service built afresh over the same store, settings and clock,
    /// sending commands to OCPP chargers on `line` (caches start empty:
    /// give the line at start-up, before the services are used).
    pub fn with_charger_line(self, line: Arc<dyn commands::ChargerLine>) -> Self {
        self.assembler
            .clone()
            .assemble(self.settings.clone(), self.clock.clone(), Some(line))
    }

    /// Whether the store answers; used by the deep health check.
    pub async fn store_ready(&self) -> Result<(), Error> {
        Ok(self.store.ping().await?)
    }
}

/// Builds every service over one store: a store that implements every
/// port (the DynamoDB adapter) can, and each service is handed only the
/// ports it uses.
pub trait Assemble: Send + Sync {
    fn assemble(
        self: Arc<Self>,
        settings: Arc<Settings>,
        clock: Arc<dyn Clock>,
        charger_line: Option<Arc<dyn commands::ChargerLine>>,
    ) -> Domain;
}

impl<S> Assemble for S
where
    S: storage::StoreHealth
        + access::AccessPorts
        + campaigns::CampaignsPorts
        + chargepoints::ChargePointsPorts
        + commands::CommandStore
        + console::ConsolePorts
        + feeds::FeedStore
        + idtags::IdTagStore
        + tariffs::TariffsPorts
        + loads::LoadsPorts
        + intelligence::IntelligencePorts
        + partners::PartnersPorts
        + profiles::ProfilesPorts
        + telemetry::TelemetryPorts
        + throttle::ThrottleStore
        + 'static,
{
    fn assemble(
        self: Arc<Self>,
        settings: Arc<Settings>,
        clock: Arc<dyn Clock>,
        charger_line: Option<Arc<dyn commands::ChargerLine>>,
    ) -> Domain {
        let throttle = throttle::Throttle::new(
            self.clone(),
            throttle::ThrottleParts {
                settings: settings.clone(),
                clock: clock.clone(),
            },
        );
        let feeds = feeds::Feeds::new(
            self.clone(),
            feeds::FeedsParts {
                settings: settings.clone(),
                clock: clock.clone(),
            },
        );
        let partner_notices = partners::feeds::PartnerNotices::new(
            self.clone(),
            partners::feeds::PartnerNoticesParts {
                settings: settings.clone(),
                clock: clock.clone(),
            },
        );
        let access = access::Access::new(
            self.clone(),
            access::AccessParts {
                settings: settings.clone(),
            },
        );
        let observations = observations::Observations::new(
            self.clone(),
            observations::ObservationsParts {
                clock: clock.clone(),
            },
        );
        let tenants = tenants::Tenants::new(
            self.clone(),
            tenants::TenantsParts {
                settings: settings.clone(),
                clock: clock.clone(),
                throttle: throttle.clone(),
            },
        );
        let devices = devices::Devices::new(
            self.clone(),
            devices::DevicesParts {
                settings: settings.clone(),
                clock: clock.clone(),
                throttle: throttle.clone(),
                feeds: feeds.clone(),
                observations: observations.clone(),
            },
        );
        let id_tags = idtags::IdTags::new(
            self.clone(),
            idtags::IdTagsParts {
                clock: clock.clone(),
                access: access.clone(),
            },
        );
        let tariffs = tariffs::Tariffs::new(
            self.clone(),
            tariffs::TariffsParts {
                clock: clock.clone(),
                access: access.clone(),
                feeds: feeds.clone(),
            },
        );
        let sites = sites::Sites::new(
            self.clone(),
            sites::SitesParts {
                settings: settings.clone(),
                clock: clock.clone(),
                devices: devices.clone(),
                feeds: feeds.clone(),
            },
        );
        let commands = commands::Commands::new(
            self.clone(),
            commands::CommandParts {
                settings: settings.clone(),
                clock: clock.clone(),
                feeds: feeds.clone(),
                access: access.clone(),
                devices: devices.clone(),
                sites: sites.clone(),
                owed: Arc::new(partner_notices.clone()),
                rules: Arc::new(chargepoints::ChargePointRules::new(
                    self.clone(),
                    clock.clone(),
                )),
                reports: vec![
                    Arc::new(profiles::ConfigurationReports::new(self.clone())),
                    Arc::new(loads::LimitRefusals::new(self.clone())),
                ],
                line: charger_line,
            },
        );
        let loads = loads::Loads::new(
            self.clone(),
            loads::LoadsParts {
                settings: settings.clone(),
                clock: clock.clone(),
                commands: commands.clone(),
            },
        );
        let owed: Arc<dyn outbox::Owed> = Arc::new(partner_notices.clone());
        let campaigns = campaigns::Campaigns::new(
            self.clone(),
            campaigns::CampaignsParts {
                clock: clock.clone(),
                access: access.clone(),
                commands: commands.clone(),
                feeds: feeds.clone(),
            },
        );
        let telemetry = telemetry::Telemetry::new(
            self.clone(),
            telemetry::TelemetryParts {
                settings: settings.clone(),
                clock: clock.clone(),
                feeds: feeds.clone(),
                devices: devices.clone(),
                observations: observations.clone(),
                commands: commands.clone(),
                owed: owed.clone(),
                firmware: Arc::new(campaigns.clone()),
                loads: loads.clone(),
            },
        );
        let records = records::Records::new(
            self.clone(),
            records::RecordsParts {
                clock: clock.clone(),
                feeds: feeds.clone(),
                devices: devices.clone(),
                tariffs: tariffs.clone(),
                owed,
            },
        );
        let recount = recount::FleetRecount::new(
            self.clone(),
            recount::FleetRecountParts {
                access: access.clone(),
            },
        );
        let profiles = profiles::Profiles::new(
            self.clone(),
            profiles::ProfilesParts {
                settings: settings.clone(),
                clock: clock.clone(),
                access: access.clone(),
                commands: commands.clone(),
                feeds: feeds.clone(),
            },
        );
        let flexibility = flexibility::Flexibility::new(
            self.clone(),
            flexibility::FlexibilityParts {
                settings: settings.clone(),
                clock: clock.clone(),
                access: access.clone(),
                commands: commands.clone(),
            },
        );
        let admin = admin::AdminCommands::new(admin::AdminCommandsParts {
            access: access.clone(),
            commands: commands.clone(),
            profiles: profiles.clone(),
        });
        let console = console::Console::new(
            self.clone(),
            console::ConsoleParts {
                settings: settings.clone(),
                clock: clock.clone(),
                access: access.clone(),
            },
        );
        let intelligence = intelligence::Intelligence::new(
            self.clone(),
            intelligence::IntelligenceParts {
                settings: settings.clone(),
                clock: clock.clone(),
                access: access.clone(),
                console: console.clone(),
                observations: observations.clone(),
            },
        );
        let partners = partners::Partners::new(
            self.clone(),
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
            self.clone(),
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
                tariffs: tariffs.clone(),
            },
        );
        Domain {
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
            store: self.clone(),
            settings,
            clock,
            partner_notices,
            feeds,
            tenants,
            access,
            observations,
            devices,
            id_tags,
            tariffs,
            sites,
            commands,
            loads,
            assembler: self,
        }
    }
}
