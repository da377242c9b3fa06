//! The T/CEC 102 routes (contract §9). Each takes POST or PUT and answers
//! `{Ret, Msg, Data, Sig}`, HTTP 200 (429 for a throttled `query_token`).

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
use domain::partners::TokenRule;
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
        |d, p, login| async move { d.partners.partner_token(&p, login, &source).await },
    )
    .await
}

/// A route that needs the partner's token: its path, its answer, the
/// shape of its `Data` and the domain call that answers it. One
/// definition, so every legacy route opens, parses and seals alike.
macro_rules! legacy_route {
    ($(#[doc = $doc:literal])* $name:ident, $path:literal, $answer:literal,
     $data:ty => |$d:ident, $p:ident, $input:pat_param| $call:expr) => {
        $(#[doc = $doc])*
        #[utoipa::path(method(post, put), path = $path, tag = "legacy",
            request_body = WireRequest,
            responses((status = 200, description = $answer, body = WireAnswer)))]
        async fn $name(
            State(domain): State<Domain>,
            parts: Parts,
            RawBody(body): RawBody,
        ) -> (StatusCode, Json<WireAnswer>) {
            serve::<$data, _, _, _, _>(
                &domain,
                &parts,
                &body,
                TokenRule::Required,
                |$d, $p, $input| async move { $call.await },
            )
            .await
        }
    };
}

legacy_route! {
    /// The tenant's stations with their equipment and connectors, paged.
    query_station_info, "/customer/query_station_info",
    "Ret 0 with a page of stations, or a Ret code",
    StationInfoData => |d, p, q| d.partners.partner_stations(&p, q)
}

legacy_route! {
    /// A partner's own connector status, kept per partner.
    notification_station_status, "/customer/notification_stationStatus",
    "Ret 0 with {Status}, or a Ret code",
    StationStatusPushData => |d, p, push| d.partners.partner_connector_pushed(&p, push)
}

legacy_route! {
    /// A partner's session progress, kept per partner.
    notify_work_status, "/customer/notify_work_status",
    "Ret 0 with {StartChargeSeq, SuccStat}, or a Ret code",
    WorkStatusData => |d, p, push| d.partners.partner_session_pushed(&p, push)
}

legacy_route! {
    /// Connector statuses of up to 50 of the tenant's stations.
    query_station_status, "/cp/query_station_status",
    "Ret 0 with the statuses, or a Ret code",
    StationStatusData => |d, p, q| d.partners.partner_station_status(&p, q)
}

legacy_route! {
    /// Queues `start_charging`, idempotent on `StartChargeSeq`.
    start_charging, "/cp/start_charging",
    "Ret 0 with SuccStat and FailReason, or a Ret code",
    StartChargeData => |d, p, StartCharging(req)| d.partners.partner_steer(&p, req)
}

legacy_route! {
    /// Queues `stop_charging` for a session the partner started.
    stop_charging, "/cp/stop_charging",
    "Ret 0 with SuccStat and FailReason, or a Ret code",
    StopData => |d, p, StopCharging(req)| d.partners.partner_steer(&p, req)
}

legacy_route! {
    /// Queues `start_discharging` (V2G models, within the rating).
    start_discharging, "/cp/start_discharging",
    "Ret 0 with SuccStat and FailReason, or a Ret code",
    DischargeData => |d, p, StartDischarging(req)| d.partners.partner_steer(&p, req)
}

legacy_route! {
    /// Ends a discharge the partner started.
    stop_discharging, "/cp/stop_discharging",
    "Ret 0 with SuccStat and FailReason, or a Ret code",
    StopData => |d, p, StopDischarging(req)| d.partners.partner_steer(&p, req)
}
