//! `intelligence-api`: fleet intelligence for operators (contract §8):
//! health scores, anomalies, forecasts, the daily briefing, the agents and
//! questions in words. The scheduled runs of the agents live in the
//! `scheduler` function.

mod answer;
mod routes;

use domain::Domain;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Domain> {
    OpenApiRouter::new()
        .routes(routes!(routes::health_scores))
        .routes(routes!(routes::anomalies))
        .routes(routes!(routes::energy_forecast))
        .routes(routes!(routes::utilization_forecast))
        .routes(routes!(routes::daily_briefing))
        .routes(routes!(routes::agents))
        .routes(routes!(routes::run_agent))
        .routes(routes!(routes::ask))
}

pub fn router(domain: Domain) -> axum::Router {
    routes().split_for_parts().0.with_state(domain)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}
