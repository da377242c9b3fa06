//! `console-api`: what operators' consoles and partner systems read.

mod admin;
mod health;
mod reads;
mod web;

use domain::Domain;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Domain> {
    OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(health::openapi_document))
        .routes(routes!(reads::list_operators))
        .routes(routes!(reads::get_operator))
        .routes(routes!(reads::list_sites))
        .routes(routes!(reads::get_site))
        .routes(routes!(reads::list_devices))
        .routes(routes!(reads::get_device))
        .routes(routes!(reads::device_connectors))
        .routes(routes!(reads::list_records))
        .routes(routes!(reads::get_record))
        .routes(routes!(reads::energy))
        .routes(routes!(reads::revenue))
        .routes(routes!(reads::firmware_versions))
        .routes(routes!(reads::get_command))
        .routes(routes!(reads::models))
        .routes(routes!(admin::activity))
        .routes(routes!(admin::debug_requests))
}

pub fn router(domain: Domain) -> axum::Router {
    routes()
        .split_for_parts()
        .0
        .merge(web::routes())
        .with_state(domain)
}

/// The app of the Lambda binary. The template's `$default` route sends this
/// function every request no route matched, so it answers 404 or 405 for
/// the whole API, from the committed OpenAPI document.
pub fn lambda_app(domain: &Domain) -> Result<axum::Router, api::RoutesError> {
    let routes = api::ApiRoutes::from_openapi(health::OPENAPI)?;
    Ok(api::finish_default_route(
        router(domain.clone()),
        domain,
        "console-api",
        routes,
    ))
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}
