//! Console routes of the product that are not built yet (501).

use api::planned;
use domain::Domain;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

planned!(health_scores, get, "/v1/intelligence/health-scores");
planned!(anomalies, get, "/v1/intelligence/anomalies");
planned!(energy_forecasts, get, "/v1/intelligence/forecasts/energy");
planned!(
    utilization_forecasts,
    get,
    "/v1/intelligence/forecasts/utilization"
);
planned!(daily_briefing, get, "/v1/intelligence/daily-briefing");
planned!(agents, get, "/v1/intelligence/agents");
planned!(ask, post, "/v1/intelligence/ask");

pub fn routes() -> OpenApiRouter<Domain> {
    OpenApiRouter::new()
        .routes(routes!(health_scores))
        .routes(routes!(anomalies))
        .routes(routes!(energy_forecasts))
        .routes(routes!(utilization_forecasts))
        .routes(routes!(daily_briefing))
        .routes(routes!(agents))
        .routes(routes!(ask))
}
