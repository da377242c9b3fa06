//! `command-api`: steering chargers (remote start, stop, V2G discharge,
//! schedules, site flexibility) and the partner and admin command routes.

mod planned;

use domain::Domain;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<Domain> {
    planned::routes()
}

pub fn router(domain: Domain) -> axum::Router {
    routes().split_for_parts().0.with_state(domain)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}
