//! Routes of `auth-api`.

use crate::token_request::TokenRequest;
use api::{
    ApiError, ApiResult, Console, Envelope, ErrorEnvelope, JsonBody, Reply, Source, TokenEnvelope,
    no_store, token_answer,
};
use axum::extract::State;
use axum::response::Response;
use domain::Domain;
use kernel::Error;
use kernel::model::{Operator, Role};
use kernel::secret::Secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type Failure = ErrorEnvelope;

pub fn routes() -> OpenApiRouter<Domain> {
    OpenApiRouter::new()
        .routes(routes!(oauth_token))
        .routes(routes!(create_operator))
        .routes(routes!(create_client))
}

pub fn router(domain: Domain) -> axum::Router {
    routes().split_for_parts().0.with_state(domain)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// Operator OAuth token (client credentials as JSON, form or HTTP Basic).
#[utoipa::path(post, path = "/v1/oauth/token", tag = "auth",
    request_body(content = TokenRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "token issued", body = TokenEnvelope),
        (status = 400, description = "missing field or other grant type", body = Failure),
        (status = 401, description = "wrong client credentials", body = Failure),
        (status = 429, description = "too many failed attempts from this address", body = Failure),
    ))]
async fn oauth_token(
    State(domain): State<Domain>,
    Source(source): Source,
    body: TokenRequest,
) -> Result<Response, ApiError> {
    let token = domain
        .tenants
        .issue_operator_token(body.try_into()?, &source)
        .await?;
    Ok(token_answer(token.access_token, token.expires_in))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OperatorRequest {
    #[schema(example = "acme-charging-uk")]
    pub id: String,
    pub name: String,
    #[schema(example = "GB")]
    pub country: String,
    #[schema(example = "active")]
    pub status: Option<String>,
}

/// Create an operator (admin).
#[utoipa::path(post, path = "/admin/operators", tag = "admin", security(("bearer" = [])),
    request_body = OperatorRequest,
    responses(
        (status = 200, description = "created", body = Envelope<Operator>),
        (status = 403, description = "not an admin", body = Failure),
        (status = 409, description = "the id is taken", body = Failure),
    ))]
async fn create_operator(
    State(domain): State<Domain>,
    Console(caller): Console,
    JsonBody(body): JsonBody<OperatorRequest>,
) -> ApiResult<Operator> {
    let id = kernel::ids::OperatorId::parse(&body.id).ok_or_else(|| {
        Error::invalid(
            "id",
            "must be a slug of a-z, 0-9 and inner hyphens, 2..64 long",
        )
    })?;
    let op = Operator {
        id,
        name: body.name,
        country: body.country,
        status: body.status.unwrap_or_else(|| "active".into()),
    };
    Ok(Reply::ok(
        domain.tenants.create_operator(&caller, op).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientRequest {
    pub operator_ids: Vec<String>,
    pub role: Role,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientCredentials {
    pub client_id: String,
    /// Shown only here; only its hash is stored.
    #[schema(value_type = String)]
    pub client_secret: Secret<String>,
}

/// Create an API client for operators (admin).
#[utoipa::path(post, path = "/admin/clients", tag = "admin", security(("bearer" = [])),
    request_body = ClientRequest,
    responses(
        (status = 200, description = "created", body = Envelope<ClientCredentials>),
        (status = 403, description = "not an admin", body = Failure),
        (status = 422, description = "unknown operator", body = Failure),
    ))]
async fn create_client(
    State(domain): State<Domain>,
    Console(caller): Console,
    JsonBody(body): JsonBody<ClientRequest>,
) -> Result<Response, ApiError> {
    let created = domain
        .tenants
        .create_client(&caller, &body.operator_ids, body.role, body.name)
        .await?;
    Ok(no_store(Reply::ok(ClientCredentials {
        client_id: created.client_id,
        client_secret: created.client_secret,
    })))
}
