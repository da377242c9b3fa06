//! Console reads: operators, sites, devices, records, energy, firmware,
//! commands. Every handler is scoped by the caller (see the domain).

use api::{ApiResult, Console, Envelope, ErrorEnvelope, Id, PageQuery, QueryParams, Reply};
use axum::extract::State;
use chrono::{DateTime, Utc};
use domain::Domain;
use domain::console::views::{
    CommandDetail, ConnectorView, DeviceView, EnergySeries, FirmwarePage, ListPage, RecordView,
    SiteDetail, SiteView,
};
use domain::console::{
    DeviceFilter, EnergyQuery, EnergyTarget, Granularity, Paging, RecordFilter, RevenueQuery,
    RevenueSeries,
};
use kernel::Error;
use kernel::catalogue::ModelPage;
use kernel::ids::{CommandId, DeviceId, OperatorId, RecordId, SiteId};
use kernel::input::{AllFields, id, one_of, optional, time};
use kernel::model::{DeviceStatus, Operator};
use serde::Deserialize;
use utoipa::IntoParams;

type Failure = ErrorEnvelope;

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
    Ok(Reply::ok(domain.tenants.visible_operators(&caller).await?))
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
    Id(id): Id<OperatorId>,
) -> ApiResult<Operator> {
    Ok(Reply::ok(domain.tenants.operator(&caller, &id).await?))
}

/// Sites with live status.
#[utoipa::path(get, path = "/v1/sites", tag = "console", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "a page of sites", body = Envelope<ListPage<SiteView>>),
        (status = 401, description = "no valid token", body = Failure),
        (status = 422, description = "bad paging", body = Failure),
    ))]
pub async fn list_sites(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<ListPage<SiteView>> {
    Ok(Reply::ok(
        domain.console.list_sites(&caller, (&q).try_into()?).await?,
    ))
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
    Id(id): Id<SiteId>,
) -> ApiResult<SiteDetail> {
    Ok(Reply::ok(domain.console.site_detail(&caller, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeviceQuery {
    #[param(format = Uuid)]
    pub site_id: Option<String>,
    #[param(value_type = Option<DeviceStatus>)]
    pub status: Option<String>,
    pub model: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub size: Option<i64>,
}

impl TryFrom<DeviceQuery> for (DeviceFilter, Paging) {
    type Error = Error;

    fn try_from(q: DeviceQuery) -> Result<Self, Error> {
        let (site_id, status) = (
            optional(q.site_id.as_deref(), |s| id::<SiteId>(s, "site_id")),
            optional(q.status.as_deref(), |s| one_of::<DeviceStatus>(s, "status")),
        )
            .all()?;
        let paging = Paging::parse(q.page, q.size)?;
        let filter = DeviceFilter {
            site_id,
            status,
            model: q.model,
        };
        Ok((filter, paging))
    }
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
    let (filter, paging) = q.try_into()?;
    Ok(Reply::ok(
        domain.console.list_devices(&caller, filter, paging).await?,
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
    Id(id): Id<DeviceId>,
) -> ApiResult<DeviceView> {
    Ok(Reply::ok(domain.console.device_detail(&caller, id).await?))
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
    Id(id): Id<DeviceId>,
) -> ApiResult<ListPage<ConnectorView>> {
    Ok(Reply::ok(
        domain.console.device_connectors(&caller, id).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    #[param(format = Uuid)]
    pub site_id: Option<String>,
    #[param(format = Uuid)]
    pub device_id: Option<String>,
    /// Sessions started with this driver token (case-insensitive).
    #[param(max_length = 20)]
    pub id_tag: Option<String>,
    /// Sessions starting at or after this time.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Sessions starting at or before this time.
    #[param(format = DateTime)]
    pub to: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub size: Option<i64>,
}

impl TryFrom<RecordQuery> for (RecordFilter, Paging) {
    type Error = Error;

    fn try_from(q: RecordQuery) -> Result<Self, Error> {
        let (from, to, site_id, device_id) = (
            optional(q.from.as_deref(), |t| time(t, "from")),
            optional(q.to.as_deref(), |t| time(t, "to")),
            optional(q.site_id.as_deref(), |s| id::<SiteId>(s, "site_id")),
            optional(q.device_id.as_deref(), |s| id::<DeviceId>(s, "device_id")),
        )
            .all()?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(Error::invalid("to", "must not be before from"));
        }
        let paging = Paging::parse(q.page, q.size)?;
        let id_tag = match q.id_tag {
            Some(tag) if !domain::idtags::valid_id_tag(&tag) => {
                return Err(Error::invalid("id_tag", domain::idtags::ID_TAG_RULE));
            }
            tag => tag,
        };
        let filter = RecordFilter {
            site_id,
            device_id,
            from,
            to,
            id_tag,
        };
        Ok((filter, paging))
    }
}

/// Charging records, newest first.
#[utoipa::path(get, path = "/v1/charging-records", tag = "console", security(("bearer" = [])), params(RecordQuery),
    responses(
        (status = 200, description = "a page of records", body = Envelope<ListPage<RecordView>>),
        (status = 422, description = "bad filter", body = Failure),
    ))]
pub async fn list_records(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<RecordQuery>,
) -> ApiResult<ListPage<RecordView>> {
    let (filter, paging) = q.try_into()?;
    Ok(Reply::ok(
        domain.console.list_records(&caller, filter, paging).await?,
    ))
}

/// One charging record.
#[utoipa::path(get, path = "/v1/charging-records/{id}", tag = "console", security(("bearer" = [])),
    params(("id" = String, Path, description = "record id")),
    responses(
        (status = 200, description = "the record", body = Envelope<RecordView>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn get_record(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<RecordId>,
) -> ApiResult<RecordView> {
    Ok(Reply::ok(domain.console.record_detail(&caller, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnergyParams {
    /// Default hour.
    #[param(value_type = Option<Granularity>)]
    pub granularity: Option<String>,
    /// Default: one day, 30 days or 12 months before `to`.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Default now.
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Exactly one of site_id and device_id.
    #[param(format = Uuid)]
    pub site_id: Option<String>,
    #[param(format = Uuid)]
    pub device_id: Option<String>,
}

/// An aggregate's query (energy, revenue): granularity, range and scope,
/// every field's problem named.
type Aggregate = (
    Option<Granularity>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<SiteId>,
    Option<DeviceId>,
);

fn aggregate(
    granularity: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    site_id: Option<&str>,
    device_id: Option<&str>,
) -> Result<Aggregate, Error> {
    (
        optional(granularity, |g| one_of::<Granularity>(g, "granularity")),
        optional(from, |t| time(t, "from")),
        optional(to, |t| time(t, "to")),
        optional(site_id, |s| id::<SiteId>(s, "site_id")),
        optional(device_id, |s| id::<DeviceId>(s, "device_id")),
    )
        .all()
}

impl TryFrom<EnergyParams> for EnergyQuery {
    type Error = Error;

    fn try_from(q: EnergyParams) -> Result<Self, Error> {
        let (granularity, from, to, site, device) = aggregate(
            q.granularity.as_deref(),
            q.from.as_deref(),
            q.to.as_deref(),
            q.site_id.as_deref(),
            q.device_id.as_deref(),
        )?;
        let target = match (site, device) {
            (Some(site), None) => EnergyTarget::Site(site),
            (None, Some(device)) => EnergyTarget::Device(device),
            _ => {
                return Err(Error::invalid(
                    "site_id",
                    "give exactly one of site_id or device_id",
                ));
            }
        };
        Ok(Self {
            granularity: granularity.unwrap_or_default(),
            from,
            to,
            target,
        })
    }
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
    Ok(Reply::ok(
        domain.console.energy(&caller, q.try_into()?).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevenueParams {
    /// `day` (default) or `month`; days and months are UTC.
    #[param(value_type = Option<Granularity>)]
    pub granularity: Option<String>,
    /// Default: 30 days or 12 months before `to`.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Default now.
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// At most one of site_id and device_id; neither is the whole fleet.
    #[param(format = Uuid)]
    pub site_id: Option<String>,
    #[param(format = Uuid)]
    pub device_id: Option<String>,
}

impl TryFrom<RevenueParams> for RevenueQuery {
    type Error = Error;

    fn try_from(q: RevenueParams) -> Result<Self, Error> {
        let (granularity, from, to, site_id, device_id) = aggregate(
            q.granularity.as_deref(),
            q.from.as_deref(),
            q.to.as_deref(),
            q.site_id.as_deref(),
            q.device_id.as_deref(),
        )?;
        Ok(Self {
            granularity,
            from,
            to,
            site_id,
            device_id,
        })
    }
}

/// Revenue of priced sessions per currency, from pre-aggregated buckets.
#[utoipa::path(get, path = "/v1/aggregated/revenue", tag = "console", security(("bearer" = [])), params(RevenueParams),
    responses(
        (status = 200, description = "the series", body = Envelope<RevenueSeries>),
        (status = 404, description = "site or device not visible to the caller", body = Failure),
        (status = 422, description = "bad range or scope", body = Failure),
    ))]
pub async fn revenue(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<RevenueParams>,
) -> ApiResult<RevenueSeries> {
    Ok(Reply::ok(
        domain.console.revenue(&caller, q.try_into()?).await?,
    ))
}

/// Firmware adoption per model.
#[utoipa::path(get, path = "/v1/firmware/versions", tag = "console", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "adoption", body = Envelope<FirmwarePage>),
        (status = 401, description = "no valid token", body = Failure),
        (status = 422, description = "bad paging", body = Failure),
    ))]
pub async fn firmware_versions(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<FirmwarePage> {
    Ok(Reply::ok(
        domain
            .console
            .firmware_versions(&caller, (&q).try_into()?)
            .await?,
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
    Id(id): Id<CommandId>,
) -> ApiResult<CommandDetail> {
    Ok(Reply::ok(domain.console.command_detail(&caller, id).await?))
}

/// The charger model catalogue merged with the models of the caller's fleet.
#[utoipa::path(get, path = "/v1/models", tag = "console", security(("bearer" = [])),
    responses(
        (status = 200, description = "models", body = Envelope<ModelPage>),
        (status = 401, description = "no valid token", body = Failure),
    ))]
pub async fn models(
    State(domain): State<Domain>,
    Console(caller): Console,
) -> ApiResult<ModelPage> {
    Ok(Reply::ok(domain.console.models(&caller).await?))
}
