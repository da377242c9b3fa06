//! Benchmarks. Each prints its figures; none asserts a time. Run one with
//! `cargo run --release -p bench -- <name>`, or all with `scripts/bench`.

mod coldstart;
mod cost;
mod fleet;
mod ingest;
mod intelligence;
mod latency;
mod legacy;
mod lists;
mod ocpp;
mod service;
mod size;
mod stage;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "Benchmarks of the charging backend")]
struct Args {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Command delivery latency to a charger holding an open long-poll.
    Latency {
        #[arg(long, default_value_t = 30)]
        rounds: usize,
    },
    /// The T/CEC envelope's cost per request against the console route
    /// doing the same work (a remote start).
    Legacy {
        #[arg(long, default_value_t = 200)]
        rounds: usize,
    },
    /// Heartbeat and status throughput against a bare axum endpoint.
    Ingest {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// DynamoDB requests and capacity per route, and the cost per
    /// charger-month. The embedded engine reports consumed capacity by
    /// DynamoDB's rules; moto counts requests but reports no capacity for
    /// transactions.
    Cost {
        /// Run against a moto_server started for the purpose.
        #[arg(long, conflicts_with = "endpoint")]
        moto: bool,
        /// Run against this DynamoDB endpoint.
        #[arg(long)]
        endpoint: Option<String>,
        /// Chargers in the fleet: API Gateway bills less per request above
        /// 300 million a month.
        #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u32).range(1..))]
        fleet: u32,
    },
    /// Lambda cold start of each function under a local Runtime API.
    Coldstart {
        #[arg(long, default_value_t = 10)]
        rounds: usize,
        /// Where the release binaries are.
        #[arg(long, default_value = "target/release")]
        bin_dir: std::path::PathBuf,
    },
    /// The stage: each function's cold start under it, and its
    /// per-request overhead against the local server.
    Stage {
        /// Where the function binaries are.
        #[arg(long, default_value = "target/release")]
        bin_dir: std::path::PathBuf,
        /// Stages started to time cold starts.
        #[arg(long, default_value_t = 5)]
        starts: usize,
        /// Warm requests per route and server.
        #[arg(long, default_value_t = 300)]
        requests: usize,
    },
    /// OCPP chargers: console start to the charger holding the remote
    /// start, DynamoDB cost per message and a charger-month's bill, and a
    /// fleet of open connections (memory, heartbeat answer time).
    Ocpp {
        #[arg(long, default_value_t = 200)]
        rounds: usize,
        #[arg(long, default_value_t = 2000)]
        connections: usize,
    },
    /// Intelligence: requests per message with and without findings, the
    /// agents' run time and requests for one operator's fleet after a day,
    /// and forecast latency.
    Intelligence {
        #[arg(long, default_value_t = 500)]
        devices: usize,
        #[arg(long, default_value_t = 20)]
        forecasts: usize,
    },
    /// The release local server (file-backed in a temporary directory, or
    /// in memory) under a Twin fleet on the same machine.
    Fleet(fleet::Options),
    /// Console lists of one operator with a big fleet: latency and DynamoDB
    /// requests of the first page of each list.
    Lists {
        #[arg(long, default_value_t = 50_000)]
        devices: usize,
        /// Requests timed per route.
        #[arg(long, default_value_t = 100)]
        rounds: usize,
    },
    /// Size of each function's release binary.
    Size {
        #[arg(long, default_value = "target/release")]
        bin_dir: std::path::PathBuf,
    },
}

/// The Lambda functions, as named by their binaries.
pub const FUNCTIONS: [&str; 6] = [
    "device-api",
    "console-api",
    "command-api",
    "intelligence-api",
    "auth-api",
    "partner-api",
];

#[tokio::main]
async fn main() {
    let result = match Args::parse().bench {
        Bench::Latency { rounds } => latency::run(rounds).await,
        Bench::Legacy { rounds } => legacy::run(rounds).await,
        Bench::Ingest {
            seconds,
            concurrency,
        } => ingest::run(seconds, concurrency).await,
        Bench::Cost {
            moto,
            endpoint,
            fleet,
        } => cost::run(moto, endpoint, fleet).await,
        Bench::Coldstart { rounds, bin_dir } => coldstart::run(rounds, &bin_dir).await,
        Bench::Stage {
            bin_dir,
            starts,
            requests,
        } => stage::run(&bin_dir, starts, requests).await,
        Bench::Fleet(options) => fleet::run(options).await,
        Bench::Size { bin_dir } => size::run(&bin_dir),
        Bench::Intelligence { devices, forecasts } => intelligence::run(devices, forecasts).await,
        Bench::Lists { devices, rounds } => lists::run(devices, rounds).await,
        Bench::Ocpp {
            rounds,
            connections,
        } => ocpp::run(rounds, connections).await,
    };
    if let Err(e) = result {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

/// The p-th percentile of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
