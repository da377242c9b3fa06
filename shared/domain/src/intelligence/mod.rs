//! Fleet intelligence (contract §8): outages and anomalies kept as they
//! happen, health scores, forecasts, the daily briefing, the agents that
//! compute them on a schedule, and questions asked in words. Every figure
//! is made from data the platform already keeps, and says how.

pub mod agents;
pub mod anomalies;
pub mod ask;
pub mod briefing;
pub mod forecast;
pub mod health;
pub mod outages;
mod port;
mod subject;

pub use port::IntelligenceStore;
pub use subject::{Scope, Subject};

use chrono::{DateTime, Utc};
use kernel::ids::{ConnectorId, DeviceId, OperatorId, SiteId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A span of time, `from` before `to`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
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
