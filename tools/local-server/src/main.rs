//! Every function's router in one HTTP server on 127.0.0.1, on an embedded
//! DynamoDB-compatible engine by default, for development and end-to-end
//! tests. No cloud account needed.

use clap::Parser;
use domain::Domain;
use kernel::{Settings, SystemClock};
use local_dynamo::{InProcess, Storage};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use store::DynamoStore;

// A fleet's requests allocate and free many small buffers on every thread;
// the system allocator took a sixth of the server's time on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How often the local server delivers due partner pushes.
const NOTIFY_EVERY_SECONDS: u64 = 5;

#[derive(Debug, Parser)]
#[command(version, about = "Run the charging backend locally")]
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
    #[arg(long)]
    dynamodb_endpoint: Option<String>,
    /// Seconds between two sweeps of the embedded engine that delete items
    /// past their `ttl`, as DynamoDB's TTL does (the first at start).
    #[arg(long, env = "TTL_SWEEP_SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    ttl_sweep_seconds: u64,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,aws=warn,dynoxide=error".into()),
        )
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("local-server: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let (client, engine) = if let Some(endpoint) = &args.dynamodb_endpoint {
        (store::client_for_endpoint(endpoint, None), None)
    } else if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some() {
        (store::client_from_env(None).await, None)
    } else {
        let storage = if args.in_memory {
            Storage::Memory
        } else {
            // The data holds hashed credentials: readable by its owner only.
            if !args.data.exists() {
                local_server::private_file(&args.data)
                    .map_err(|e| format!("cannot create {}: {e}", args.data.display()))?;
            }
            Storage::File(args.data.clone())
        };
        let engine = InProcess::open(&storage)?;
        let client = aws_sdk_dynamodb::Client::from_conf(engine.sdk_config().build());
        (client, Some(engine))
    };
    let settings = settings(&args)?;
    store::table::ensure_table(&client, &settings.table_name)
        .await
        .map_err(|e| format!("cannot create the table: {e}"))?;
    let store = DynamoStore::new(client, &settings.table_name).with_retention(settings.retention);
    let store = Arc::new(store);
    let sockets = Arc::new(local_server::ocpp::Sockets::default());
    let domain = Domain::new(store.clone(), settings, Arc::new(SystemClock));
    let domain = sockets.attached(domain, store);
    local_server::seed(&domain, local_server::admin_from_env()).await?;
    // Partner pushes leave from the outbox, never from a request.
    tokio::spawn(notifier::run_forever(
        domain.clone(),
        Duration::from_secs(NOTIFY_EVERY_SECONDS),
    ));

    if let Some(engine) = &engine {
        tokio::spawn(local_server::sweep_expired_every(
            engine.clone(),
            Duration::from_secs(args.ttl_sweep_seconds),
        ));
    }
    // The scheduled function's work, on the same schedule as in the cloud.
    let sweeps = tokio::spawn(scheduler::run_every(domain.clone(), scheduler::SWEEP_EVERY));
    let app = local_server::app(&domain, sockets, "local-server");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let store_desc = match (&engine, args.in_memory) {
        (None, _) => "the configured DynamoDB endpoint".to_owned(),
        (Some(_), true) => "the embedded engine (in memory)".to_owned(),
        (Some(_), false) => format!("the embedded engine ({})", args.data.display()),
    };
    tracing::info!("listening on http://{addr} with {store_desc}");
    local_server::serve(listener, app, local_server::HEADER_READ_TIMEOUT, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await;
    sweeps.abort();
    Ok(())
}

/// Settings from the environment; a key it does not set (the device token
/// signing key, the partner secrets key) is made and kept beside the data
/// file, so tokens and partners survive a restart.
fn settings(args: &Args) -> Result<Settings, String> {
    let mut keys = std::collections::BTreeMap::new();
    for (variable, extension) in local_server::LOCAL_KEYS {
        let kept = (!args.in_memory && args.dynamodb_endpoint.is_none())
            .then(|| args.data.with_extension(extension));
        keys.insert(
            variable,
            local_server::local_key(variable, kept.as_deref())?,
        );
    }
    // A partner simulator on this machine listens on loopback over plain
    // http, so local pushes may go there unless the environment says no.
    keys.insert("PARTNER_NOTIFY_ALLOW_LOCAL", "true".to_owned());
    Settings::from_lookup(|name| std::env::var(name).ok().or_else(|| keys.get(name).cloned()))
        .map_err(|e| e.to_string())
}
