//! The T/CEC 102 routes (contract §9). Each takes POST or PUT and always
//! answers HTTP 200 with `{Ret, Msg, Data, Sig}`.

use crate::dto::{
    DischargeData, StartChargeData, StartCharging, StartDischarging, StationInfoData,
    StationStatusData, StationStatusPushData, StopCharging, StopData, StopDischarging, TokenData,
    WorkStatusData,
};
use crate::serve::serve;
use api::{RawBody, Source};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use domain::Domain;
use domain::partners::{
    ConnectorPush, SessionPush, StationQuery, StationStatusQuery, TokenLogin, TokenRule,
};
use tcec::{WireAnswer, WireRequest};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Domain> {
    OpenApiRouter::new()
        .routes(routes!(query_token))
        .routes(routes!(query_station_info))
        .routes(routes!(notification_station_status))
        .routes(routes!(notify_work_status))
        .routes(routes!(query_station_status))
        .routes(routes!(start_charging))
        .routes(routes!(stop_charging))
        .routes(routes!(start_discharging))
        .routes(routes!(stop_discharging))
}

/// An access token for the other routes (Data `{OperatorID, OperatorSecret}`).
#[utoipa::path(method(post, put), path = "/customer/query_token", tag = "legacy",
    request_body = WireRequest,
    responses(
        (status = 200, description = "Ret 0 with the token, or a Ret code", body = WireAnswer),
        (status = 429, description = "too many wrong secrets from this address: Ret 4002, right or wrong", body = WireAnswer),
    ))]
async fn query_token(
    State(domain): State<Domain>,
    Source(source): Source,
    parts: Parts,
    RawBody(body): RawBody,
) -> (StatusCode, Json<WireAnswer>) {
    serve::<TokenData, _, _, _, _>(
        &domain,
        &parts,
        &body,
        TokenRule::Exempt,
        |d, p, login: TokenLogin| async move { d.partner_token(&p, login, &source).await },
    )
    .await
}

/// The tenant's stations with their equipment and connectors, paged.
#[utoipa::path(method(post, put), path = "/customer/query_station_info", tag = "legacy",
    request_body = WireRequest,
    responses((status = 200, description = "Ret 0 with a page of stations, or a Ret code", body = WireAnswer)))]
async fn query_station_info(
    State(domain): State<Domain>,
    parts: Parts,
    RawBody(body): RawBody,
) -> (StatusCode, Json<WireAnswer>) {
    serve::<StationInfoData, _, _, _, _>(
        &domain,
        &parts,
        &body,
        TokenRule::Required,
        |d, p, q: StationQuery| async move { d.partner_stations(&p, q).await },
    )
    .await
}

/// A partner's own connector status, kept per partner.
#[utoipa::path(method(post, put), path = "/customer/notification_stationStatus", tag = "legacy",
    request_body = WireRequest,
    responses((status = 200, description = "Ret 0 with {Status}, or a Ret code", body = WireAnswer)))]
async fn notification_station_status(
    State(domain): State<Domain>,
    parts: Parts,
    RawBody(body): RawBody,
) -> (StatusCode, Json<WireAnswer>) {
    serve::<StationStatusPushData, _, _, _, _>(
        &domain,
        &parts,
        &body,
        TokenRule::Required,
        |d, p, push: ConnectorPush| async move { d.partner_connector_pushed(&p, push).await },
    )
    .await
}

/// A partner's session progress, kept per partner.
#[utoipa::path(method(post, put), path = "/customer/notify_work_status", tag = "legacy",
    request_body = WireRequest,
    responses((status = 200, description = "Ret 0 with {StartChargeSeq, SuccStat}, or a Ret code", body = WireAnswer)))]
async fn notify_work_status(
    State(domain): State<Domain>,
    parts: Parts,
    RawBody(body): RawBody,
) -> (StatusCode, Json<WireAnswer>) {
    serve::<WorkStatusData, _, _, _, _>(
        &domain,
        &parts,
        &body,
        TokenRule::Required,
        |d, p, push: SessionPush| async move { d.partner_session_pushed(&p, push).await },
    )
    .await
}

/// Connector statuses of up to 50 of the tenant's stations.
#[utoipa::path(method(post, put), path = "/cp/query_station_status", tag = "legacy",
    request_body = WireRequest,
    responses((status = 200, description = "Ret 0 with the statuses, or a Ret code", body = WireAnswer)))]
async fn query_station_status(
    State(domain): State<Domain>,
    parts: Parts,
    RawBody(body): RawBody,
) -> (StatusCode, Json<WireAnswer>) {
    serve::<StationStatusData, _, _, _, _>(
        &domain,
        &parts,
        &body,
        TokenRule::Required,
        |d, p, q: StationStatusQuery| async move { d.partner_station_status(&p, q).await },
    )
    .await
}

/// Queues `start_charging`, idempotent on `StartChargeSeq`.
#[utoipa::path(method(post, put), path = "/cp/start_charging", tag = "legacy",
    request_body = WireRequest,
    responses((status = 200, description = "Ret 0 with SuccStat and FailReason, or a Ret code", body = WireAnswer)))]
async fn start_charging(
    State(domain): State<Domain>,
    parts: Parts,
    RawBody(body): RawBody,
) -> (StatusCode, Json<WireAnswer>) {
    serve::<StartChargeData, _, _, _, _>(
        &domain,
        &parts,
        &body,
        TokenRule::Required,
        |d, p, StartCharging(req)| async move { d.partner_steer(&p, req).await },
    )
    .await
}

/// Queues `stop_charging` for a session the partner started.
#[utoipa::path(method(post, put), path = "/cp/stop_charging", tag = "legacy",
    request_body = WireRequest,
    responses((status = 200, description = "Ret 0 with SuccStat and FailReason, or a Ret code", body = WireAnswer)))]
async fn stop_charging(
    State(domain): State<Domain>,
    parts: Parts,
    RawBody(body): RawBody,
) -> (StatusCode, Json<WireAnswer>) {
    serve::<StopData, _, _, _, _>(
        &domain,
        &parts,
        &body,
        TokenRule::Required,
        |d, p, StopCharging(req)| async move { d.partner_steer(&p, req).await },
    )
    .await
}

/// Queues `start_discharging` (V2G models, within the rating).
#[utoipa::path(method(post, put), path = "/cp/start_discharging", tag = "legacy",
    request_body = WireRequest,
    responses((status = 200, description = "Ret 0 with SuccStat and FailReason, or a Ret code", body = WireAnswer)))]
async fn start_discharging(
    State(domain): State<Domain>,
    parts: Parts,
    RawBody(body): RawBody,
) -> (StatusCode, Json<WireAnswer>) {
    serve::<DischargeData, _, _, _, _>(
        &domain,
        &parts,
        &body,
        TokenRule::Required,
        |d, p, StartDischarging(req)| async move { d.partner_steer(&p, req).await },
    )
    .await
}

/// Ends a discharge the partner started.
#[utoipa::path(method(post, put), path = "/cp/stop_discharging", tag = "legacy",
    request_body = WireRequest,
    responses((status = 200, description = "Ret 0 with SuccStat and FailReason, or a Ret code", body = WireAnswer)))]
async fn stop_discharging(
    State(domain): State<Domain>,
    parts: Parts,
    RawBody(body): RawBody,
) -> (StatusCode, Json<WireAnswer>) {
    serve::<StopData, _, _, _, _>(
        &domain,
        &parts,
        &body,
        TokenRule::Required,
        |d, p, StopDischarging(req)| async move { d.partner_steer(&p, req).await },
    )
    .await
}
