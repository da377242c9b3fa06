//! `command-api`: steering chargers (remote start, stop, V2G discharge,
//! schedules, site flexibility) and the admin's command injection.

mod routes;

use domain::Domain;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<Domain> {
    routes::routes()
}

pub fn router(domain: Domain) -> axum::Router {
    routes().split_for_parts().0.with_state(domain)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}
