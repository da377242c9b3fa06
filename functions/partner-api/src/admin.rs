//! Partner management (admin) and the operator's view of what its
//! partners pushed (tenant-scoped: another tenant's partner is 404).

use crate::dto::PartnerRequest;
use api::{ApiError, ApiResult, Console, Envelope, ErrorEnvelope, Id, JsonBody, Reply, no_store};
use axum::extract::State;
use axum::response::Response;
use domain::Domain;
use domain::partners::outbox::Delivery;
use domain::partners::{PartnerConnector, PartnerSession, PartnerView};
use kernel::ids::PartnerId;
use kernel::model::Role;
use tcec::CreatedPartner;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type Failure = ErrorEnvelope;

pub fn routes() -> OpenApiRouter<Domain> {
    OpenApiRouter::new()
        .routes(routes!(create_partner, list_all_partners))
        .routes(routes!(list_partners))
        .routes(routes!(partner_deliveries))
        .routes(routes!(partner_connectors))
        .routes(routes!(partner_sessions))
}

/// Create a partner (admin); its secrets are shown only in this answer.
#[utoipa::path(post, path = "/admin/partners", tag = "admin", security(("bearer" = [])),
    request_body = PartnerRequest,
    responses(
        (status = 200, description = "created, with the secrets", body = Envelope<CreatedPartner>),
        (status = 403, description = "not an admin", body = Failure),
        (status = 409, description = "the partner_operator_id is taken", body = Failure),
        (status = 422, description = "invalid values or unknown operator", body = Failure),
    ))]
async fn create_partner(
    State(domain): State<Domain>,
    Console(caller): Console,
    JsonBody(body): JsonBody<PartnerRequest>,
) -> Result<Response, ApiError> {
    let created = tcec::create_partner(&domain, &caller, body.try_into()?).await?;
    Ok(no_store(Reply::ok(created)))
}

/// Every partner, without secrets (admin).
#[utoipa::path(get, path = "/admin/partners", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "partners", body = Envelope<Vec<PartnerView>>),
        (status = 403, description = "not an admin", body = Failure),
    ))]
async fn list_all_partners(
    State(domain): State<Domain>,
    Console(caller): Console,
) -> ApiResult<Vec<PartnerView>> {
    caller.require(Role::Admin)?;
    Ok(Reply::ok(domain.partners.visible_partners(&caller).await?))
}

/// The messages pushed (or still to push) to a partner, newest first (admin).
#[utoipa::path(get, path = "/admin/partners/{partner_id}/deliveries", tag = "admin",
    security(("bearer" = [])),
    params(("partner_id" = String, Path, description = "partner id")),
    responses(
        (status = 200, description = "deliveries", body = Envelope<Vec<Delivery>>),
        (status = 403, description = "not an admin", body = Failure),
        (status = 404, description = "no such partner", body = Failure),
    ))]
async fn partner_deliveries(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<PartnerId>,
) -> ApiResult<Vec<Delivery>> {
    Ok(Reply::ok(
        domain.partners.partner_deliveries(&caller, id).await?,
    ))
}

/// The caller's tenants' partners.
#[utoipa::path(get, path = "/v1/partners", tag = "console", security(("bearer" = [])),
    responses(
        (status = 200, description = "partners", body = Envelope<Vec<PartnerView>>),
        (status = 401, description = "no valid token", body = Failure),
    ))]
async fn list_partners(
    State(domain): State<Domain>,
    Console(caller): Console,
) -> ApiResult<Vec<PartnerView>> {
    Ok(Reply::ok(domain.partners.visible_partners(&caller).await?))
}

/// The connector statuses a partner last pushed, one per connector.
#[utoipa::path(get, path = "/v1/partners/{partner_id}/connectors", tag = "console",
    security(("bearer" = [])),
    params(("partner_id" = String, Path, description = "partner id")),
    responses(
        (status = 200, description = "pushed statuses", body = Envelope<Vec<PartnerConnector>>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
async fn partner_connectors(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<PartnerId>,
) -> ApiResult<Vec<PartnerConnector>> {
    Ok(Reply::ok(
        domain.partners.pushed_connectors(&caller, id).await?,
    ))
}

/// The session progress a partner last pushed, one per session.
#[utoipa::path(get, path = "/v1/partners/{partner_id}/sessions", tag = "console",
    security(("bearer" = [])),
    params(("partner_id" = String, Path, description = "partner id")),
    responses(
        (status = 200, description = "pushed sessions", body = Envelope<Vec<PartnerSession>>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
async fn partner_sessions(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<PartnerId>,
) -> ApiResult<Vec<PartnerSession>> {
    Ok(Reply::ok(
        domain.partners.pushed_sessions(&caller, id).await?,
    ))
}
