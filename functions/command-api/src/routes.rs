//! Command routes: parse, call the domain, wrap the envelope.

use api::{ApiResult, Console, Envelope, ErrorEnvelope, JsonBody, Reply, parse_path};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use domain::Domain;
use domain::admin::AdminCommand;
use domain::commands::CommandParams;
use domain::commands::dispatch::QueuedCommand;
use domain::commands::params::{SetSchedule, StartCharging, StartDischarging, StopCharging};
use domain::commands::schedule::Schedule;
use domain::flexibility::{DeviceAllocation, FlexRequest};
use kernel::Error;
use kernel::access::Caller;
use kernel::ids::{ConnectorId, DeviceId, SiteId};
use kernel::input::{AllFields, check, connector, id, one_of, optional};
use kernel::model::CommandKind;
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
            Some(Ok(k))
                if (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Ok(Self(Some(k)))
            }
            Some(_) => Err(kernel::Error::bad_request(
                "Idempotency-Key",
                "must be 1..128 visible ASCII characters",
            )
            .into()),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StartRequest {
    /// kW, at most the model's rating (the default).
    #[schema(exclusive_minimum = 0, maximum = 1000)]
    pub charge_power: Option<f64>,
    /// %; defaults to 100.
    #[schema(minimum = 1, maximum = 100)]
    pub target_soc: Option<f64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StopRequest {
    #[schema(example = "user_request", min_length = 1, max_length = 64)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DischargeRequest {
    /// kW, at most the model's rating; V2G models only.
    #[schema(exclusive_minimum = 0, maximum = 1000)]
    pub discharge_power: f64,
    /// Seconds.
    #[schema(minimum = 1, maximum = 86400)]
    pub duration: i64,
    /// %, below 100.
    #[schema(minimum = 0, exclusive_maximum = 100)]
    pub min_soc: f64,
}

/// A connector in the path: one that cannot exist is not found.
fn connector_path((id, cid): (String, String)) -> Result<(DeviceId, ConnectorId), api::ApiError> {
    let device = parse_path::<DeviceId>(&id)?;
    let connector = cid
        .parse::<u32>()
        .ok()
        .and_then(ConnectorId::new)
        .ok_or_else(|| {
            let shown: String = cid.chars().take(16).collect();
            Error::NotFound(format!("connector {shown} of device {device} not found"))
        })?;
    Ok((device, connector))
}

async fn send(
    domain: &Domain,
    caller: &Caller,
    path: (String, String),
    command: CommandParams,
    key: IdempotencyKey,
) -> ApiResult<QueuedCommand> {
    let (device, connector) = connector_path(path)?;
    let queued = domain
        .commands
        .queue_connector_command(caller, device, connector, command, key.0.as_deref())
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
    let command = CommandParams::StartCharging(StartCharging {
        charge_power: body.charge_power,
        target_soc: body.target_soc,
    });
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
        CommandParams::StopCharging(StopCharging {
            reason: body.reason,
        }),
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
    let command = CommandParams::StartDischarging(StartDischarging {
        discharge_power: body.discharge_power,
        duration: body.duration,
        min_soc: body.min_soc,
    });
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
        CommandParams::SetSchedule(SetSchedule { schedule: body }),
        key,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FlexibilityRequest {
    #[schema(format = Uuid)]
    pub site_id: String,
    /// kW the site may draw while the cap lasts.
    #[schema(minimum = 0, maximum = 100000)]
    pub limit_kw: f64,
    #[schema(minimum = 1, maximum = 86400)]
    pub duration_s: i64,
    /// Only `cap` for now.
    #[schema(pattern = "^cap$")]
    pub mode: Option<String>,
}

impl TryFrom<FlexibilityRequest> for FlexRequest {
    type Error = Error;

    fn try_from(r: FlexibilityRequest) -> Result<Self, Error> {
        let (site_id, limit_kw, duration_s, _) = (
            id::<SiteId>(&r.site_id, "site_id"),
            kernel::input::number(r.limit_kw, 0.0, 100_000.0, "limit_kw"),
            check(
                (1..=86_400).contains(&r.duration_s),
                "duration_s",
                "must be 1..86400",
            )
            .map(|()| r.duration_s),
            check(
                r.mode.as_deref().is_none_or(|m| m == "cap"),
                "mode",
                "must be cap",
            ),
        )
            .all()?;
        Ok(Self {
            site_id,
            limit_kw,
            duration_s,
        })
    }
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
    Ok(Reply::accepted(
        domain
            .flexibility
            .flexibility(&caller, body.try_into()?)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct QueueCommandRequest {
    #[schema(format = Uuid)]
    pub device_id: String,
    #[schema(value_type = CommandKind, example = "update_firmware")]
    pub command: String,
    #[schema(minimum = 1, maximum = 32)]
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
    let device_id = parse_path::<DeviceId>(&body.device_id)?;
    let (kind, connector_id) = (
        one_of::<CommandKind>(&body.command, "command"),
        optional(body.connector_id, |c| connector(c, "connector_id")),
    )
        .all()?;
    let command = AdminCommand {
        device_id,
        connector_id,
        params: crate::params::command_params(kind, body.params)?,
    };
    Ok(Reply::accepted(
        domain.admin.queue_admin_command(&caller, command).await?,
    ))
}
