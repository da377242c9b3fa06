//! Configuration profile routes: parse, call the domain, wrap the envelope.

use api::{
    ApiResult, Console, Envelope, ErrorEnvelope, Id, JsonBody, PageQuery, QueryParams, Reply,
};
use axum::extract::State;
use domain::Domain;
use domain::console::Paging;
use domain::console::views::ListPage;
use domain::profiles::{
    AppliedProfile, ApplyTarget, ChargerSettings, HEARTBEAT_INTERVAL_S, METER_INTERVAL_S,
    ProfileDraft, ProfileView,
};
use kernel::Error;
use kernel::ids::{DeviceId, OperatorId, ProfileId, SiteId};
use kernel::input::{AllFields, Parsed, check, id, optional, text};
use serde::Deserialize;
use utoipa::ToSchema;

type Failure = ErrorEnvelope;

/// Defaults of settings a request leaves out.
const DEFAULT_HEARTBEAT_S: i64 = 30;
const DEFAULT_METER_S: i64 = 60;
/// Most devices one apply may name (a site has no such limit).
const MAX_APPLY_DEVICES: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SettingsRequest {
    /// Seconds between heartbeats; default 30.
    #[schema(minimum = 10, maximum = 3600)]
    pub heartbeat_interval_s: Option<i64>,
    /// Seconds between meter values while charging; default 60.
    #[schema(minimum = 5, maximum = 3600)]
    pub meter_interval_s: Option<i64>,
    /// Amperes, 1 up to the model's rated current.
    #[schema(minimum = 1)]
    pub max_current_a: f64,
    /// Charge while the backend is unreachable; default false.
    pub offline_charging: Option<bool>,
    /// Charge without authorisation; default false.
    pub free_vend: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// A model of the catalogue, or null for any model.
    pub model: Option<String>,
    pub settings: SettingsRequest,
    /// The owning operator; default the caller's only operator.
    pub operator_id: Option<String>,
}

fn interval(value: Option<i64>, default: i64, (lo, hi): (u32, u32), field: &str) -> Parsed<u32> {
    let value = value.unwrap_or(default);
    check(
        (i64::from(lo)..=i64::from(hi)).contains(&value),
        field,
        &format!("must be {lo}..{hi} seconds"),
    )?;
    Ok(value as u32)
}

impl TryFrom<ProfileRequest> for ProfileDraft {
    type Error = Error;

    fn try_from(r: ProfileRequest) -> Result<Self, Error> {
        let s = r.settings;
        let (name, model, heartbeat, meter, operator_id) = (
            text(r.name, 64, "name"),
            optional(r.model, |m| text(m, 64, "model")),
            interval(
                s.heartbeat_interval_s,
                DEFAULT_HEARTBEAT_S,
                HEARTBEAT_INTERVAL_S,
                "settings.heartbeat_interval_s",
            ),
            interval(
                s.meter_interval_s,
                DEFAULT_METER_S,
                METER_INTERVAL_S,
                "settings.meter_interval_s",
            ),
            optional(r.operator_id.as_deref(), |o| {
                id::<OperatorId>(o, "operator_id")
            }),
        )
            .all()?;
        Ok(Self {
            name,
            model,
            settings: ChargerSettings {
                heartbeat_interval_s: heartbeat,
                meter_interval_s: meter,
                max_current_a: s.max_current_a,
                offline_charging: s.offline_charging.unwrap_or(false),
                free_vend: s.free_vend.unwrap_or(false),
            },
            operator_id,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ApplyRequest {
    /// Devices to configure (1..100); or give `site_id`.
    pub device_ids: Option<Vec<String>>,
    /// Every device of the site; or give `device_ids`.
    #[schema(format = Uuid)]
    pub site_id: Option<String>,
}

impl TryFrom<ApplyRequest> for ApplyTarget {
    type Error = Error;

    fn try_from(r: ApplyRequest) -> Result<Self, Error> {
        match (r.device_ids, r.site_id) {
            (Some(ids), None) => {
                check(
                    (1..=MAX_APPLY_DEVICES).contains(&ids.len()),
                    "device_ids",
                    "must name 1..100 devices",
                )
                .map_err(|e| Error::Invalid(vec![e]))?;
                let mut parsed = Vec::with_capacity(ids.len());
                for raw in &ids {
                    let device =
                        id::<DeviceId>(raw, "device_ids").map_err(|e| Error::Invalid(vec![e]))?;
                    if !parsed.contains(&device) {
                        parsed.push(device);
                    }
                }
                Ok(Self::Devices(parsed))
            }
            (None, Some(site)) => {
                let (site,) = (id::<SiteId>(&site, "site_id"),).all()?;
                Ok(Self::Site(site))
            }
            _ => Err(Error::invalid(
                "device_ids",
                "give exactly one of device_ids or site_id",
            )),
        }
    }
}

/// Configuration profiles of the caller's operators, with device counts.
#[utoipa::path(get, path = "/v1/configuration/profiles", tag = "configuration",
    security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "a page of profiles", body = Envelope<ListPage<ProfileView>>),
        (status = 401, description = "no valid token", body = Failure),
        (status = 422, description = "bad paging", body = Failure),
    ))]
pub async fn list_profiles(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<ListPage<ProfileView>> {
    let paging: Paging = (&q).try_into()?;
    let all = domain.profiles.list_profiles(&caller).await?;
    Ok(Reply::ok(ListPage::slice(all, paging.page, paging.size)))
}

/// Create a profile (version 1).
#[utoipa::path(post, path = "/v1/configuration/profiles", tag = "configuration",
    security(("bearer" = [])), request_body = ProfileRequest,
    responses(
        (status = 200, description = "the new profile", body = Envelope<ProfileView>),
        (status = 403, description = "role may not change configuration", body = Failure),
        (status = 422, description = "settings outside their bounds or the model's rating", body = Failure),
    ))]
pub async fn create_profile(
    State(domain): State<Domain>,
    Console(caller): Console,
    JsonBody(body): JsonBody<ProfileRequest>,
) -> ApiResult<ProfileView> {
    Ok(Reply::ok(
        domain
            .profiles
            .create_profile(&caller, body.try_into()?)
            .await?,
    ))
}

/// One profile with its device counts.
#[utoipa::path(get, path = "/v1/configuration/profiles/{id}", tag = "configuration",
    security(("bearer" = [])), params(("id" = String, Path, description = "profile id")),
    responses(
        (status = 200, description = "the profile", body = Envelope<ProfileView>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn get_profile(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<ProfileId>,
) -> ApiResult<ProfileView> {
    Ok(Reply::ok(
        domain.profiles.profile_detail(&caller, id).await?,
    ))
}

/// Replace a profile's name, model and settings; its version goes up by 1.
#[utoipa::path(put, path = "/v1/configuration/profiles/{id}", tag = "configuration",
    security(("bearer" = [])), request_body = ProfileRequest,
    params(("id" = String, Path, description = "profile id")),
    responses(
        (status = 200, description = "the profile's new version", body = Envelope<ProfileView>),
        (status = 404, description = "not visible to the caller", body = Failure),
        (status = 409, description = "changed concurrently", body = Failure),
        (status = 422, description = "settings outside their bounds or the model's rating", body = Failure),
    ))]
pub async fn update_profile(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<ProfileId>,
    JsonBody(body): JsonBody<ProfileRequest>,
) -> ApiResult<ProfileView> {
    Ok(Reply::ok(
        domain
            .profiles
            .update_profile(&caller, id, body.try_into()?)
            .await?,
    ))
}

/// Queue `apply_configuration` of the current version for devices or a site.
#[utoipa::path(post, path = "/v1/configuration/profiles/{id}/apply", tag = "configuration",
    security(("bearer" = [])), request_body = ApplyRequest,
    params(("id" = String, Path, description = "profile id")),
    responses(
        (status = 202, description = "one command per device", body = Envelope<AppliedProfile>),
        (status = 403, description = "role may not change configuration", body = Failure),
        (status = 404, description = "no such profile, device or site", body = Failure),
        (status = 422, description = "a device of another model or rated below the profile", body = Failure),
    ))]
pub async fn apply_profile(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<ProfileId>,
    JsonBody(body): JsonBody<ApplyRequest>,
) -> ApiResult<AppliedProfile> {
    Ok(Reply::accepted(
        domain
            .profiles
            .apply_profile(&caller, id, body.try_into()?)
            .await?,
    ))
}
