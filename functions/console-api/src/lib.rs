//! `console-api`: what operators' consoles and partner systems read.

mod health;
mod planned;

use domain::Domain;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Domain> {
    OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(health::openapi_document))
        .merge(planned::routes())
}

pub fn router(domain: Domain) -> axum::Router {
    routes().split_for_parts().0.with_state(domain)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}
