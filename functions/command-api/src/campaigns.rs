//! Firmware campaign routes: parse, call the domain, wrap the envelope.

use api::PageQuery;
use api::{ApiResult, Console, Envelope, ErrorEnvelope, Id, JsonBody, QueryParams, Reply};
use axum::extract::State;
use domain::Domain;
use domain::campaigns::waves::{DEFAULT_FAILURE_THRESHOLD_PCT, DEFAULT_WAVES, parse_waves};
use domain::campaigns::{CampaignAction, CampaignDraft, CampaignView};
use domain::console::Paging;
use domain::console::views::ListPage;
use kernel::Error;
use kernel::ids::{CampaignId, OperatorId, SiteId};
use kernel::input::{AllFields, check, id, optional, text};
use serde::Deserialize;
use utoipa::ToSchema;

type Failure = ErrorEnvelope;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CampaignRequest {
    #[schema(example = "TP-AC22", min_length = 1, max_length = 64)]
    pub model: String,
    #[schema(example = "260122.1606", min_length = 1, max_length = 64)]
    pub target_version: String,
    /// http(s) URL of the image.
    #[schema(example = "https://firmware.example.com/tp-ac22.bin", max_length = 512)]
    pub firmware_url: String,
    /// Only the devices of this site.
    #[schema(format = Uuid)]
    pub site_id: Option<String>,
    /// Cumulative percentages of the eligible devices; default [10, 50, 100].
    pub waves: Option<Vec<i64>>,
    /// Failures (% of devices with an outcome) above which the campaign
    /// pauses after a wave; default 10.
    #[schema(minimum = 0, maximum = 100)]
    pub failure_threshold_pct: Option<i64>,
    /// The operator whose devices; default the caller's only operator.
    pub operator_id: Option<String>,
}

impl TryFrom<CampaignRequest> for CampaignDraft {
    type Error = Error;

    fn try_from(r: CampaignRequest) -> Result<Self, Error> {
        let url_ok = kernel::input::web_url(&r.firmware_url).is_some();
        let threshold = r
            .failure_threshold_pct
            .unwrap_or(i64::from(DEFAULT_FAILURE_THRESHOLD_PCT));
        let (model, target_version, _, site_id, waves, _, operator_id) = (
            text(r.model, 64, "model"),
            kernel::input::firmware_version(r.target_version, "target_version"),
            check(
                url_ok,
                "firmware_url",
                "must be an absolute http(s) URL of the image with a host, at most 512 characters",
            ),
            optional(r.site_id.as_deref(), |s| id::<SiteId>(s, "site_id")),
            match &r.waves {
                Some(w) => parse_waves(w),
                None => Ok(DEFAULT_WAVES.to_vec()),
            },
            check(
                (0..=100).contains(&threshold),
                "failure_threshold_pct",
                "must be 0..100",
            ),
            optional(r.operator_id.as_deref(), |o| {
                id::<OperatorId>(o, "operator_id")
            }),
        )
            .all()?;
        Ok(Self {
            model,
            target_version,
            firmware_url: r.firmware_url,
            site_id,
            waves,
            failure_threshold_pct: threshold as u8,
            operator_id,
        })
    }
}

/// Start a campaign: its first wave is sent at once.
#[utoipa::path(post, path = "/v1/firmware/campaigns", tag = "firmware",
    security(("bearer" = [])), request_body = CampaignRequest,
    responses(
        (status = 202, description = "the campaign, first wave sent", body = Envelope<CampaignView>),
        (status = 403, description = "role may not update firmware", body = Failure),
        (status = 404, description = "no such site", body = Failure),
        (status = 422, description = "bad waves, threshold or URL, or no eligible device", body = Failure),
    ))]
pub async fn create_campaign(
    State(domain): State<Domain>,
    Console(caller): Console,
    JsonBody(body): JsonBody<CampaignRequest>,
) -> ApiResult<CampaignView> {
    Ok(Reply::accepted(
        domain
            .campaigns
            .create_campaign(&caller, body.try_into()?)
            .await?,
    ))
}

/// Campaigns of the caller's operators, newest first.
#[utoipa::path(get, path = "/v1/firmware/campaigns", tag = "firmware",
    security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "a page of campaigns", body = Envelope<ListPage<CampaignView>>),
        (status = 401, description = "no valid token", body = Failure),
        (status = 422, description = "bad paging", body = Failure),
    ))]
pub async fn list_campaigns(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<ListPage<CampaignView>> {
    let paging: Paging = (&q).try_into()?;
    let all = domain.campaigns.list_campaigns(&caller).await?;
    Ok(Reply::ok(ListPage::slice(all, paging.page, paging.size)))
}

/// One campaign with its progress counts.
#[utoipa::path(get, path = "/v1/firmware/campaigns/{id}", tag = "firmware",
    security(("bearer" = [])), params(("id" = String, Path, description = "campaign id")),
    responses(
        (status = 200, description = "the campaign", body = Envelope<CampaignView>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn get_campaign(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<CampaignId>,
) -> ApiResult<CampaignView> {
    Ok(Reply::ok(
        domain.campaigns.campaign_detail(&caller, id).await?,
    ))
}

async fn act(
    domain: &Domain,
    caller: &kernel::access::Caller,
    id: CampaignId,
    action: CampaignAction,
) -> ApiResult<CampaignView> {
    Ok(Reply::ok(
        domain.campaigns.campaign_action(caller, id, action).await?,
    ))
}

/// Pause a running campaign: devices updating finish, no new wave starts.
#[utoipa::path(post, path = "/v1/firmware/campaigns/{id}/pause", tag = "firmware",
    security(("bearer" = [])), params(("id" = String, Path, description = "campaign id")),
    responses(
        (status = 200, description = "paused", body = Envelope<CampaignView>),
        (status = 404, description = "not visible to the caller", body = Failure),
        (status = 409, description = "not running", body = Failure),
    ))]
pub async fn pause_campaign(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<CampaignId>,
) -> ApiResult<CampaignView> {
    act(&domain, &caller, id, CampaignAction::Pause).await
}

/// Resume a paused campaign, accepting the failures of the wave it stopped after.
#[utoipa::path(post, path = "/v1/firmware/campaigns/{id}/resume", tag = "firmware",
    security(("bearer" = [])), params(("id" = String, Path, description = "campaign id")),
    responses(
        (status = 200, description = "running again", body = Envelope<CampaignView>),
        (status = 404, description = "not visible to the caller", body = Failure),
        (status = 409, description = "not paused", body = Failure),
    ))]
pub async fn resume_campaign(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<CampaignId>,
) -> ApiResult<CampaignView> {
    act(&domain, &caller, id, CampaignAction::Resume).await
}

/// Cancel a campaign: no device not yet sent the update gets it.
#[utoipa::path(post, path = "/v1/firmware/campaigns/{id}/cancel", tag = "firmware",
    security(("bearer" = [])), params(("id" = String, Path, description = "campaign id")),
    responses(
        (status = 200, description = "cancelled", body = Envelope<CampaignView>),
        (status = 404, description = "not visible to the caller", body = Failure),
        (status = 409, description = "already completed or cancelled", body = Failure),
    ))]
pub async fn cancel_campaign(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<CampaignId>,
) -> ApiResult<CampaignView> {
    act(&domain, &caller, id, CampaignAction::Cancel).await
}
