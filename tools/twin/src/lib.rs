//! The Twin charger simulator. It imports no server crate: it speaks only
//! the wire protocol, as real chargers do, so it tests the contract rather
//! than sharing the server's types.

mod api;
mod charger;
mod fleet;
mod misbehaviour;
pub mod ocpp;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

pub use fleet::run;
pub use stats::Configuration;
pub use stats::{DeviceReport, Heartbeats, Stats, Summary};

#[derive(Debug, Clone)]
pub struct Config {
    pub url: String,
    pub sites: usize,
    pub chargers: usize,
    pub duration: Duration,
    pub speed: f64,
    pub seed: u64,
    pub state: Option<PathBuf>,
    pub provisioning_key: Option<String>,
    pub fault_rate: f64,
    pub session_rate: f64,
    /// Share (0..1) of firmware updates that fail to install.
    pub firmware_failure_rate: f64,
    /// Half the chargers misbehave: over-power, counter resets, fault
    /// bursts, stuck sessions, silence.
    pub anomalies: bool,
    /// Print a progress line every few seconds.
    pub progress: bool,
    /// How the chargers speak to the platform.
    pub protocol: Protocol,
    /// An operator's (or admin's) API client: OCPP chargers are provisioned
    /// through the console routes, and the fleet's cards registered.
    pub client: Option<(String, String)>,
    /// Each site's grid connection, kW, with load management on (its API
    /// client turns it on): more chargers than it can feed share it.
    pub site_capacity_kw: Option<f64>,
}

/// The chargers' protocol: the platform's own HTTP one, or OCPP-J.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Ocpp(ocpp::Version),
}

impl std::str::FromStr for Protocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "http" => Ok(Self::Http),
            "ocpp1.6" => Ok(Self::Ocpp(ocpp::Version::V16)),
            "ocpp2.0.1" => Ok(Self::Ocpp(ocpp::Version::V201)),
            other => Err(format!("{other}: expected http, ocpp1.6 or ocpp2.0.1")),
        }
    }
}
