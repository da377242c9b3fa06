//! The Twin charger simulator. It imports no server crate: it speaks only
//! the wire protocol, as real chargers do, so it tests the contract rather
//! than sharing the server's types.

mod api;
mod charger;
mod fleet;
mod misbehaviour;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

pub use charger::Configuration;
pub use fleet::run;
pub use stats::{DeviceReport, Heartbeats, Summary};

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
}
