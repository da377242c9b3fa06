//! What the fleet's own messages show as they arrive: outages (silences
//! longer than 90 s, kept by the message that ends them), fault marks and
//! the findings made at ingest. Below telemetry and devices, which report
//! here; intelligence reads it.

pub mod findings;
pub mod outages;
mod port;

pub use port::ObservationStore;

use chrono::{DateTime, Utc};
use kernel::Clock;
use kernel::ids::{ConnectorId, DeviceId, OperatorId, SiteId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A span of time, `from` before `to`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    pub fn seconds(&self) -> f64 {
        (self.to - self.from).num_milliseconds().max(0) as f64 / 1000.0
    }

    /// The part of `other` inside this window, in seconds.
    pub fn overlap(&self, other: &Window) -> f64 {
        let from = self.from.max(other.from);
        let to = self.to.min(other.to);
        Window { from, to }.seconds()
    }
}

/// A time a device was silent for more than 90 s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    pub device_id: DeviceId,
    pub operator_id: OperatorId,
    pub site_id: Option<SiteId>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// One `fault` event, kept for health scores and briefings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultMark {
    pub device_id: DeviceId,
    pub operator_id: OperatorId,
    pub site_id: Option<SiteId>,
    pub connector_id: ConnectorId,
    pub at: DateTime<Utc>,
}

/// Rounds a figure for an answer: two decimals are what a person reads.
pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Outages and findings, kept and read.
#[derive(Clone)]
pub struct Observations {
    store: Arc<dyn ObservationStore>,
    clock: Arc<dyn Clock>,
}

/// What `Observations` is built on.
pub(crate) struct ObservationsParts {
    pub(crate) clock: Arc<dyn Clock>,
}

impl Observations {
    pub(crate) fn new(store: Arc<dyn ObservationStore>, parts: ObservationsParts) -> Self {
        let ObservationsParts { clock } = parts;
        Self { store, clock }
    }
}
