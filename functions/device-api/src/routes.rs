//! Route table and handlers of the charger API.

use crate::auth::{DeviceCaller, RegistrationHeaders};
use crate::dto::*;
use api::{
    ApiResult, Envelope, ErrorEnvelope, JsonBody, Null, QueryParams, Reply, Source, TokenEnvelope,
    no_store, token_answer,
};
use axum::extract::State;
use axum::response::Response;
use domain::Domain;
use domain::devices::Possession;
use domain::sites::SiteAuthority;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type Failure = ErrorEnvelope;

pub fn routes() -> OpenApiRouter<Domain> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(auth))
        .routes(routes!(token))
        .routes(routes!(heartbeat))
        .routes(routes!(status))
        .routes(routes!(telemetry))
        .routes(routes!(events))
        .routes(routes!(charging_records))
        .routes(routes!(commands))
        .routes(routes!(command_status))
        .routes(routes!(site))
        .routes(routes!(firmware_status))
}

pub fn router(domain: Domain) -> axum::Router {
    routes().split_for_parts().0.with_state(domain)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// Register a charger; the first registration of a serial number wins.
#[utoipa::path(post, path = "/v1/device/register", tag = "device",
    request_body = RegisterRequest,
    params(("X-Provisioning-Key" = Option<String>, Header, description = "required when the deployment sets one")),
    responses(
        (status = 200, description = "registered, or credentials rotated", body = Envelope<RegisterData>),
        (status = 409, description = "serial number taken", body = Failure),
        (status = 422, description = "invalid values", body = Failure),
        (status = 429, description = "too many registrations from this address", body = Failure),
    ))]
async fn register(
    State(domain): State<Domain>,
    Source(source): Source,
    headers: RegistrationHeaders,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> Result<Response, api::ApiError> {
    domain.devices.check_provisioning_key(
        headers
            .provisioning_key
            .as_ref()
            .map(|k| k.expose().as_str()),
    )?;
    let proof = Possession {
        device_secret: body.device_secret.clone(),
        bearer_token: headers.bearer,
    };
    let creds = domain
        .devices
        .register(body.try_into()?, proof, &source)
        .await?;
    Ok(no_store(Reply::ok(RegisterData {
        device_id: creds.device_id,
        device_secret: creds.device_secret,
        expires_in: creds.expires_in,
    })))
}

async fn issue_token(
    domain: &Domain,
    source: &str,
    body: AuthRequest,
) -> Result<Response, api::ApiError> {
    let token = domain
        .devices
        .authenticate(body.try_into()?, source)
        .await?;
    Ok(token_answer(token.access_token, token.expires_in))
}

/// Exchange device credentials for a 24 h Bearer token.
#[utoipa::path(post, path = "/v1/device/auth", tag = "device",
    request_body = AuthRequest,
    responses(
        (status = 200, description = "token issued", body = TokenEnvelope),
        (status = 401, description = "wrong credentials", body = Failure),
        (status = 429, description = "too many failed attempts", body = Failure),
    ))]
async fn auth(
    State(domain): State<Domain>,
    Source(source): Source,
    JsonBody(body): JsonBody<AuthRequest>,
) -> Result<Response, api::ApiError> {
    issue_token(&domain, &source, body).await
}

/// Alias of `/v1/device/auth`.
#[utoipa::path(post, path = "/v1/device/token", tag = "device",
    request_body = AuthRequest,
    responses(
        (status = 200, description = "token issued", body = TokenEnvelope),
        (status = 401, description = "wrong credentials", body = Failure),
        (status = 429, description = "too many failed attempts", body = Failure),
    ))]
async fn token(
    State(domain): State<Domain>,
    Source(source): Source,
    JsonBody(body): JsonBody<AuthRequest>,
) -> Result<Response, api::ApiError> {
    issue_token(&domain, &source, body).await
}

/// 30 s heartbeat; answers with pending commands, now delivered.
#[utoipa::path(post, path = "/v1/device/heartbeat", tag = "device",
    request_body = HeartbeatRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "seen", body = Envelope<HeartbeatData>),
        (status = 401, description = "no valid token", body = Failure),
    ))]
async fn heartbeat(
    State(domain): State<Domain>,
    DeviceCaller(claims): DeviceCaller,
    JsonBody(body): JsonBody<HeartbeatRequest>,
) -> ApiResult<HeartbeatData> {
    let commands = domain.telemetry.heartbeat(claims, body.try_into()?).await?;
    Ok(Reply::ok(HeartbeatData { commands }))
}

/// Connector telemetry sample.
#[utoipa::path(post, path = "/v1/device/status", tag = "device",
    request_body = StatusRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "stored", body = Envelope<Null>),
        (status = 422, description = "invalid values", body = Failure),
    ))]
async fn status(
    State(domain): State<Domain>,
    DeviceCaller(claims): DeviceCaller,
    JsonBody(body): JsonBody<StatusRequest>,
) -> ApiResult<()> {
    domain
        .telemetry
        .record_status(claims, body.try_into()?)
        .await?;
    Ok(Reply::ok(()))
}

/// Alias of `/v1/device/status`.
#[utoipa::path(post, path = "/v1/device/telemetry", tag = "device",
    request_body = StatusRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "stored", body = Envelope<Null>),
        (status = 422, description = "invalid values", body = Failure),
    ))]
async fn telemetry(
    state: State<Domain>,
    caller: DeviceCaller,
    body: JsonBody<StatusRequest>,
) -> ApiResult<()> {
    status(state, caller, body).await
}

/// Lifecycle event (plug-in, start, stop, plug-out, fault, ...).
#[utoipa::path(post, path = "/v1/device/events", tag = "device",
    request_body = EventRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "applied", body = Envelope<Null>),
        (status = 422, description = "unknown event_type or bad values", body = Failure),
    ))]
async fn events(
    State(domain): State<Domain>,
    DeviceCaller(claims): DeviceCaller,
    JsonBody(body): JsonBody<EventRequest>,
) -> ApiResult<()> {
    domain
        .telemetry
        .record_event(claims, body.try_into()?)
        .await?;
    Ok(Reply::ok(()))
}

/// Charge detail record; idempotent on `record_id`.
#[utoipa::path(post, path = "/v1/device/charging-records", tag = "device",
    request_body = RecordRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "stored (or already stored)", body = Envelope<Null>),
        (status = 409, description = "same record_id, other content", body = Failure),
        (status = 422, description = "invalid values", body = Failure),
    ))]
async fn charging_records(
    State(domain): State<Domain>,
    DeviceCaller(claims): DeviceCaller,
    JsonBody(body): JsonBody<RecordRequest>,
) -> ApiResult<()> {
    domain
        .records
        .upload_record(claims, body.try_into()?)
        .await?;
    Ok(Reply::ok(()))
}

/// Long-poll for the oldest pending command; `data` is null after `wait`.
#[utoipa::path(get, path = "/v1/device/commands", tag = "device",
    params(PollQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "a command, or null", body = Envelope<Option<kernel::command::CommandView>>),
        (status = 401, description = "no valid token", body = Failure),
    ))]
async fn commands(
    State(domain): State<Domain>,
    DeviceCaller(claims): DeviceCaller,
    QueryParams(q): QueryParams<PollQuery>,
) -> ApiResult<Option<kernel::command::CommandView>> {
    Ok(Reply::ok(
        crate::long_poll::next_command(&domain, claims, q.wait).await?,
    ))
}

/// Report a command's execution result.
#[utoipa::path(post, path = "/v1/device/command-status", tag = "device",
    request_body = CommandStatusRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "recorded", body = Envelope<Null>),
        (status = 404, description = "not this device's command", body = Failure),
        (status = 409, description = "transition not allowed", body = Failure),
    ))]
async fn command_status(
    State(domain): State<Domain>,
    DeviceCaller(claims): DeviceCaller,
    JsonBody(body): JsonBody<CommandStatusRequest>,
) -> ApiResult<()> {
    domain
        .commands
        .report_command(claims, body.try_into()?)
        .await?;
    Ok(Reply::ok(()))
}

/// Register or update a site with its devices.
#[utoipa::path(post, path = "/v1/device/site", tag = "device",
    request_body = SiteRequest,
    params(("X-Provisioning-Key" = Option<String>, Header, description = "required when the deployment sets one")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "saved", body = Envelope<SiteData>),
        (status = 403, description = "a device belongs to another operator", body = Failure),
        (status = 404, description = "site belongs to another operator", body = Failure),
        (status = 422, description = "invalid values or unknown devices", body = Failure),
    ))]
async fn site(
    State(domain): State<Domain>,
    headers: RegistrationHeaders,
    JsonBody(body): JsonBody<SiteRequest>,
) -> ApiResult<SiteData> {
    domain.devices.check_provisioning_key(
        headers
            .provisioning_key
            .as_ref()
            .map(|k| k.expose().as_str()),
    )?;
    // A charger's token, an operator's token, or none (the registration
    // policy); the domain decides what each may change.
    let authority = match headers.bearer.as_ref().map(|t| t.expose().as_str()) {
        None => SiteAuthority::Anonymous,
        Some(token) => match domain.devices.verify_token(token) {
            Ok(claims) => SiteAuthority::Device(claims),
            Err(_) => SiteAuthority::Console(domain.tenants.operator_caller(token).await?),
        },
    };
    let site_id = domain
        .sites
        .register_site(&authority, body.try_into()?)
        .await?;
    Ok(Reply::ok(SiteData { site_id }))
}

/// Firmware upgrade progress.
#[utoipa::path(post, path = "/v1/device/firmware/status", tag = "device",
    request_body = FirmwareRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "recorded", body = Envelope<Null>),
        (status = 422, description = "invalid status or progress", body = Failure),
    ))]
async fn firmware_status(
    State(domain): State<Domain>,
    DeviceCaller(claims): DeviceCaller,
    JsonBody(body): JsonBody<FirmwareRequest>,
) -> ApiResult<()> {
    domain
        .telemetry
        .record_firmware(claims, body.try_into()?)
        .await?;
    Ok(Reply::ok(()))
}
