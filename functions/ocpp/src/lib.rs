//! `ocpp`: OCPP charge points. The provisioning routes
//! (`/v1/ocpp/charge-points`), the drivers' tokens they check (`/v1/id-tags`), and the gateway that answers a charger's
//! OCPP-J frames and carries the platform's commands to it, for whichever
//! transport holds the WebSocket.

pub mod gateway;
mod id_tags;
mod inbound;
mod provisioning;
pub mod websocket;

use domain::Domain;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use gateway::{Connection, Reply};

pub fn routes() -> OpenApiRouter<Domain> {
    OpenApiRouter::new()
        .routes(routes!(
            provisioning::create_charge_point,
            provisioning::list_charge_points
        ))
        .routes(routes!(provisioning::get_charge_point))
        .routes(routes!(provisioning::rotate_password))
        .routes(routes!(id_tags::create_id_tag, id_tags::list_id_tags))
        .routes(routes!(
            id_tags::get_id_tag,
            id_tags::patch_id_tag,
            id_tags::delete_id_tag
        ))
}

pub fn router(domain: Domain) -> axum::Router {
    routes().split_for_parts().0.with_state(domain)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}
