//! Liveness, version and the API description.

use api::{ApiError, ErrorEnvelope, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use domain::Domain;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The OpenAPI document of every function, generated from the code (a test
/// keeps this copy equal to what the code produces).
pub(crate) const OPENAPI: &str = include_str!("../../../docs/openapi.json");

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    pub timestamp: String,
    pub version: &'static str,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HealthQuery {
    /// Also check that the store answers.
    #[serde(default)]
    pub deep: bool,
}

/// Health check and version (flat, not enveloped).
#[utoipa::path(get, path = "/v1/health", tag = "console", params(HealthQuery),
    responses(
        (status = 200, description = "up", body = Health),
        (status = 503, description = "the store does not answer", body = ErrorEnvelope),
    ))]
pub async fn health(
    State(domain): State<Domain>,
    QueryParams(q): QueryParams<HealthQuery>,
) -> Result<Json<Health>, ApiError> {
    if q.deep {
        domain.store_ready().await?;
    }
    Ok(Json(Health {
        status: "ok",
        timestamp: kernel::input::rfc3339(domain.clock.now()),
        version: env!("CARGO_PKG_VERSION"),
    }))
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "console",
    responses((status = 200, description = "the document", body = Object)))]
pub async fn openapi_document() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], OPENAPI)
}
