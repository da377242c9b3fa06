//! `partner-api`: partner platforms speaking the T/CEC 102 "evcs" style
//! (the `legacy` routes), the admin's partner management, and the
//! operator's view of what its partners pushed.

mod admin;
mod dto;
mod legacy;
mod serve;

use domain::Domain;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<Domain> {
    legacy::routes().merge(admin::routes())
}

pub fn router(domain: Domain) -> axum::Router {
    routes().split_for_parts().0.with_state(domain)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}
