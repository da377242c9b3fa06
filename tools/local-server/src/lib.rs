//! Every function's routes in one axum app, as the local server serves
//! them. Merging also proves that no two functions claim one route (axum
//! panics on overlaps).

use axum::extract::ConnectInfo;
use domain::Domain;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// A client has this long to send a request's headers, and an idle
/// connection is closed after it: half-sent and idle connections are not
/// kept for ever.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open requests may finish after a shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(10);

pub fn app(domain: &Domain, function: &'static str) -> axum::Router {
    api::finish(
        device_api::router(domain.clone())
            .merge(console_api::router(domain.clone()))
            .merge(command_api::router(domain.clone()))
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
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    tokio::pin!(shutdown);
    loop {
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
        let service = app.clone().map_request(
            move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            },
        );
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
        });
    }
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("open connections did not finish in time");
    }
}

/// A new file only its owner may read or write (data and keys).
pub fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}
