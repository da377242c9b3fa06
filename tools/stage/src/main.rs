//! `stage`: builds the function binaries and serves them on 127.0.0.1 as
//! the deployed stack routes them. No cloud account, no Docker.

use clap::Parser;
use local_dynamo::Storage;
use stage::{Config, Stage, TableSource};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Run the function binaries behind the template's routes"
)]
struct Args {
    /// Port to listen on (127.0.0.1 only).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// SQLite file of the embedded engine; kept across restarts.
    #[arg(long, default_value = "chargenet.sqlite")]
    data: PathBuf,
    /// Keep nothing: the embedded engine runs in memory.
    #[arg(long, conflicts_with = "data")]
    in_memory: bool,
    /// Use this DynamoDB endpoint (e.g. moto) instead of the embedded engine.
    #[arg(long, conflicts_with_all = ["data", "in_memory"])]
    dynamodb_endpoint: Option<String>,
    /// Cargo profile to build the function binaries in.
    #[arg(long, default_value = "release")]
    profile: String,
    /// Use the function binaries in this directory instead of building.
    #[arg(long, conflicts_with = "profile")]
    bin_dir: Option<PathBuf>,
    /// Most processes per function at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// The SAM template to read functions and routes from.
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
    /// A template parameter, over its default (repeatable).
    #[arg(long = "parameter", value_name = "NAME=VALUE", value_parser = parameter)]
    parameters: Vec<(String, String)>,
}

fn parameter(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("{text}: expected NAME=VALUE"))
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,aws=warn,dynoxide=error".into()),
        )
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("stage: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let bin_dir = match args.bin_dir {
        Some(dir) => dir,
        None => {
            let binaries = stage::template::binaries(&args.template).map_err(|e| e.to_string())?;
            let workspace = args
                .template
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            stage::build::build(workspace, &binaries, &args.profile).await?
        }
    };
    let table = match args.dynamodb_endpoint {
        Some(url) => TableSource::Endpoint(url),
        None if args.in_memory => TableSource::Embedded(Storage::Memory),
        None => TableSource::Embedded(Storage::File(args.data)),
    };
    let stage = Stage::start(Config {
        template: args.template,
        bin_dir,
        table,
        port: args.port,
        concurrency: usize::from(args.concurrency),
        parameters: args.parameters.into_iter().collect::<BTreeMap<_, _>>(),
        admin: local_server::admin_from_env(),
        function_logs: true,
    })
    .await
    .map_err(|e| e.to_string())?;
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
    stage.stop().await;
    Ok(())
}
