//! Fleet intelligence (contract §8): outages and anomalies kept as they
//! happen, health scores, forecasts, the daily briefing, the agents that
//! compute them on a schedule, and questions asked in words. Every figure
//! is made from data the platform already keeps, and says how.

pub mod agents;
pub mod anomalies;
pub mod ask;
pub mod briefing;
mod catalogue;
pub mod forecast;
pub mod health;
mod port;
mod subject;

pub(crate) use crate::observations::round2;
pub use crate::observations::{FaultMark, Outage, Window};
pub use port::IntelligenceStore;

use crate::access::Access;
use crate::commands::CommandStore;
use crate::console::Console;
use crate::devices::DeviceStore;
use crate::observations::{ObservationStore, Observations};
use crate::records::RecordStore;
use crate::sites::SiteStore;
use crate::telemetry::TelemetryStore;
use crate::tenants::TenantStore;
use kernel::{Clock, Settings};
use std::sync::Arc;
pub use subject::{Scope, Subject};

ports!(
    /// The ports intelligence reads and writes.
    IntelligencePorts: IntelligenceStore, ObservationStore, DeviceStore, SiteStore,
        RecordStore, CommandStore, TelemetryStore, TenantStore
);

/// What intelligence is built on.
pub(crate) struct IntelligenceParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) access: Access,
    pub(crate) console: Console,
    pub(crate) observations: Observations,
}

/// Fleet intelligence: health, anomalies, forecasts, briefings, agents and
/// questions.
#[derive(Clone)]
pub struct Intelligence {
    store: Arc<dyn IntelligencePorts>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    access: Access,
    console: Console,
    observations: Observations,
}

impl Intelligence {
    pub(crate) fn new(store: Arc<dyn IntelligencePorts>, parts: IntelligenceParts) -> Self {
        Self {
            store,
            settings: parts.settings,
            clock: parts.clock,
            access: parts.access,
            console: parts.console,
            observations: parts.observations,
        }
    }
}
