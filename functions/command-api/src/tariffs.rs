//! Tariff routes (contract §14): parse and check every field, call the
//! domain, wrap the envelope.

use api::{ApiResult, Console, Envelope, ErrorEnvelope, Id, JsonBody, QueryParams, Reply};
use axum::extract::State;
use chrono::{NaiveDate, NaiveTime, Weekday};
use domain::Domain;
use domain::console::Paging;
use domain::console::views::ListPage;
use domain::tariffs::{PriceType, TariffDraft, TariffFilter, TariffView};
use kernel::Error;
use kernel::ids::{DeviceId, OperatorId, SiteId, TariffId};
use kernel::input::{Problems, currency_ok, id, representable, text, time};
use pricing::{Decimal, Element, PriceComponent, Restrictions, TariffContent};
use serde::Deserialize;
use std::str::FromStr;
use utoipa::{IntoParams, ToSchema};

type Failure = ErrorEnvelope;

const MAX_ELEMENTS: usize = 20;
const MAX_COMPONENTS: usize = 4;
/// No price per unit is above this (a typo, not a tariff).
const MAX_PRICE: f64 = 1000.0;
/// Steps above a day's seconds or 100 kWh are no steps a driver would pay.
const MAX_STEP: i64 = 100_000;
const MAX_DURATION_S: i64 = 366 * 86_400;
const MAX_KWH: f64 = 100_000.0;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ComponentRequest {
    #[serde(rename = "type")]
    #[schema(value_type = PriceType)]
    pub kind: String,
    /// Excluding VAT: per kWh (ENERGY), per hour (TIME, PARKING_TIME), per
    /// session (FLAT).
    #[schema(minimum = 0, maximum = 1000)]
    pub price: f64,
    /// Wh for ENERGY, seconds for TIME and PARKING_TIME; default 1.
    #[schema(minimum = 1)]
    pub step_size: Option<i64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RestrictionsRequest {
    /// `HH:MM`, the site's local time, inclusive.
    #[schema(example = "22:00")]
    pub start_time: Option<String>,
    /// `HH:MM`, exclusive; before `start_time` spans midnight.
    #[schema(example = "06:00")]
    pub end_time: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    #[schema(format = Date)]
    pub start_date: Option<String>,
    /// `YYYY-MM-DD`, exclusive.
    #[schema(format = Date)]
    pub end_date: Option<String>,
    /// `MONDAY` … `SUNDAY`.
    pub day_of_week: Option<Vec<String>>,
    #[schema(minimum = 0)]
    pub min_kwh: Option<f64>,
    #[schema(minimum = 0)]
    pub max_kwh: Option<f64>,
    /// Seconds.
    #[schema(minimum = 0)]
    pub min_duration: Option<i64>,
    /// Seconds.
    #[schema(minimum = 0)]
    pub max_duration: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ElementRequest {
    pub price_components: Vec<ComponentRequest>,
    pub restrictions: Option<RestrictionsRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TariffRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// ISO 4217, e.g. `GBP`.
    #[schema(example = "GBP")]
    pub currency: String,
    /// 0..100; default 0.
    #[schema(minimum = 0, maximum = 100)]
    pub vat_percent: Option<f64>,
    /// 1..20 elements; in each period, per dimension, the first whose
    /// restrictions hold prices it.
    pub elements: Vec<ElementRequest>,
    /// The site it applies to; give neither this nor `device_id` for the
    /// operator's whole fleet.
    #[schema(format = Uuid)]
    pub site_id: Option<String>,
    /// The device it applies to.
    #[schema(format = Uuid)]
    pub device_id: Option<String>,
    #[schema(format = DateTime)]
    pub valid_from: Option<String>,
    /// Exclusive.
    #[schema(format = DateTime)]
    pub valid_to: Option<String>,
    /// The owning operator; default the caller's only operator.
    pub operator_id: Option<String>,
}

/// The parsed value, or its problem noted.
fn noted<T>(p: &mut Problems, parsed: kernel::input::Parsed<T>) -> Option<T> {
    parsed.map_err(|e| p.add(&e.field, e.problem)).ok()
}

/// A decimal as the client wrote it (the shortest text of the number).
fn decimal(value: f64) -> Option<Decimal> {
    representable(value)
        .then(|| Decimal::from_str(&value.to_string()).ok())
        .flatten()
}

fn amount(value: f64, hi: f64, field: &str, p: &mut Problems) -> Decimal {
    match decimal(value).filter(|_| (0.0..=hi).contains(&value)) {
        Some(d) => d,
        None => {
            p.add(field, format!("must be a number from 0 to {hi}"));
            Decimal::ZERO
        }
    }
}

fn weekday(raw: &str) -> Option<Weekday> {
    Some(match raw {
        "MONDAY" => Weekday::Mon,
        "TUESDAY" => Weekday::Tue,
        "WEDNESDAY" => Weekday::Wed,
        "THURSDAY" => Weekday::Thu,
        "FRIDAY" => Weekday::Fri,
        "SATURDAY" => Weekday::Sat,
        "SUNDAY" => Weekday::Sun,
        _ => return None,
    })
}

fn clock_time(raw: Option<String>, field: &str, p: &mut Problems) -> Option<NaiveTime> {
    let raw = raw?;
    let parsed = (raw.len() == 5)
        .then(|| NaiveTime::parse_from_str(&raw, "%H:%M").ok())
        .flatten();
    if parsed.is_none() {
        p.add(field, "must be a time HH:MM (00:00 to 23:59)");
    }
    parsed
}

fn date(raw: Option<String>, field: &str, p: &mut Problems) -> Option<NaiveDate> {
    let raw = raw?;
    let parsed = (raw.len() == 10)
        .then(|| NaiveDate::parse_from_str(&raw, "%Y-%m-%d").ok())
        .flatten();
    if parsed.is_none() {
        p.add(field, "must be a date YYYY-MM-DD");
    }
    parsed
}

fn restrictions(r: RestrictionsRequest, at: &str, p: &mut Problems) -> Restrictions {
    let field = |name: &str| format!("{at}.{name}");
    let mut days = Vec::new();
    for (i, raw) in r.day_of_week.unwrap_or_default().iter().enumerate() {
        match weekday(raw) {
            Some(d) if !days.contains(&d) => days.push(d),
            Some(_) => p.add(&field(&format!("day_of_week[{i}]")), "is given twice"),
            None => p.add(
                &field(&format!("day_of_week[{i}]")),
                "must be MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY or SUNDAY",
            ),
        }
    }
    let kwh = |v: Option<f64>, name: &str, p: &mut Problems| {
        v.map(|v| amount(v, MAX_KWH, &field(name), p))
    };
    let seconds = |v: Option<i64>, name: &str, p: &mut Problems| {
        if v.is_some_and(|v| !(0..=MAX_DURATION_S).contains(&v)) {
            p.add(&field(name), format!("must be 0..{MAX_DURATION_S} seconds"));
        }
        v
    };
    let out = Restrictions {
        start_time: clock_time(r.start_time, &field("start_time"), p),
        end_time: clock_time(r.end_time, &field("end_time"), p),
        start_date: date(r.start_date, &field("start_date"), p),
        end_date: date(r.end_date, &field("end_date"), p),
        day_of_week: days,
        min_kwh: kwh(r.min_kwh, "min_kwh", p),
        max_kwh: kwh(r.max_kwh, "max_kwh", p),
        min_duration: seconds(r.min_duration, "min_duration", p),
        max_duration: seconds(r.max_duration, "max_duration", p),
    };
    if let (Some(lo), Some(hi)) = (out.start_date, out.end_date)
        && hi <= lo
    {
        p.add(&field("end_date"), "must be after start_date");
    }
    if let (Some(lo), Some(hi)) = (out.min_kwh, out.max_kwh)
        && hi <= lo
    {
        p.add(&field("max_kwh"), "must be above min_kwh");
    }
    if let (Some(lo), Some(hi)) = (out.min_duration, out.max_duration)
        && hi <= lo
    {
        p.add(&field("max_duration"), "must be above min_duration");
    }
    out
}

fn element(e: ElementRequest, at: &str, p: &mut Problems) -> Element {
    let count = e.price_components.len();
    if !(1..=MAX_COMPONENTS).contains(&count) {
        p.add(
            &format!("{at}.price_components"),
            format!("must hold 1..{MAX_COMPONENTS} components"),
        );
    }
    let mut components: Vec<PriceComponent> = Vec::new();
    for (i, c) in e.price_components.into_iter().enumerate() {
        let here = format!("{at}.price_components[{i}]");
        let kind = PriceType::from_str(&c.kind).ok();
        if kind.is_none() {
            p.add(
                &format!("{here}.type"),
                "must be ENERGY, TIME, PARKING_TIME or FLAT",
            );
        }
        let step = c.step_size.unwrap_or(1);
        if !(1..=MAX_STEP).contains(&step) {
            p.add(
                &format!("{here}.step_size"),
                format!("must be 1..{MAX_STEP}"),
            );
        }
        let price = amount(c.price, MAX_PRICE, &format!("{here}.price"), p);
        if let Some(kind) = kind {
            let dimension = kind.into();
            if components.iter().any(|c| c.dimension == dimension) {
                p.add(&format!("{here}.type"), "is given twice in this element");
            }
            components.push(PriceComponent {
                dimension,
                price,
                step_size: u32::try_from(step.clamp(1, MAX_STEP)).unwrap_or(1),
            });
        }
    }
    Element {
        price_components: components,
        restrictions: e
            .restrictions
            .map(|r| restrictions(r, &format!("{at}.restrictions"), p)),
    }
}

impl TryFrom<TariffRequest> for TariffDraft {
    type Error = Error;

    fn try_from(r: TariffRequest) -> Result<Self, Error> {
        let mut p = Problems::default();
        let name = noted(&mut p, text(r.name, 64, "name"));
        if !currency_ok(&r.currency) {
            p.add("currency", "must be 3 upper-case letters (ISO 4217)");
        }
        let vat = amount(r.vat_percent.unwrap_or(0.0), 100.0, "vat_percent", &mut p);
        if !(1..=MAX_ELEMENTS).contains(&r.elements.len()) {
            p.add("elements", format!("must hold 1..{MAX_ELEMENTS} elements"));
        }
        let elements: Vec<Element> = r
            .elements
            .into_iter()
            .enumerate()
            .map(|(i, e)| element(e, &format!("elements[{i}]"), &mut p))
            .collect();
        let site_id = r
            .site_id
            .as_deref()
            .and_then(|s| noted(&mut p, id::<SiteId>(s, "site_id")));
        let device_id = r
            .device_id
            .as_deref()
            .and_then(|s| noted(&mut p, id::<DeviceId>(s, "device_id")));
        if r.site_id.is_some() && r.device_id.is_some() {
            p.add("device_id", "give site_id or device_id, not both");
        }
        let valid_from = r
            .valid_from
            .as_deref()
            .and_then(|s| noted(&mut p, time(s, "valid_from")));
        let valid_to = r
            .valid_to
            .as_deref()
            .and_then(|s| noted(&mut p, time(s, "valid_to")));
        if let (Some(from), Some(to)) = (valid_from, valid_to)
            && to <= from
        {
            p.add("valid_to", "must be after valid_from");
        }
        let operator_id = r
            .operator_id
            .as_deref()
            .and_then(|s| noted(&mut p, id::<OperatorId>(s, "operator_id")));
        p.finish()?;
        Ok(Self {
            name: name.unwrap_or_default(),
            content: TariffContent {
                currency: r.currency,
                vat_percent: vat,
                elements,
            },
            site_id,
            device_id,
            valid_from,
            valid_to,
            operator_id,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TariffQuery {
    /// Tariffs of this site.
    #[param(format = Uuid)]
    pub site_id: Option<String>,
    /// Tariffs of this device.
    #[param(format = Uuid)]
    pub device_id: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub size: Option<i64>,
}

impl TryFrom<TariffQuery> for (TariffFilter, Paging) {
    type Error = Error;

    fn try_from(q: TariffQuery) -> Result<Self, Error> {
        let mut p = Problems::default();
        let site_id = q
            .site_id
            .as_deref()
            .and_then(|s| noted(&mut p, id::<SiteId>(s, "site_id")));
        let device_id = q
            .device_id
            .as_deref()
            .and_then(|s| noted(&mut p, id::<DeviceId>(s, "device_id")));
        p.finish()?;
        Ok((
            TariffFilter { site_id, device_id },
            Paging::parse(q.page, q.size)?,
        ))
    }
}

/// Create a tariff.
#[utoipa::path(post, path = "/v1/tariffs", tag = "tariffs",
    security(("bearer" = [])), request_body = TariffRequest,
    responses(
        (status = 201, description = "the new tariff", body = Envelope<TariffView>),
        (status = 403, description = "role may not change tariffs", body = Failure),
        (status = 404, description = "no such site or device", body = Failure),
        (status = 409, description = "a tariff of the same scope is valid at the same time", body = Failure),
        (status = 422, description = "a field breaks its rule (named in errors)", body = Failure),
    ))]
pub async fn create_tariff(
    State(domain): State<Domain>,
    Console(caller): Console,
    JsonBody(body): JsonBody<TariffRequest>,
) -> ApiResult<TariffView> {
    Ok(Reply::created(
        domain
            .tariffs
            .create_tariff(&caller, body.try_into()?)
            .await?,
    ))
}

/// The caller's operators' tariffs, newest first.
#[utoipa::path(get, path = "/v1/tariffs", tag = "tariffs",
    security(("bearer" = [])), params(TariffQuery),
    responses(
        (status = 200, description = "a page of tariffs", body = Envelope<ListPage<TariffView>>),
        (status = 401, description = "no valid token", body = Failure),
        (status = 422, description = "bad filter or paging", body = Failure),
    ))]
pub async fn list_tariffs(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<TariffQuery>,
) -> ApiResult<ListPage<TariffView>> {
    let (filter, paging) = q.try_into()?;
    Ok(Reply::ok(
        domain.tariffs.list_tariffs(&caller, filter, paging).await?,
    ))
}

/// One tariff.
#[utoipa::path(get, path = "/v1/tariffs/{id}", tag = "tariffs",
    security(("bearer" = [])), params(("id" = String, Path, description = "tariff id")),
    responses(
        (status = 200, description = "the tariff", body = Envelope<TariffView>),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn get_tariff(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<TariffId>,
) -> ApiResult<TariffView> {
    Ok(Reply::ok(domain.tariffs.tariff(&caller, id).await?))
}

/// Replace a tariff; sessions priced before keep their price.
#[utoipa::path(put, path = "/v1/tariffs/{id}", tag = "tariffs",
    security(("bearer" = [])), request_body = TariffRequest,
    params(("id" = String, Path, description = "tariff id")),
    responses(
        (status = 200, description = "the tariff as replaced", body = Envelope<TariffView>),
        (status = 404, description = "not visible to the caller", body = Failure),
        (status = 409, description = "overlapping validity, or changed concurrently", body = Failure),
        (status = 422, description = "a field breaks its rule (named in errors)", body = Failure),
    ))]
pub async fn replace_tariff(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<TariffId>,
    JsonBody(body): JsonBody<TariffRequest>,
) -> ApiResult<TariffView> {
    Ok(Reply::ok(
        domain
            .tariffs
            .replace_tariff(&caller, id, body.try_into()?)
            .await?,
    ))
}

/// Delete a tariff.
#[utoipa::path(delete, path = "/v1/tariffs/{id}", tag = "tariffs",
    security(("bearer" = [])), params(("id" = String, Path, description = "tariff id")),
    responses(
        (status = 200, description = "the tariff deleted", body = Envelope<TariffView>),
        (status = 403, description = "role may not change tariffs", body = Failure),
        (status = 404, description = "not visible to the caller", body = Failure),
    ))]
pub async fn delete_tariff(
    State(domain): State<Domain>,
    Console(caller): Console,
    Id(id): Id<TariffId>,
) -> ApiResult<TariffView> {
    Ok(Reply::ok(domain.tariffs.delete_tariff(&caller, id).await?))
}
