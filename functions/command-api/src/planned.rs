//! The legacy operator-to-operator routes: part of the OpenAPI document,
//! not offered yet (501).

use api::planned;
use domain::Domain;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

planned!(query_station_info, put, "/customer/query_station_info");
planned!(
    notification_station_status,
    put,
    "/customer/notification_stationStatus"
);
planned!(notify_work_status, post, "/customer/notify_work_status");
planned!(query_station_status, put, "/cp/query_station_status");
planned!(legacy_start_charging, post, "/cp/start_charging");
planned!(legacy_stop_charging, post, "/cp/stop_charging");
planned!(legacy_start_discharging, post, "/cp/start_discharging");
planned!(legacy_stop_discharging, post, "/cp/stop_discharging");

pub fn routes() -> OpenApiRouter<Domain> {
    OpenApiRouter::new()
        .routes(routes!(query_station_info))
        .routes(routes!(notification_station_status))
        .routes(routes!(notify_work_status))
        .routes(routes!(query_station_status))
        .routes(routes!(legacy_start_charging))
        .routes(routes!(legacy_stop_charging))
        .routes(routes!(legacy_start_discharging))
        .routes(routes!(legacy_stop_discharging))
}
