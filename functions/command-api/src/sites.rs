//! `PATCH /v1/sites/:id` (contract §14, §16): a site's description and its
//! load management, each field checked for its shape here and for its
//! meaning (country, time zone, capacities) in the domain.

use api::{ApiResult, Console, Envelope, ErrorEnvelope, Id, JsonBody, Reply};
use axum::extract::State;
use domain::Domain;
use domain::console::views::SiteDetail;
use domain::sites::SiteChanges;
use kernel::Error;
use kernel::ids::SiteId;
use kernel::input::{Problems, representable, short_text, text};
use kernel::model::LoadManagement;
use serde::Deserialize;
use utoipa::ToSchema;

type Failure = ErrorEnvelope;

/// Every field is optional; what is left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    #[schema(min_length = 1, max_length = 128)]
    pub name: Option<String>,
    #[schema(max_length = 256)]
    pub address: Option<String>,
    #[schema(max_length = 16)]
    pub postcode: Option<String>,
    #[schema(max_length = 128)]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-3, e.g. `GBR`.
    #[schema(example = "GBR")]
    pub country: Option<String>,
    /// IANA, e.g. `Europe/London`; tariffs' restrictions are read in it.
    #[schema(example = "Europe/London")]
    pub time_zone: Option<String>,
    /// kW, the grid connection.
    #[schema(minimum = 0, maximum = 100000)]
    pub power_capacity: Option<f64>,
    /// Sharing the connection among the site's sessions (contract §16).
    pub load_management: Option<LoadManagementPatch>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadManagementPatch {
    pub enabled: bool,
    /// kW; default the site's `power_capacity`.
    #[schema(minimum = 0, maximum = 100000)]
    pub capacity_kw: Option<f64>,
    /// kW each session needs at least; default 1.4.
    #[schema(minimum = 0)]
    pub min_session_kw: Option<f64>,
    /// kW kept free; default 0.
    #[schema(minimum = 0)]
    pub reserve_kw: Option<f64>,
}

impl TryFrom<SitePatch> for SiteChanges {
    type Error = Error;

    fn try_from(r: SitePatch) -> Result<Self, Error> {
        let mut p = Problems::default();
        let mut kept = |parsed: kernel::input::Parsed<String>| {
            parsed.map_err(|e| p.add(&e.field, e.problem)).ok()
        };
        let changes = SiteChanges {
            name: r.name.and_then(|v| kept(text(v, 128, "name"))),
            address: r.address.and_then(|v| kept(short_text(v, 256, "address"))),
            postcode: r.postcode.and_then(|v| kept(short_text(v, 16, "postcode"))),
            city: r.city.and_then(|v| kept(short_text(v, 128, "city"))),
            country: r.country,
            time_zone: r.time_zone,
            power_capacity: r.power_capacity,
            load_management: r.load_management.map(|lm| LoadManagement {
                enabled: lm.enabled,
                capacity_kw: lm.capacity_kw,
                min_session_kw: lm.min_session_kw,
                reserve_kw: lm.reserve_kw,
            }),
        };
        if let Some(c) = &changes.country
            && !(c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            p.add(
                "country",
                "must be 3 upper-case letters (ISO 3166-1 alpha-3)",
            );
        }
        if let Some(kw) = changes.power_capacity
            && !(representable(kw) && kw > 0.0 && kw <= 100_000.0)
        {
            p.add(
                "power_capacity",
                "must be a number above 0 and at most 100000",
            );
        }
        p.finish()?;
        Ok(changes)
    }
}

/// Change a site's name, address, country, time zone or capacity.
#[utoipa::path(patch, path = "/v1/sites/{id}", tag = "sites",
    security(("bearer" = [])), request_body = SitePatch,
    params(("id" = String, Path, description = "site id")),
    responses(
        (status = 200, description = "the site as it is now", body = Envelope<SiteDetail>),
        (status = 403, description = "role may not change sites", body = Failure),
        (status = 404, description = "not visible to the caller", body = Failure),
        (status = 409, description = "changed concurrently", body = Failure),
        (status = 422, description = "a field breaks its rule (named in errors)", body = Failure),
    ))]
pub async fn update_site(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<SiteId>,
    JsonBody(body): JsonBody<SitePatch>,
) -> ApiResult<SiteDetail> {
    let site = domain
        .sites
        .update_site(&caller, id, body.try_into()?)
        .await?;
    domain.loads.site_changed(&site).await?;
    Ok(Reply::ok(domain.console.site_detail(&caller, id).await?))
}
