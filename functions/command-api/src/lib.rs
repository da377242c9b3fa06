//! `command-api`: steering chargers (remote start, stop, V2G discharge,
//! schedules, site flexibility), configuration profiles and firmware
//! campaigns (their reads included, so each lives in one function), and
//! the admin's command injection.

mod campaigns;
mod params;
mod profiles;
mod routes;
mod sites;
mod tariffs;

use domain::Domain;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Domain> {
    routes::routes()
        .routes(routes!(profiles::list_profiles, profiles::create_profile))
        .routes(routes!(profiles::get_profile, profiles::update_profile))
        .routes(routes!(profiles::apply_profile))
        .routes(routes!(
            campaigns::list_campaigns,
            campaigns::create_campaign
        ))
        .routes(routes!(campaigns::get_campaign))
        .routes(routes!(campaigns::pause_campaign))
        .routes(routes!(campaigns::resume_campaign))
        .routes(routes!(campaigns::cancel_campaign))
        .routes(routes!(tariffs::list_tariffs, tariffs::create_tariff))
        .routes(routes!(
            tariffs::get_tariff,
            tariffs::replace_tariff,
            tariffs::delete_tariff
        ))
        .routes(routes!(sites::update_site))
}

pub fn router(domain: Domain) -> axum::Router {
    routes().split_for_parts().0.with_state(domain)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}
