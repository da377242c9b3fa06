//! Every function's routes in one axum app, as the local server serves
//! them. Merging also proves that no two functions claim one route (axum
//! panics on overlaps).

use domain::Domain;

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
