//! `/v1/ocpp/charge-points`: provisioning OCPP charge points. Parse, call
//! the domain, wrap the envelope.

use api::{ApiResult, Console, Envelope, ErrorEnvelope, JsonBody, QueryParams, Reply};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use domain::Domain;
use domain::chargepoints::{
    ChargePointFilter, ChargePointView, NewChargePoint, Provisioned, valid_charge_point_id,
};
use domain::console::Paging;
use domain::console::views::ListPage;
use kernel::Error;
use kernel::ids::{OperatorId, SiteId};
use kernel::input::{AllFields, check, id, optional, text};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

type Failure = ErrorEnvelope;

const CHARGE_POINT_ID_RULE: &str = "must be 1..48 of A-Z a-z 0-9 . _ - :";

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChargePointRequest {
    /// The id the charger presents (the last segment of its URL).
    #[schema(min_length = 1, max_length = 48, pattern = "^[A-Za-z0-9._:-]{1,48}$")]
    pub charge_point_id: String,
    /// The owning operator; required when the caller acts for several.
    pub operator_id: Option<String>,
    #[schema(format = Uuid)]
    pub site_id: Option<String>,
    /// Until its BootNotification says otherwise.
    #[schema(max_length = 64)]
    pub model: Option<String>,
    #[schema(max_length = 64)]
    pub manufacturer: Option<String>,
}

impl TryFrom<ChargePointRequest> for NewChargePoint {
    type Error = Error;

    fn try_from(r: ChargePointRequest) -> Result<Self, Error> {
        let (cpid, operator_id, site_id, model, manufacturer) = (
            check(
                valid_charge_point_id(&r.charge_point_id),
                "charge_point_id",
                CHARGE_POINT_ID_RULE,
            ),
            optional(r.operator_id.as_deref(), |o| {
                id::<OperatorId>(o, "operator_id")
            }),
            optional(r.site_id.as_deref(), |s| id::<SiteId>(s, "site_id")),
            optional(r.model, |m| text(m, 64, "model")),
            optional(r.manufacturer, |m| text(m, 64, "manufacturer")),
        )
            .all()?;
        let () = cpid;
        Ok(Self {
            charge_point_id: r.charge_point_id,
            operator_id,
            site_id,
            model,
            manufacturer,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChargePointQuery {
    #[param(format = Uuid)]
    pub site_id: Option<String>,
    pub connected: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub size: Option<i64>,
}

impl TryFrom<ChargePointQuery> for (ChargePointFilter, Paging) {
    type Error = Error;

    fn try_from(q: ChargePointQuery) -> Result<Self, Error> {
        let connected = match q.connected.as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => check(false, "connected", "must be true or false").map(|()| None),
        };
        let (site_id, connected) = (
            optional(q.site_id.as_deref(), |s| id::<SiteId>(s, "site_id")),
            connected,
        )
            .all()?;
        let paging = Paging::parse(q.page, q.size)?;
        Ok((ChargePointFilter { site_id, connected }, paging))
    }
}

/// The URL chargers are configured with: `OCPP_URL`, else this host's
/// `/ocpp` over `ws` (`wss` behind TLS).
fn ocpp_url(domain: &Domain, headers: &HeaderMap) -> String {
    if let Some(url) = &domain.settings.ocpp_url {
        return url.clone();
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = header("x-forwarded-host")
        .or(header("host"))
        .unwrap_or("localhost");
    let scheme = match header("x-forwarded-proto") {
        Some("https") => "wss",
        _ => "ws",
    };
    format!("{scheme}://{host}/ocpp")
}

fn charge_point_id(raw: &str) -> Result<&str, Error> {
    if valid_charge_point_id(raw) {
        Ok(raw)
    } else {
        Err(Error::NotFound(format!(
            "charge point {} not found",
            kernel::input::shown(raw)
        )))
    }
}

/// Provision an OCPP charge point: its device, and a password shown once.
#[utoipa::path(post, path = "/v1/ocpp/charge-points", tag = "ocpp",
    security(("bearer" = [])), request_body = ChargePointRequest,
    responses(
        (status = 201, description = "the charge point, its password (shown once) and URL", body = Envelope<Provisioned>),
        (status = 403, description = "role may not provision", body = Failure),
        (status = 409, description = "the charge point id is taken", body = Failure),
        (status = 422, description = "a malformed id, or an unknown site", body = Failure),
    ))]
pub async fn create_charge_point(
    State(domain): State<Domain>,
    Console(caller): Console,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ChargePointRequest>,
) -> ApiResult<Provisioned> {
    let url = ocpp_url(&domain, &headers);
    Ok(Reply::created(
        domain
            .charge_points
            .provision_charge_point(&caller, body.try_into()?, url)
            .await?,
    ))
}

/// The caller's charge points with their connection state.
#[utoipa::path(get, path = "/v1/ocpp/charge-points", tag = "ocpp",
    security(("bearer" = [])), params(ChargePointQuery),
    responses(
        (status = 200, description = "a page of charge points", body = Envelope<ListPage<ChargePointView>>),
        (status = 422, description = "bad filter or paging", body = Failure),
    ))]
pub async fn list_charge_points(
    State(domain): State<Domain>,
    Console(caller): Console,
    headers: HeaderMap,
    QueryParams(q): QueryParams<ChargePointQuery>,
) -> ApiResult<ListPage<ChargePointView>> {
    let (filter, paging) = q.try_into()?;
    let url = ocpp_url(&domain, &headers);
    Ok(Reply::ok(
        domain
            .charge_points
            .charge_points(&caller, filter, paging, &url)
            .await?,
    ))
}

/// One charge point: connection, protocol, last message, boot details.
#[utoipa::path(get, path = "/v1/ocpp/charge-points/{charge_point_id}", tag = "ocpp",
    security(("bearer" = [])), params(("charge_point_id" = String, Path, description = "charge point id")),
    responses(
        (status = 200, description = "the charge point", body = Envelope<ChargePointView>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn get_charge_point(
    State(domain): State<Domain>,
    Console(caller): Console,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> ApiResult<ChargePointView> {
    let url = ocpp_url(&domain, &headers);
    Ok(Reply::ok(
        domain
            .charge_points
            .charge_point(&caller, charge_point_id(&raw)?, &url)
            .await?,
    ))
}

/// A new password, shown once; the old one fails from now on and an open
/// connection that used it is closed.
#[utoipa::path(post, path = "/v1/ocpp/charge-points/{charge_point_id}/password", tag = "ocpp",
    security(("bearer" = [])), params(("charge_point_id" = String, Path, description = "charge point id")),
    responses(
        (status = 200, description = "the new password, shown once", body = Envelope<Provisioned>),
        (status = 403, description = "role may not rotate", body = Failure),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn rotate_password(
    State(domain): State<Domain>,
    Console(caller): Console,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> ApiResult<Provisioned> {
    let url = ocpp_url(&domain, &headers);
    Ok(Reply::ok(
        domain
            .charge_points
            .rotate_charge_point_password(&caller, charge_point_id(&raw)?, url)
            .await?,
    ))
}
