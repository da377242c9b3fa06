//! Console routes of the product that are not built yet (501).

use api::planned;
use domain::Domain;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

planned!(oauth_token, post, "/v1/oauth/token");
planned!(list_operators, get, "/v1/operators");
planned!(get_operator, get, "/v1/operators/{id}");
planned!(list_sites, get, "/v1/sites");
planned!(get_site, get, "/v1/sites/{id}");
planned!(list_devices, get, "/v1/devices");
planned!(get_device, get, "/v1/devices/{id}");
planned!(device_connectors, get, "/v1/devices/{id}/connectors");
planned!(list_records, get, "/v1/charging-records");
planned!(get_record, get, "/v1/charging-records/{id}");
planned!(energy, get, "/v1/aggregated/energy");
planned!(firmware_versions, get, "/v1/firmware/versions");
planned!(get_command, get, "/v1/commands/{id}");
planned!(configuration_profiles, get, "/v1/configuration/profiles");
planned!(models, get, "/v1/models");
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
planned!(activity, get, "/v1/internal/activity");
planned!(debug_requests, get, "/v1/debug/requests");

pub fn routes() -> OpenApiRouter<Domain> {
    OpenApiRouter::new()
        .routes(routes!(oauth_token))
        .routes(routes!(list_operators))
        .routes(routes!(get_operator))
        .routes(routes!(list_sites))
        .routes(routes!(get_site))
        .routes(routes!(list_devices))
        .routes(routes!(get_device))
        .routes(routes!(device_connectors))
        .routes(routes!(list_records))
        .routes(routes!(get_record))
        .routes(routes!(energy))
        .routes(routes!(firmware_versions))
        .routes(routes!(get_command))
        .routes(routes!(configuration_profiles))
        .routes(routes!(models))
        .routes(routes!(health_scores))
        .routes(routes!(anomalies))
        .routes(routes!(energy_forecasts))
        .routes(routes!(utilization_forecasts))
        .routes(routes!(daily_briefing))
        .routes(routes!(agents))
        .routes(routes!(ask))
        .routes(routes!(activity))
        .routes(routes!(debug_requests))
}
