//! Console reads: operators, sites, devices, records, energy, firmware,
//! commands. Every handler is scoped by the caller (see the domain).

use api::{ApiResult, Console, Envelope, ErrorEnvelope, QueryParams, Reply};
use axum::extract::{Path, State};
use domain::Domain;
use domain::catalogue::ModelView;
use domain::console::{DeviceFilter, EnergyQuery, Paging, RecordFilter};
use domain::model::{ChargingRecord, Operator};
use domain::views::{
    CommandDetail, ConnectorView, DeviceView, EnergySeries, FirmwarePage, ListPage, SiteDetail,
    SiteView,
};
use serde::Deserialize;
use utoipa::IntoParams;

type Failure = ErrorEnvelope;

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1-based page number.
    pub page: Option<i64>,
    /// Items per page, 1..100 (default 20).
    pub size: Option<i64>,
}

impl PageQuery {
    fn paging(&self) -> Result<Paging, domain::Error> {
        Paging::parse(self.page, self.size)
    }
}

/// Operators visible to the caller.
#[utoipa::path(get, path = "/v1/operators", tag = "console", security(("bearer" = [])),
    responses(
        (status = 200, description = "operators", body = Envelope<Vec<Operator>>),
        (status = 401, description = "no valid token", body = Failure),
    ))]
pub async fn list_operators(
    State(domain): State<Domain>,
    Console(caller): Console,
) -> ApiResult<Vec<Operator>> {
    Ok(Reply::ok(domain.visible_operators(&caller).await?))
}

/// One operator.
#[utoipa::path(get, path = "/v1/operators/{id}", tag = "console", security(("bearer" = [])),
    params(("id" = String, Path, description = "operator slug")),
    responses(
        (status = 200, description = "the operator", body = Envelope<Operator>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn get_operator(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(id): Path<String>,
) -> ApiResult<Operator> {
    Ok(Reply::ok(domain.operator(&caller, &id).await?))
}

/// Sites with live status.
#[utoipa::path(get, path = "/v1/sites", tag = "console", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "a page of sites", body = Envelope<ListPage<SiteView>>),
        (status = 401, description = "no valid token", body = Failure),
    ))]
pub async fn list_sites(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<ListPage<SiteView>> {
    Ok(Reply::ok(domain.list_sites(&caller, q.paging()?).await?))
}

/// One site with its devices and current power.
#[utoipa::path(get, path = "/v1/sites/{id}", tag = "console", security(("bearer" = [])),
    params(("id" = String, Path, description = "site id")),
    responses(
        (status = 200, description = "the site", body = Envelope<SiteDetail>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn get_site(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(id): Path<String>,
) -> ApiResult<SiteDetail> {
    Ok(Reply::ok(domain.site_detail(&caller, &id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeviceQuery {
    pub site_id: Option<String>,
    /// online, offline or fault.
    pub status: Option<String>,
    pub model: Option<String>,
    pub page: Option<i64>,
    pub size: Option<i64>,
}

/// Devices with their connectors.
#[utoipa::path(get, path = "/v1/devices", tag = "console", security(("bearer" = [])), params(DeviceQuery),
    responses(
        (status = 200, description = "a page of devices", body = Envelope<ListPage<DeviceView>>),
        (status = 422, description = "bad filter", body = Failure),
    ))]
pub async fn list_devices(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<DeviceQuery>,
) -> ApiResult<ListPage<DeviceView>> {
    let paging = Paging::parse(q.page, q.size)?;
    let filter = DeviceFilter {
        site_id: q.site_id,
        status: q.status,
        model: q.model,
    };
    Ok(Reply::ok(
        domain.list_devices(&caller, filter, paging).await?,
    ))
}

/// One device.
#[utoipa::path(get, path = "/v1/devices/{id}", tag = "console", security(("bearer" = [])),
    params(("id" = String, Path, description = "device id")),
    responses(
        (status = 200, description = "the device", body = Envelope<DeviceView>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn get_device(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(id): Path<String>,
) -> ApiResult<DeviceView> {
    Ok(Reply::ok(domain.device_detail(&caller, &id).await?))
}

/// A device's connector states.
#[utoipa::path(get, path = "/v1/devices/{id}/connectors", tag = "console", security(("bearer" = [])),
    params(("id" = String, Path, description = "device id")),
    responses(
        (status = 200, description = "connectors", body = Envelope<ListPage<ConnectorView>>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn device_connectors(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(id): Path<String>,
) -> ApiResult<ListPage<ConnectorView>> {
    Ok(Reply::ok(domain.device_connectors(&caller, &id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RecordQuery {
    pub site_id: Option<String>,
    pub device_id: Option<String>,
    /// Sessions starting at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Sessions starting at or before this time (RFC 3339).
    pub to: Option<String>,
    pub page: Option<i64>,
    pub size: Option<i64>,
}

/// Charging records, newest first.
#[utoipa::path(get, path = "/v1/charging-records", tag = "console", security(("bearer" = [])), params(RecordQuery),
    responses(
        (status = 200, description = "a page of records", body = Envelope<ListPage<ChargingRecord>>),
        (status = 422, description = "bad filter", body = Failure),
    ))]
pub async fn list_records(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<RecordQuery>,
) -> ApiResult<ListPage<ChargingRecord>> {
    let paging = Paging::parse(q.page, q.size)?;
    let filter = RecordFilter {
        site_id: q.site_id,
        device_id: q.device_id,
        from: q.from,
        to: q.to,
    };
    Ok(Reply::ok(
        domain.list_records(&caller, filter, paging).await?,
    ))
}

/// One charging record.
#[utoipa::path(get, path = "/v1/charging-records/{id}", tag = "console", security(("bearer" = [])),
    params(("id" = String, Path, description = "record id")),
    responses(
        (status = 200, description = "the record", body = Envelope<ChargingRecord>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn get_record(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(id): Path<String>,
) -> ApiResult<ChargingRecord> {
    Ok(Reply::ok(domain.record_detail(&caller, &id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EnergyParams {
    /// hour (default), day or month.
    pub granularity: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Exactly one of site_id and device_id.
    pub site_id: Option<String>,
    pub device_id: Option<String>,
}

/// Energy time series from the pre-aggregated buckets.
#[utoipa::path(get, path = "/v1/aggregated/energy", tag = "console", security(("bearer" = [])), params(EnergyParams),
    responses(
        (status = 200, description = "the series", body = Envelope<EnergySeries>),
        (status = 422, description = "bad range or scope", body = Failure),
    ))]
pub async fn energy(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<EnergyParams>,
) -> ApiResult<EnergySeries> {
    let query = EnergyQuery {
        granularity: q.granularity,
        from: q.from,
        to: q.to,
        site_id: q.site_id,
        device_id: q.device_id,
    };
    Ok(Reply::ok(domain.energy(&caller, query).await?))
}

/// Firmware adoption per model.
#[utoipa::path(get, path = "/v1/firmware/versions", tag = "console", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "adoption", body = Envelope<FirmwarePage>),
        (status = 401, description = "no valid token", body = Failure),
    ))]
pub async fn firmware_versions(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<FirmwarePage> {
    Ok(Reply::ok(
        domain.firmware_versions(&caller, q.paging()?).await?,
    ))
}

/// A command's status with its history.
#[utoipa::path(get, path = "/v1/commands/{id}", tag = "console", security(("bearer" = [])),
    params(("id" = String, Path, description = "command id")),
    responses(
        (status = 200, description = "the command", body = Envelope<CommandDetail>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn get_command(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(id): Path<String>,
) -> ApiResult<CommandDetail> {
    Ok(Reply::ok(domain.command_detail(&caller, &id).await?))
}

/// The charger model catalogue merged with the models of the caller's fleet.
#[utoipa::path(get, path = "/v1/models", tag = "console", security(("bearer" = [])),
    responses(
        (status = 200, description = "models", body = Envelope<ListPage<ModelView>>),
        (status = 401, description = "no valid token", body = Failure),
    ))]
pub async fn models(
    State(domain): State<Domain>,
    Console(caller): Console,
) -> ApiResult<ListPage<ModelView>> {
    let items = domain.models(&caller).await?;
    let size = items.len().max(1) as u32;
    Ok(Reply::ok(ListPage::slice(items, 1, size)))
}
