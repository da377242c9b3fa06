//! Questions in words (contract §8): deterministic rules map a question to
//! an intent and its parameters ([`parse`]), answered by the same queries
//! as the API, from the caller's fleet only (`answer.rs`). Sites are named
//! by (partial) name or id, devices by serial number.

mod answer;
mod parse;

pub use parse::{Intent, Period, intent_of, period_of};

use super::Subject;
use crate::telemetry::EnergyScope;
use chrono::{DateTime, Utc};
use kernel::ids::{DeviceId, SiteId};
use kernel::model::DeviceStatus;
use serde_json::Value;

pub const MAX_QUESTION: usize = 500;

/// `POST /v1/intelligence/ask`, parsed.
#[derive(Debug, Clone)]
pub struct Question {
    pub text: String,
    pub scope: super::Scope,
}

/// The answer to a question; the edge writes its sources as requests.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub answer: String,
    pub intent: Intent,
    pub parameters: Value,
    pub data: Value,
    /// API reads that return the same data.
    pub sources: Vec<Source>,
    pub follow_ups: Vec<String>,
}

/// Which part of the fleet a read covers: a site, a device, or the
/// operator's whole fleet (neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scope {
    pub site_id: Option<SiteId>,
    pub device_id: Option<DeviceId>,
}

impl Scope {
    fn of(subject: &Subject) -> Self {
        Self {
            site_id: subject.site_id(),
            device_id: subject.device_id(),
        }
    }
}

/// An API read that returns the same data as an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Sites,
    /// Hourly energy of one site or device.
    Energy {
        of: EnergyScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    Devices {
        site_id: Option<SiteId>,
        status: Option<DeviceStatus>,
    },
    /// The least healthy devices, `size` of them.
    HealthScores {
        scope: Scope,
        size: u32,
    },
    Anomalies {
        scope: Scope,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    /// The next 24 hours' energy.
    Forecast {
        scope: Scope,
    },
    FirmwareVersions,
    ChargingRecords {
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}
