//! Command routes: parse, call the domain, wrap the envelope.

use api::{ApiResult, Console, Envelope, ErrorEnvelope, JsonBody, Reply};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use domain::Domain;
use domain::dispatch::{ConnectorCommand, QueuedCommand};
use domain::flexibility::{DeviceAllocation, FlexRequest};
use domain::schedule::Schedule;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type Failure = ErrorEnvelope;

pub fn routes() -> OpenApiRouter<Domain> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(stop))
        .routes(routes!(discharge))
        .routes(routes!(schedule))
        .routes(routes!(flexibility))
        .routes(routes!(queue_command))
}

/// The `Idempotency-Key` header: a retried POST returns the first command.
pub struct IdempotencyKey(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = api::ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get("idempotency-key")
            .map(|v| v.to_str().map(str::to_owned));
        match key {
            None => Ok(Self(None)),
            Some(Ok(k)) if (1..=128).contains(&k.len()) => Ok(Self(Some(k))),
            Some(_) => Err(domain::Error::bad_request(
                "Idempotency-Key",
                "must be 1..128 visible ASCII characters",
            )
            .into()),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StartRequest {
    /// kW; defaults to the model's rating.
    pub charge_power: Option<f64>,
    /// %; defaults to 100.
    pub target_soc: Option<f64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StopRequest {
    #[schema(example = "user_request")]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DischargeRequest {
    pub discharge_power: f64,
    /// Seconds.
    pub duration: i64,
    pub min_soc: f64,
}

async fn send(
    domain: &Domain,
    caller: &domain::operators::Caller,
    (id, cid): (String, String),
    command: ConnectorCommand,
    key: IdempotencyKey,
) -> ApiResult<QueuedCommand> {
    let queued = domain
        .dispatch(caller, &id, &cid, command, key.0.as_deref())
        .await?;
    Ok(Reply::accepted(queued))
}

/// Remote start charging.
#[utoipa::path(post, path = "/v1/devices/{id}/connectors/{cid}/start", tag = "commands",
    security(("bearer" = [])), request_body = StartRequest,
    params(("id" = String, Path, description = "device id"), ("cid" = u32, Path, description = "connector"),
        ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first command")),
    responses(
        (status = 202, description = "queued (charge_power may be lowered to fit the site)", body = Envelope<QueuedCommand>),
        (status = 403, description = "role may not command", body = Failure),
        (status = 404, description = "no such device or connector", body = Failure),
        (status = 409, description = "device offline or site at capacity", body = Failure),
        (status = 422, description = "values outside the model's rating", body = Failure),
    ))]
async fn start(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(path): Path<(String, String)>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<StartRequest>,
) -> ApiResult<QueuedCommand> {
    let command = ConnectorCommand::Start {
        charge_power: body.charge_power,
        target_soc: body.target_soc,
    };
    send(&domain, &caller, path, command, key).await
}

/// Remote stop charging.
#[utoipa::path(post, path = "/v1/devices/{id}/connectors/{cid}/stop", tag = "commands",
    security(("bearer" = [])), request_body = StopRequest,
    params(("id" = String, Path, description = "device id"), ("cid" = u32, Path, description = "connector"),
        ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first command")),
    responses(
        (status = 202, description = "queued", body = Envelope<QueuedCommand>),
        (status = 404, description = "no such device or connector", body = Failure),
        (status = 409, description = "device offline", body = Failure),
    ))]
async fn stop(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(path): Path<(String, String)>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<StopRequest>,
) -> ApiResult<QueuedCommand> {
    send(
        &domain,
        &caller,
        path,
        ConnectorCommand::Stop {
            reason: body.reason,
        },
        key,
    )
    .await
}

/// Remote V2G discharge.
#[utoipa::path(post, path = "/v1/devices/{id}/connectors/{cid}/discharge", tag = "commands",
    security(("bearer" = [])), request_body = DischargeRequest,
    params(("id" = String, Path, description = "device id"), ("cid" = u32, Path, description = "connector"),
        ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first command")),
    responses(
        (status = 202, description = "queued", body = Envelope<QueuedCommand>),
        (status = 409, description = "device offline", body = Failure),
        (status = 422, description = "not a V2G model, or values out of range", body = Failure),
    ))]
async fn discharge(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(path): Path<(String, String)>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<DischargeRequest>,
) -> ApiResult<QueuedCommand> {
    let command = ConnectorCommand::Discharge {
        discharge_power: body.discharge_power,
        duration: body.duration,
        min_soc: body.min_soc,
    };
    send(&domain, &caller, path, command, key).await
}

/// Set a charging schedule (OCPP 2.1 ChargingProfile subset).
#[utoipa::path(post, path = "/v1/devices/{id}/connectors/{cid}/schedule", tag = "commands",
    security(("bearer" = [])), request_body = Schedule,
    params(("id" = String, Path, description = "device id"), ("cid" = u32, Path, description = "connector"),
        ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first command")),
    responses(
        (status = 202, description = "queued as set_schedule", body = Envelope<QueuedCommand>),
        (status = 409, description = "device offline", body = Failure),
        (status = 422, description = "invalid profile", body = Failure),
    ))]
async fn schedule(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(path): Path<(String, String)>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<Schedule>,
) -> ApiResult<QueuedCommand> {
    send(
        &domain,
        &caller,
        path,
        ConnectorCommand::Schedule(body),
        key,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FlexibilityRequest {
    pub site_id: String,
    pub limit_kw: f64,
    pub duration_s: i64,
    /// Only `cap` for now.
    pub mode: Option<String>,
}

/// Cap a site's load for a while: the cap is shared fairly across its
/// active connectors as `set_power_limit` commands.
#[utoipa::path(post, path = "/v1/control/flexibility", tag = "commands",
    security(("bearer" = [])), request_body = FlexibilityRequest,
    responses(
        (status = 202, description = "limits queued; the allocation per device", body = Envelope<Vec<DeviceAllocation>>),
        (status = 404, description = "no such site", body = Failure),
        (status = 422, description = "bad values", body = Failure),
    ))]
async fn flexibility(
    State(domain): State<Domain>,
    Console(caller): Console,
    JsonBody(body): JsonBody<FlexibilityRequest>,
) -> ApiResult<Vec<DeviceAllocation>> {
    let req = FlexRequest {
        site_id: body.site_id,
        limit_kw: body.limit_kw,
        duration_s: body.duration_s,
        mode: body.mode,
    };
    Ok(Reply::accepted(domain.flexibility(&caller, req).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct QueueCommandRequest {
    pub device_id: String,
    #[schema(example = "update_firmware")]
    pub command: String,
    pub connector_id: Option<i64>,
    /// Parameters, e.g. `location` and `version` for `update_firmware`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// Queue any command for any device (admin).
#[utoipa::path(post, path = "/admin/queue-command", tag = "admin",
    security(("bearer" = [])), request_body = QueueCommandRequest,
    responses(
        (status = 202, description = "queued", body = Envelope<QueuedCommand>),
        (status = 403, description = "not an admin", body = Failure),
        (status = 404, description = "no such device", body = Failure),
        (status = 422, description = "unknown command or bad parameters", body = Failure),
    ))]
async fn queue_command(
    State(domain): State<Domain>,
    Console(caller): Console,
    JsonBody(body): JsonBody<QueueCommandRequest>,
) -> ApiResult<QueuedCommand> {
    let queued = domain
        .admin_queue(
            &caller,
            &body.device_id,
            &body.command,
            body.connector_id,
            body.params,
        )
        .await?;
    Ok(Reply::accepted(queued))
}
