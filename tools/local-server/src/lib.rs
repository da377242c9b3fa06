//! Every function's routes in one axum app, as the local server serves
//! them. Merging also proves that no two functions claim one route (axum
//! panics on overlaps). Also what every local way of running the service
//! shares: the kept keys and the seeded operator and admin client.

use axum::extract::ConnectInfo;
use domain::Domain;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use kernel::model::{Operator, Role};
use std::future::Future;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// A client has this long to send a request's headers, and an idle
/// connection is closed after it: half-sent and idle connections are not
/// kept for ever.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open requests may finish after a shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(10);

pub mod ocpp;

/// Every function's routes, and the OCPP chargers' sockets on `sockets`
/// (the link `domain` sends their commands through).
pub fn app(
    domain: &Domain,
    sockets: std::sync::Arc<ocpp::Sockets>,
    function: &'static str,
) -> axum::Router {
    api::finish(
        device_api::router(domain.clone())
            .merge(ocpp::router(domain.clone(), sockets))
            .merge(ocpp_gateway::router(domain.clone()))
            .merge(console_api::router(domain.clone()))
            .merge(command_api::router(domain.clone()))
            .merge(intelligence_api::router(domain.clone()))
            .merge(auth_api::router(domain.clone()))
            .merge(partner_api::router(domain.clone())),
        domain,
        function,
    )
}

/// Serves `app` on `listener` over HTTP/1.1, each request carrying its
/// peer address, until `shutdown`. A connection that takes longer than
/// `header_timeout` to send a request's headers, or sits idle as long, is
/// closed.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    tokio::pin!(shutdown);
    loop {
        // Finished connections are reaped as new ones come.
        while connections.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers and chargers' frames are small: send each at once rather
        // than wait for the peer's delayed acknowledgement.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, %peer, "TCP_NODELAY not set");
        }
        let service = app.clone().map_request(
            move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            },
        );
        // Upgrades: OCPP chargers' WebSockets.
        let connection = http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .with_upgrades();
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            let stop_asked = async move {
                let _ = stopping.wait_for(|s| *s).await;
            };
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                () = stop_asked => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
        });
    }
    let _ = stop.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(DRAIN, drained).await.is_err() {
        tracing::warn!("open connections did not finish in time");
    }
}

/// Deletes the embedded engine's expired items now and every `every`, as
/// DynamoDB's TTL does in the cloud (reads already ignore them; this keeps
/// them from filling the data file).
pub async fn sweep_expired_every(engine: local_dynamo::InProcess, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match engine.sweep_expired().await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "expired items deleted"),
            Err(e) => tracing::warn!(error = %e, "TTL sweep failed"),
        }
    }
}

/// The keys a deployment keeps as secrets, each with the extension of the
/// file it is kept in beside the local data.
pub const LOCAL_KEYS: [(&str, &str); 2] = [
    ("TOKEN_SIGNING_KEY", "signing-key"),
    ("PARTNER_SECRETS_KEY", "partner-key"),
];

/// The key `variable` names: the environment's when set, else the one kept
/// in `kept` (made and written there the first time), so what it protects
/// survives a restart; without `kept`, a fresh one for this run.
pub fn local_key(variable: &str, kept: Option<&Path>) -> Result<String, String> {
    if let Ok(key) = std::env::var(variable) {
        return Ok(key);
    }
    if let Some(existing) = kept.and_then(|p| std::fs::read_to_string(p).ok()) {
        return Ok(existing.trim().to_owned());
    }
    let key = kernel::secret::new_secret().map_err(|e| e.to_string())?;
    if let Some(path) = kept {
        private_file(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, key.as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(key)
}

/// A new file only its owner may read or write (data and keys).
pub fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// The admin client to create: `ADMIN_CLIENT_ID` and `ADMIN_CLIENT_SECRET`
/// when both are set, else a fresh one.
pub fn admin_from_env() -> Option<(String, String)> {
    match (
        std::env::var("ADMIN_CLIENT_ID"),
        std::env::var("ADMIN_CLIENT_SECRET"),
    ) {
        (Ok(id), Ok(secret)) => Some((id, secret)),
        _ => None,
    }
}

/// Creates the default operator and an admin client when missing.
pub async fn seed(domain: &Domain, admin: Option<(String, String)>) -> Result<(), String> {
    let operator = Operator {
        id: domain.settings.default_operator.clone(),
        name: "Acme Charging Network UK".into(),
        country: "GB".into(),
        status: "active".into(),
    };
    domain
        .tenants
        .seed_operator(&operator)
        .await
        .map_err(|e| format!("cannot seed the default operator: {e}"))?;
    let fixed = admin.is_some();
    let (id, secret) = admin.unzip();
    match domain
        .tenants
        .bootstrap_client(id, secret, Role::Admin, vec![], Some("local admin".into()))
        .await
    {
        Ok(created) if fixed => {
            tracing::info!(client_id = %created.client_id, "admin client created from ADMIN_CLIENT_ID")
        }
        Ok(created) => {
            // A development convenience: shown once, stored only hashed.
            println!(
                "admin client for this run: client_id={} client_secret={}",
                created.client_id,
                created.client_secret.expose()
            );
        }
        Err(kernel::Error::Conflict(_)) => {
            tracing::info!("admin client from ADMIN_CLIENT_ID exists already")
        }
        Err(e) => return Err(format!("cannot create the admin client: {e}")),
    }
    Ok(())
}
