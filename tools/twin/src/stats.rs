//! What the fleet did and saw: requests per route, statuses, latencies,
//! commands and energy.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Stats(Mutex<Inner>);

#[derive(Debug, Default)]
struct Inner {
    routes: BTreeMap<String, u64>,
    statuses: BTreeMap<u16, u64>,
    latencies_ms: Vec<f64>,
    commands_received: u64,
    commands_acknowledged: u64,
    energy_charged_kwh: f64,
    energy_discharged_kwh: f64,
    charging_records: u64,
    faults: u64,
    unexpected: Vec<String>,
    unexpected_count: u64,
    heartbeats: Heartbeats,
    running_costs: u64,
    priced: Priced,
}

/// At most this many unexpected errors are kept verbatim.
const KEPT_ERRORS: usize = 20;

impl Stats {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut inner)
    }

    pub fn request(&self, route: &str, status: u16, ms: f64) {
        self.with(|s| {
            *s.routes.entry(route.to_owned()).or_default() += 1;
            *s.statuses.entry(status).or_default() += 1;
            s.latencies_ms.push(ms);
        });
    }

    pub fn unexpected(&self, what: String) {
        self.with(|s| {
            s.unexpected_count += 1;
            if s.unexpected.len() < KEPT_ERRORS {
                s.unexpected.push(what);
            }
        });
    }

    pub fn heartbeat_scheduled(&self) {
        self.with(|s| s.heartbeats.scheduled += 1);
    }

    pub fn heartbeat_answered(&self) {
        self.with(|s| s.heartbeats.answered += 1);
    }

    pub fn command_received(&self) {
        self.with(|s| s.commands_received += 1);
    }

    pub fn command_acknowledged(&self) {
        self.with(|s| s.commands_acknowledged += 1);
    }

    pub fn energy(&self, charged: f64, discharged: f64) {
        self.with(|s| {
            s.energy_charged_kwh += charged;
            s.energy_discharged_kwh += discharged;
        });
    }

    pub fn charging_record(&self) {
        self.with(|s| s.charging_records += 1);
    }

    pub fn fault(&self) {
        self.with(|s| s.faults += 1);
    }

    /// A running cost the platform told a charger (OCPP 2.0.1).
    pub fn running_cost(&self) {
        self.with(|s| s.running_costs += 1);
    }

    /// A session's total cost, as the end of its transaction was answered.
    pub fn total_cost(&self, cost: f64) {
        self.with(|s| {
            s.priced.sessions += 1;
            // In cents, so that the sum is exact.
            s.priced.total_cents += (cost * 100.0).round() as i64;
        });
    }

    /// Requests and errors so far, for the progress line.
    pub fn progress(&self) -> (u64, u64, f64) {
        self.with(|s| {
            let errors = s
                .statuses
                .iter()
                .filter(|(k, _)| **k >= 400)
                .map(|(_, v)| v)
                .sum();
            (s.latencies_ms.len() as u64, errors, s.energy_charged_kwh)
        })
    }

    pub fn summary(&self, devices: Vec<DeviceReport>, sites: Vec<String>, wall_s: f64) -> Summary {
        self.with(|s| {
            let mut sorted = s.latencies_ms.clone();
            sorted.sort_by(f64::total_cmp);
            let pct = |p: f64| {
                if sorted.is_empty() {
                    0.0
                } else {
                    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
                    (sorted[i] * 10.0).round() / 10.0
                }
            };
            Summary {
                wall_seconds: (wall_s * 10.0).round() / 10.0,
                requests: s.routes.clone(),
                statuses: s
                    .statuses
                    .iter()
                    .map(|(k, v)| (k.to_string(), *v))
                    .collect(),
                total_requests: sorted.len() as u64,
                latency_ms: Latency {
                    p50: pct(0.50),
                    p95: pct(0.95),
                    p99: pct(0.99),
                },
                heartbeats: s.heartbeats,
                commands_received: s.commands_received,
                commands_acknowledged: s.commands_acknowledged,
                energy_charged_kwh: s.energy_charged_kwh,
                energy_discharged_kwh: s.energy_discharged_kwh,
                charging_records: s.charging_records,
                faults: s.faults,
                running_costs: s.running_costs,
                priced: s.priced,
                unexpected_errors: s.unexpected_count,
                unexpected: s.unexpected.clone(),
                devices,
                sites,
            }
        })
    }
}

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Priced {
    pub sessions: u64,
    pub total_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// Heartbeats the chargers' schedules held during the run, and those the
/// backend answered with success. A slow backend makes chargers fall behind
/// their schedule, so the two part.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Heartbeats {
    pub scheduled: u64,
    pub answered: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceReport {
    pub device_id: String,
    pub sn: String,
    pub model: String,
    pub firmware_version: String,
    pub site_id: Option<String>,
    pub energy_charged_kwh: f64,
    pub energy_discharged_kwh: f64,
    /// Firmware updates this charger installed, and those it failed.
    pub firmware_installs: u32,
    pub firmware_failures: u32,
    /// The settings it runs with and the profile version they came from.
    pub configuration: Configuration,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub wall_seconds: f64,
    pub requests: BTreeMap<String, u64>,
    pub statuses: BTreeMap<String, u64>,
    pub total_requests: u64,
    pub latency_ms: Latency,
    pub heartbeats: Heartbeats,
    pub commands_received: u64,
    pub commands_acknowledged: u64,
    pub energy_charged_kwh: f64,
    pub energy_discharged_kwh: f64,
    pub charging_records: u64,
    pub faults: u64,
    /// Running costs told the fleet's 2.0.1 chargers.
    pub running_costs: u64,
    /// Sessions whose end was answered with a total cost, and their sum.
    pub priced: Priced,
    pub unexpected_errors: u64,
    pub unexpected: Vec<String>,
    pub devices: Vec<DeviceReport>,
    pub sites: Vec<String>,
}

impl Summary {
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "\nfleet: {} chargers in {} sites, {:.1} s\n",
            self.devices.len(),
            self.sites.len(),
            self.wall_seconds
        ));
        out.push_str("requests per route:\n");
        for (route, n) in &self.requests {
            out.push_str(&format!("  {route:<34} {n}\n"));
        }
        out.push_str("statuses:");
        for (status, n) in &self.statuses {
            out.push_str(&format!(" {status}={n}"));
        }
        out.push_str(&format!(
            "\nlatency ms: p50 {} p95 {} p99 {}\n",
            self.latency_ms.p50, self.latency_ms.p95, self.latency_ms.p99
        ));
        let hb = self.heartbeats;
        out.push_str(&format!(
            "heartbeats: {} of {} scheduled answered ({:.1} %)\n",
            hb.answered,
            hb.scheduled,
            100.0 * hb.answered as f64 / hb.scheduled.max(1) as f64
        ));
        out.push_str(&format!(
            "commands: {} received, {} acknowledged\n",
            self.commands_received, self.commands_acknowledged
        ));
        out.push_str(&format!(
            "energy: {:.3} kWh charged, {:.3} kWh discharged; {} charge records; {} faults\n",
            self.energy_charged_kwh, self.energy_discharged_kwh, self.charging_records, self.faults
        ));
        if self.priced.sessions > 0 || self.running_costs > 0 {
            out.push_str(&format!(
                "priced: {} sessions answered with a total cost, {:.2} in all; {} running costs\n",
                self.priced.sessions,
                self.priced.total_cents as f64 / 100.0,
                self.running_costs
            ));
        }
        out.push_str(&format!("unexpected errors: {}\n", self.unexpected_errors));
        for e in &self.unexpected {
            out.push_str(&format!("  {e}\n"));
        }
        out
    }
}

/// The configuration a charger runs with, as the last profile it applied
/// set it (or its factory defaults).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Configuration {
    pub profile_id: Option<String>,
    pub version: Option<u64>,
    pub heartbeat_interval_s: f64,
    /// `None`: a sample every step.
    pub meter_interval_s: Option<f64>,
    pub max_current_a: Option<f64>,
}
