//! `twin`: run a simulated charger fleet against a base URL.

use clap::Parser;
use std::time::Duration;
use twin::Config;

#[derive(Debug, Parser)]
#[command(version, about = "Drive a simulated charger fleet against the backend")]
struct Args {
    /// Base URL: the local server or a deployed API Gateway stage.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// Sites to register; chargers are spread over them (at most 500 a site).
    #[arg(long, default_value_t = 2)]
    sites: usize,
    /// Chargers in the fleet.
    #[arg(long, default_value_t = 10)]
    chargers: usize,
    /// Wall-clock seconds to run.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Simulated seconds per wall second.
    #[arg(long, default_value_t = 60.0)]
    speed: f64,
    /// Seed of every random choice (and of serial numbers).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keeps credentials and site ids across runs (a charger's own storage).
    #[arg(long)]
    state: Option<std::path::PathBuf>,
    /// Sent as X-Provisioning-Key when the deployment requires one.
    #[arg(long, env = "PROVISIONING_KEY")]
    provisioning_key: Option<String>,
    /// Faults per charger per simulated hour.
    #[arg(long, default_value_t = 0.2)]
    fault_rate: f64,
    /// Sessions started per charger per simulated hour.
    #[arg(long, default_value_t = 1.0)]
    session_rate: f64,
    /// Share (0..1) of firmware updates that fail to install.
    #[arg(long, default_value_t = 0.0)]
    firmware_failure_rate: f64,
    /// Half the chargers misbehave, one way each: power over the rating,
    /// counter resets, fault bursts, stuck sessions, 12 silent minutes an hour.
    #[arg(long)]
    anomalies: bool,
    /// How the chargers speak: the platform's HTTP protocol, or OCPP-J over
    /// WebSocket (`ocpp1.6`, `ocpp2.0.1`; provisioned through the API).
    #[arg(long, default_value = "http")]
    protocol: twin::Protocol,
    /// An API client that may provision charge points (OCPP only).
    #[arg(long, env = "ADMIN_CLIENT_ID")]
    client_id: Option<String>,
    #[arg(long, env = "ADMIN_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Each site's grid connection in kW, shared by load management (which
    /// the API client turns on); default: the sum of its chargers' ratings.
    #[arg(long)]
    site_capacity: Option<f64>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let config = Config {
        url: args.url,
        sites: args.sites,
        chargers: args.chargers,
        duration: Duration::from_secs(args.duration),
        speed: args.speed,
        seed: args.seed,
        state: args.state,
        provisioning_key: args.provisioning_key,
        fault_rate: args.fault_rate,
        session_rate: args.session_rate,
        firmware_failure_rate: args.firmware_failure_rate,
        anomalies: args.anomalies,
        progress: !args.json,
        protocol: args.protocol,
        client: args.client_id.zip(args.client_secret),
        site_capacity_kw: args.site_capacity,
    };
    match twin::run(config).await {
        Ok(summary) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&summary).unwrap_or_default()
                );
            } else {
                print!("{}", summary.render());
            }
            if summary.unexpected_errors > 0 {
                std::process::exit(2);
            }
        }
        Err(e) => {
            eprintln!("twin: {e}");
            std::process::exit(1);
        }
    }
}
