//! The stack as it is deployed, on this machine: the function binaries run
//! as Lambda runs them (each process polling a local Runtime API, with the
//! template's environment) behind a stand-in for API Gateway that routes
//! by the template's events and speaks payload format 2.0, on the embedded
//! engine or another DynamoDB endpoint.

pub mod build;
mod event;
mod gateway;
mod intrinsics;
mod pool;
mod reply;
pub mod routes;
mod runtime;
mod schedule;
mod supervise;
mod table;
pub mod template;
mod websocket;

use gateway::{Gateway, Target};
use kernel::Settings;
use local_dynamo::Storage;
use pool::Pool;
use routes::RouteTable;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
pub use table::TableSource;
use template::{Locals, Stack};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The region the functions and the table client agree on.
pub const REGION: &str = "us-east-1";
/// The WebSocket API's stage, whose `@connections` the stage serves.
const OCPP_STAGE: &str = "ocpp";
/// What `!Ref` to the table gives: the local server's table name.
pub const TABLE_NAME: &str = "chargenet";

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error(transparent)]
    Template(#[from] template::TemplateError),
    #[error("{0}")]
    Setup(String),
    #[error("{function}: no binary at {path}")]
    MissingBinary { function: String, path: String },
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen { port: u16, source: std::io::Error },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub template: PathBuf,
    /// Where the function binaries are.
    pub bin_dir: PathBuf,
    pub table: TableSource,
    /// 0 picks a free port.
    pub port: u16,
    /// Most processes per function at once.
    pub concurrency: usize,
    /// Template parameters (`Name` to value), over their defaults.
    pub parameters: BTreeMap<String, String>,
    /// The admin client to seed; a fresh one (printed) when `None`.
    pub admin: Option<(String, String)>,
    /// Pass the functions' own log lines on to stderr.
    pub function_logs: bool,
}

pub struct Stage {
    url: String,
    table: table::Table,
    pools: Vec<Arc<Pool>>,
    schedules: Vec<JoinHandle<()>>,
    server: JoinHandle<()>,
    shutdown: oneshot::Sender<()>,
}

impl Stage {
    pub async fn start(config: Config) -> Result<Self, StageError> {
        let data = match &config.table {
            TableSource::Embedded(Storage::File(path)) => {
                // The data holds hashed credentials: readable by its owner only.
                if !path.exists() {
                    local_server::private_file(path).map_err(|e| {
                        StageError::Setup(format!("cannot create {}: {e}", path.display()))
                    })?;
                }
                Some(path)
            }
            _ => None,
        };
        // Kept beside the data file, as the local server keeps them, so
        // tokens and partners survive a restart (and either can open it).
        let mut secrets = BTreeMap::new();
        for (variable, extension) in local_server::LOCAL_KEYS {
            let kept = data.map(|path| path.with_extension(extension));
            let key =
                local_server::local_key(variable, kept.as_deref()).map_err(StageError::Setup)?;
            secrets.insert(variable.to_owned(), key);
        }
        // Bound first: the stage's own address stands in for the
        // WebSocket API and its distribution in the functions' settings.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|source| StageError::Listen {
                port: config.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StageError::Listen {
            port: config.port,
            source,
        })?;
        let endpoints = BTreeMap::from([
            (
                "OCPP_CONNECTIONS_URL".to_owned(),
                format!("http://{addr}/{OCPP_STAGE}"),
            ),
            ("OCPP_URL".to_owned(), format!("ws://{addr}/ocpp")),
        ]);
        let locals = Locals {
            parameters: config.parameters.clone(),
            table_name: TABLE_NAME.to_owned(),
            secrets,
            endpoints,
        };
        let stack = Stack::load(&config.template, &locals)?;
        let settings = Settings::from_lookup(|name| stack.shared_environment.get(name).cloned())
            .map_err(|e| StageError::Setup(e.to_string()))?;
        let table = table::Table::open(&config.table, settings, config.admin.clone())
            .await
            .map_err(StageError::Setup)?;

        let mut pools = BTreeMap::new();
        for function in &stack.functions {
            let binary = config.bin_dir.join(&function.binary);
            if !binary.is_file() {
                return Err(StageError::MissingBinary {
                    function: function.logical_id.clone(),
                    path: binary.display().to_string(),
                });
            }
            let launch = supervise::Launch {
                binary,
                environment: lambda_environment(function, &table.endpoint),
                forward_output: config.function_logs,
            };
            let pool = Pool::new(
                &function.logical_id,
                function.timeout,
                config.concurrency,
                supervise::launcher(launch),
            );
            pools.insert(function.logical_id.clone(), pool);
        }
        let mut targets = Vec::new();
        for route in &stack.routes {
            let pool = pools.get(&route.function).ok_or_else(|| {
                StageError::Setup(format!("{}: no such function", route.function))
            })?;
            let target = Target {
                pool: pool.clone(),
                integration_timeout: route.integration_timeout,
            };
            targets.push((route.key.clone(), target));
        }
        let routes = RouteTable::new(targets).map_err(StageError::Setup)?;
        let mut schedules = Vec::new();
        for rule in &stack.schedules {
            let pool = pools
                .get(&rule.function)
                .ok_or_else(|| StageError::Setup(format!("{}: no such function", rule.function)))?;
            match schedule::rate(&rule.expression) {
                Some(period) => schedules.push(schedule::run(
                    pool.clone(),
                    format!("{}{}", rule.function, rule.name),
                    period,
                )),
                None => tracing::warn!(
                    function = %rule.function,
                    expression = %rule.expression,
                    "schedule not run: the stage runs rate() expressions only"
                ),
            }
        }

        let mut app = gateway::router(Arc::new(Gateway {
            routes,
            port: addr.port(),
        }));
        if let Some(api) = &stack.websocket {
            let pool = pools
                .get(&api.function)
                .ok_or_else(|| StageError::Setup(format!("{}: no such function", api.function)))?;
            if api.stage != OCPP_STAGE {
                return Err(StageError::Setup(format!(
                    "the WebSocket API's stage is {}; the stage serves /{OCPP_STAGE}",
                    api.stage
                )));
            }
            let sockets = websocket::WebSockets::new(
                pool.clone(),
                api.stage.clone(),
                api.viewer_request.clone(),
                addr.port(),
            );
            app = websocket::router(Arc::new(sockets)).merge(app);
        }
        let (shutdown, stopped) = oneshot::channel::<()>();
        // As API Gateway: answers and chargers' frames go out at once.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let server = tokio::spawn(async move {
            let serve = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("the gateway stopped: {e}");
            }
        });
        tracing::info!(
            routes = stack.routes.len(),
            schedules = schedules.len(),
            functions = pools.len(),
            "stage on http://{addr}; table {TABLE_NAME} at {}",
            table.endpoint
        );
        Ok(Self {
            url: format!("http://{addr}"),
            table,
            pools: pools.into_values().collect(),
            schedules,
            server,
            shutdown,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The DynamoDB endpoint the functions use.
    pub fn table_endpoint(&self) -> &str {
        &self.table.endpoint
    }

    /// Each function's cold starts so far (process start to first poll).
    pub fn cold_starts(&self) -> BTreeMap<String, Vec<Duration>> {
        self.pools
            .iter()
            .map(|p| (p.function.clone(), p.cold_starts()))
            .collect()
    }

    pub async fn stop(self) {
        for schedule in &self.schedules {
            schedule.abort();
        }
        let _ = self.shutdown.send(());
        for pool in &self.pools {
            pool.close();
        }
        let _ = self.server.await;
        self.table.close().await;
    }
}

/// What Lambda sets for a function, over the template's variables; dummy
/// credentials, since only the local table is reachable.
fn lambda_environment(function: &template::Function, table: &str) -> Vec<(String, String)> {
    let mut env = function.environment.clone();
    let name = &function.logical_id;
    let lambda = [
        ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            function.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".into()),
        ("AWS_REGION", REGION.into()),
        ("AWS_DEFAULT_REGION", REGION.into()),
        ("AWS_ACCESS_KEY_ID", "local".into()),
        ("AWS_SECRET_ACCESS_KEY", "local".into()),
        ("AWS_ENDPOINT_URL_DYNAMODB", table.into()),
        ("TZ", ":UTC".into()),
    ];
    env.extend(lambda.map(|(k, v)| (k.to_owned(), v)));
    env.into_iter().collect()
}
