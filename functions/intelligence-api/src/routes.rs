//! Intelligence routes: parse, call the domain, wrap the envelope.

use crate::answer::Answer;
use api::{ApiResult, Console, Envelope, ErrorEnvelope, Id, JsonBody, QueryParams, Reply};
use axum::extract::State;
use chrono::NaiveDate;
use domain::Domain;
use domain::console::Paging;
use domain::console::views::ListPage;
use domain::intelligence::Scope;
use domain::intelligence::agents::{AgentId, AgentView, RunAnswer};
use domain::intelligence::anomalies::{Anomaly, AnomalyKind, AnomalyQuery, Severity};
use domain::intelligence::ask::{MAX_QUESTION, Question};
use domain::intelligence::briefing::{Briefing, BriefingQuery};
use domain::intelligence::forecast::{
    DEFAULT_HISTORY_DAYS, DEFAULT_HORIZON, Forecast, ForecastQuery, MAX_HISTORY_DAYS, MAX_HORIZON,
    MIN_HISTORY_DAYS,
};
use domain::intelligence::health::{
    DEFAULT_WINDOW_HOURS, HealthQuery, HealthScore, MAX_WINDOW_HOURS,
};
use kernel::Error;
use kernel::ids::{DeviceId, OperatorId, SiteId};
use kernel::input::{AllFields, Parsed, check, id, one_of, optional, text, time};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

type Failure = ErrorEnvelope;

/// The three parts of a scope, each parsed on its own.
type ScopeFields = (
    Parsed<Option<OperatorId>>,
    Parsed<Option<SiteId>>,
    Parsed<Option<DeviceId>>,
);

fn scope(operator: Option<&str>, site: Option<&str>, device: Option<&str>) -> ScopeFields {
    (
        optional(operator, |o| id::<OperatorId>(o, "operator_id")),
        optional(site, |s| id::<SiteId>(s, "site_id")),
        optional(device, |d| id::<DeviceId>(d, "device_id")),
    )
}

fn whole(value: Option<i64>, default: u32, (lo, hi): (u32, u32), field: &str) -> Parsed<u32> {
    let value = value.unwrap_or(i64::from(default));
    check(
        (i64::from(lo)..=i64::from(hi)).contains(&value),
        field,
        &format!("must be {lo}..{hi}"),
    )?;
    Ok(value as u32)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HealthParams {
    /// Admins, and clients of several operators: whose fleet.
    pub operator_id: Option<String>,
    #[param(format = Uuid)]
    pub site_id: Option<String>,
    #[param(format = Uuid)]
    pub device_id: Option<String>,
    /// Hours back from now (default 168).
    #[param(minimum = 1, maximum = 2160)]
    pub window_hours: Option<i64>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub size: Option<i64>,
}

impl TryFrom<HealthParams> for (HealthQuery, Paging) {
    type Error = Error;

    fn try_from(q: HealthParams) -> Result<Self, Error> {
        let (operator, site, device) = scope(
            q.operator_id.as_deref(),
            q.site_id.as_deref(),
            q.device_id.as_deref(),
        );
        let (operator, site, device, window_hours) = (
            operator,
            site,
            device,
            whole(
                q.window_hours,
                DEFAULT_WINDOW_HOURS,
                (1, MAX_WINDOW_HOURS),
                "window_hours",
            ),
        )
            .all()?;
        let paging = Paging::parse(q.page, q.size)?;
        Ok((
            HealthQuery {
                scope: Scope {
                    operator,
                    site,
                    device,
                },
                window_hours,
            },
            paging,
        ))
    }
}

/// Health scores per device, worst first.
#[utoipa::path(get, path = "/v1/intelligence/health-scores", tag = "intelligence", security(("bearer" = [])), params(HealthParams),
    responses(
        (status = 200, description = "a page of scores", body = Envelope<ListPage<HealthScore>>),
        (status = 401, description = "no valid token", body = Failure),
        (status = 404, description = "site, device or operator not visible to the caller", body = Failure),
        (status = 422, description = "bad window or paging", body = Failure),
    ))]
pub async fn health_scores(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<HealthParams>,
) -> ApiResult<ListPage<HealthScore>> {
    let (query, paging) = q.try_into()?;
    let scores = domain.intelligence.health_scores(&caller, query).await?;
    Ok(Reply::ok(ListPage::slice(scores, paging.page, paging.size)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnomalyParams {
    pub operator_id: Option<String>,
    #[param(format = Uuid)]
    pub site_id: Option<String>,
    #[param(format = Uuid)]
    pub device_id: Option<String>,
    #[param(value_type = Option<AnomalyKind>)]
    pub kind: Option<String>,
    #[param(value_type = Option<Severity>)]
    pub severity: Option<String>,
    /// Default 24 h before `until`.
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// Default now.
    #[param(format = DateTime)]
    pub until: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub size: Option<i64>,
}

impl TryFrom<AnomalyParams> for (AnomalyQuery, Paging) {
    type Error = Error;

    fn try_from(q: AnomalyParams) -> Result<Self, Error> {
        let (operator, site, device) = scope(
            q.operator_id.as_deref(),
            q.site_id.as_deref(),
            q.device_id.as_deref(),
        );
        let (operator, site, device, kind, severity, since, until) = (
            operator,
            site,
            device,
            optional(q.kind.as_deref(), |k| one_of::<AnomalyKind>(k, "kind")),
            optional(q.severity.as_deref(), |s| one_of::<Severity>(s, "severity")),
            optional(q.since.as_deref(), |t| time(t, "since")),
            optional(q.until.as_deref(), |t| time(t, "until")),
        )
            .all()?;
        let paging = Paging::parse(q.page, q.size)?;
        Ok((
            AnomalyQuery {
                scope: Scope {
                    operator,
                    site,
                    device,
                },
                kind,
                severity,
                since,
                until,
            },
            paging,
        ))
    }
}

/// Anomalies found at ingest and by the anomaly-detector agent, newest first.
#[utoipa::path(get, path = "/v1/intelligence/anomalies", tag = "intelligence", security(("bearer" = [])), params(AnomalyParams),
    responses(
        (status = 200, description = "a page of findings", body = Envelope<ListPage<Anomaly>>),
        (status = 401, description = "no valid token", body = Failure),
        (status = 404, description = "site, device or operator not visible to the caller", body = Failure),
        (status = 422, description = "bad filter or paging", body = Failure),
    ))]
pub async fn anomalies(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<AnomalyParams>,
) -> ApiResult<ListPage<Anomaly>> {
    let (query, paging) = q.try_into()?;
    let found = domain.intelligence.anomalies(&caller, query).await?;
    Ok(Reply::ok(ListPage::slice(found, paging.page, paging.size)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForecastParams {
    /// One of site_id and device_id.
    #[param(format = Uuid)]
    pub site_id: Option<String>,
    #[param(format = Uuid)]
    pub device_id: Option<String>,
    /// Hours ahead (default 24).
    #[param(minimum = 1, maximum = 168)]
    pub horizon_hours: Option<i64>,
    /// Days of history to learn from (default 28).
    #[param(minimum = 7, maximum = 90)]
    pub history_days: Option<i64>,
}

impl TryFrom<ForecastParams> for ForecastQuery {
    type Error = Error;

    fn try_from(q: ForecastParams) -> Result<Self, Error> {
        let (_, site, device) = scope(None, q.site_id.as_deref(), q.device_id.as_deref());
        let (site_id, device_id, horizon_hours, history_days) = (
            site,
            device,
            whole(
                q.horizon_hours,
                DEFAULT_HORIZON,
                (1, MAX_HORIZON),
                "horizon_hours",
            ),
            whole(
                q.history_days,
                DEFAULT_HISTORY_DAYS,
                (MIN_HISTORY_DAYS, MAX_HISTORY_DAYS),
                "history_days",
            ),
        )
            .all()?;
        Ok(Self {
            site_id,
            device_id,
            horizon_hours,
            history_days,
        })
    }
}

/// Charged energy per hour ahead, with 80 % intervals and a backtest.
#[utoipa::path(get, path = "/v1/intelligence/forecasts/energy", tag = "intelligence", security(("bearer" = [])), params(ForecastParams),
    responses(
        (status = 200, description = "the forecast, or why there is none", body = Envelope<Forecast>),
        (status = 404, description = "site or device not visible to the caller", body = Failure),
        (status = 422, description = "neither or both of site_id and device_id; bad horizon or history", body = Failure),
    ))]
pub async fn energy_forecast(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<ForecastParams>,
) -> ApiResult<Forecast> {
    Ok(Reply::ok(
        domain
            .intelligence
            .energy_forecast(&caller, q.try_into()?)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UtilizationParams {
    #[param(format = Uuid)]
    pub site_id: Option<String>,
    /// Hours ahead (default 24).
    #[param(minimum = 1, maximum = 168)]
    pub horizon_hours: Option<i64>,
    /// Days of history to learn from (default 28).
    #[param(minimum = 7, maximum = 90)]
    pub history_days: Option<i64>,
}

impl TryFrom<UtilizationParams> for ForecastQuery {
    type Error = Error;

    fn try_from(q: UtilizationParams) -> Result<Self, Error> {
        ForecastParams {
            site_id: q.site_id,
            device_id: None,
            horizon_hours: q.horizon_hours,
            history_days: q.history_days,
        }
        .try_into()
    }
}

/// A site's connector utilization per hour ahead (0..1).
#[utoipa::path(get, path = "/v1/intelligence/forecasts/utilization", tag = "intelligence", security(("bearer" = [])), params(UtilizationParams),
    responses(
        (status = 200, description = "the forecast, or why there is none", body = Envelope<Forecast>),
        (status = 404, description = "site not visible to the caller", body = Failure),
        (status = 422, description = "no site_id; bad horizon or history", body = Failure),
    ))]
pub async fn utilization_forecast(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<UtilizationParams>,
) -> ApiResult<Forecast> {
    Ok(Reply::ok(
        domain
            .intelligence
            .utilization_forecast(&caller, q.try_into()?)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BriefingParams {
    /// `YYYY-MM-DD` (UTC); default yesterday.
    #[param(format = Date)]
    pub date: Option<String>,
    #[param(format = Uuid)]
    pub site_id: Option<String>,
    pub operator_id: Option<String>,
}

impl TryFrom<BriefingParams> for BriefingQuery {
    type Error = Error;

    fn try_from(q: BriefingParams) -> Result<Self, Error> {
        let (operator, site, _) = scope(q.operator_id.as_deref(), q.site_id.as_deref(), None);
        let (operator, site, date) = (
            operator,
            site,
            optional(q.date.as_deref(), |d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    kernel::FieldError::new("date", "must be a date such as 2026-05-10")
                })
            }),
        )
            .all()?;
        Ok(Self {
            scope: Scope {
                operator,
                site,
                device: None,
            },
            date,
        })
    }
}

/// The day's KPIs, comparisons, findings, forecast and actions.
#[utoipa::path(get, path = "/v1/intelligence/daily-briefing", tag = "intelligence", security(("bearer" = [])), params(BriefingParams),
    responses(
        (status = 200, description = "the briefing", body = Envelope<Briefing>),
        (status = 404, description = "site or operator not visible to the caller", body = Failure),
        (status = 422, description = "bad or future date", body = Failure),
    ))]
pub async fn daily_briefing(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<BriefingParams>,
) -> ApiResult<Briefing> {
    Ok(Reply::ok(
        domain
            .intelligence
            .daily_briefing(&caller, q.try_into()?)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OperatorParams {
    /// Admins, and clients of several operators: whose agents.
    pub operator_id: Option<String>,
}

impl TryFrom<OperatorParams> for Scope {
    type Error = Error;

    fn try_from(q: OperatorParams) -> Result<Self, Error> {
        let (operator, _, _) = scope(q.operator_id.as_deref(), None, None);
        let (operator,) = (operator,).all()?;
        Ok(Self {
            operator,
            ..Self::default()
        })
    }
}

/// The agents, their schedules and last runs for the operator.
#[utoipa::path(get, path = "/v1/intelligence/agents", tag = "intelligence", security(("bearer" = [])), params(OperatorParams),
    responses(
        (status = 200, description = "the agents", body = Envelope<ListPage<AgentView>>),
        (status = 401, description = "no valid token", body = Failure),
        (status = 404, description = "operator not visible to the caller", body = Failure),
    ))]
pub async fn agents(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<OperatorParams>,
) -> ApiResult<ListPage<AgentView>> {
    let agents = domain.intelligence.agents(&caller, q.try_into()?).await?;
    let size = agents.len() as u32;
    Ok(Reply::ok(ListPage::slice(agents, 1, size.max(1))))
}

/// Runs an agent now for the operator (operator and admin roles).
#[utoipa::path(post, path = "/v1/intelligence/agents/{agent_id}/run", tag = "intelligence", security(("bearer" = [])),
    params(("agent_id" = AgentId, Path, description = "the agent"), OperatorParams),
    responses(
        (status = 200, description = "the run", body = Envelope<RunAnswer>),
        (status = 403, description = "a viewer", body = Failure),
        (status = 404, description = "no such agent", body = Failure),
    ))]
pub async fn run_agent(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(agent): Id<AgentId>,
    QueryParams(q): QueryParams<OperatorParams>,
) -> ApiResult<RunAnswer> {
    Ok(Reply::ok(
        domain
            .intelligence
            .run_agent(&caller, q.try_into()?, agent)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AskRequest {
    #[schema(min_length = 1, max_length = 500)]
    pub question: String,
    /// Narrows the answer to one site.
    #[schema(format = Uuid)]
    pub site_id: Option<String>,
    /// Admins, and clients of several operators: whose fleet.
    pub operator_id: Option<String>,
}

impl TryFrom<AskRequest> for Question {
    type Error = Error;

    fn try_from(r: AskRequest) -> Result<Self, Error> {
        let (operator, site, _) = scope(r.operator_id.as_deref(), r.site_id.as_deref(), None);
        let (text, operator, site) =
            (text(r.question, MAX_QUESTION, "question"), operator, site).all()?;
        Ok(Self {
            text,
            scope: Scope {
                operator,
                site,
                device: None,
            },
        })
    }
}

/// A question in words, answered from the caller's fleet.
#[utoipa::path(post, path = "/v1/intelligence/ask", tag = "intelligence", security(("bearer" = [])),
    request_body = AskRequest,
    responses(
        (status = 200, description = "the answer, with its data and sources", body = Envelope<Answer>),
        (status = 400, description = "not JSON, or no question", body = Failure),
        (status = 404, description = "site or operator not visible to the caller", body = Failure),
        (status = 422, description = "question empty or over 500 characters", body = Failure),
    ))]
pub async fn ask(
    State(domain): State<Domain>,
    Console(caller): Console,
    JsonBody(body): JsonBody<AskRequest>,
) -> ApiResult<Answer> {
    Ok(Reply::ok(
        domain
            .intelligence
            .ask(&caller, body.try_into()?)
            .await?
            .into(),
    ))
}
