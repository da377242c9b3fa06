//! Maintenance: counts every operator's devices and sites again from its
//! indexes (Query, never Scan) and rewrites its sites so that their list
//! keys have today's shape. For tables with devices or sites from before
//! the counters were kept; run it while nothing registers, since writes
//! during a recount may be counted twice or not at all.

use crate::access::Access;
use crate::devices::{DeviceStore, FleetCounts};
use crate::sites::SiteStore;
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::OperatorId;
use kernel::model::Role;
use std::sync::Arc;

/// What a recount found for one operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recount {
    pub operator: OperatorId,
    pub devices: usize,
    pub sites: usize,
}

ports!(
    /// The ports a recount uses.
    RecountPorts: DeviceStore, SiteStore
);

/// Counts fleets again from their indexes.
#[derive(Clone)]
pub struct FleetRecount {
    store: Arc<dyn RecountPorts>,
    access: Access,
}

/// What `FleetRecount` is built on.
pub(crate) struct FleetRecountParts {
    pub(crate) access: Access,
}

impl FleetRecount {
    pub(crate) fn new(store: Arc<dyn RecountPorts>, parts: FleetRecountParts) -> Self {
        let FleetRecountParts { access } = parts;
        Self { store, access }
    }

    pub async fn recount_fleets(&self) -> Result<Vec<Recount>, Error> {
        let platform = Caller {
            client_id: "recount".into(),
            role: Role::Admin,
            operators: vec![],
        };
        let mut out = Vec::new();
        for op in self.access.scope(&platform).await? {
            let mut counts = FleetCounts::default();
            for d in self.access.operator_devices(&op).await? {
                counts.add_device((&d.model, &d.manufacturer, d.firmware_version.as_str()), 1);
            }
            let sites = self.store.operator_sites(&op).await?;
            for site in &sites {
                // A site changed meanwhile was written with today's keys.
                self.store.rewrite_site(site).await?;
            }
            counts.sites = i64::try_from(sites.len()).unwrap_or(i64::MAX);
            self.store.replace_fleet_counts(&op, &counts).await?;
            out.push(Recount {
                devices: counts.devices(),
                sites: sites.len(),
                operator: op,
            });
        }
        Ok(out)
    }
}
