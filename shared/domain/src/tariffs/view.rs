//! A tariff as the routes answer with it: contract §14's shape, amounts as
//! JSON numbers, times `HH:MM`, dates `YYYY-MM-DD`, days `MONDAY`.

use super::Tariff;
use chrono::{DateTime, Utc, Weekday};
use kernel::ids::{DeviceId, SiteId, TariffId};
use pricing::{Decimal, Dimension, Element, PriceComponent, Restrictions};
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

/// What a price component prices (OCPI's names).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum PriceType {
    Energy,
    Time,
    ParkingTime,
    Flat,
}

impl From<Dimension> for PriceType {
    fn from(d: Dimension) -> Self {
        match d {
            Dimension::Energy => Self::Energy,
            Dimension::Time => Self::Time,
            Dimension::ParkingTime => Self::ParkingTime,
            Dimension::Flat => Self::Flat,
        }
    }
}

impl From<PriceType> for Dimension {
    fn from(t: PriceType) -> Self {
        match t {
            PriceType::Energy => Self::Energy,
            PriceType::Time => Self::Time,
            PriceType::ParkingTime => Self::ParkingTime,
            PriceType::Flat => Self::Flat,
        }
    }
}

fn number(d: Decimal) -> f64 {
    d.to_f64().unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentView {
    #[serde(rename = "type")]
    pub kind: PriceType,
    /// Excluding VAT: per kWh (ENERGY), per hour (TIME, PARKING_TIME), per
    /// session (FLAT).
    pub price: f64,
    /// Wh for ENERGY, seconds for TIME and PARKING_TIME.
    pub step_size: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestrictionsView {
    /// `HH:MM`, local time of the site, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// `HH:MM`, exclusive; before `start_time` spans midnight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// `YYYY-MM-DD`, exclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// `MONDAY` … `SUNDAY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_kwh: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_kwh: Option<f64>,
    /// Seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_duration: Option<i64>,
    /// Seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ElementView {
    pub price_components: Vec<ComponentView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<RestrictionsView>,
}

/// A tariff (contract §14).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TariffView {
    pub tariff_id: TariffId,
    pub operator_id: String,
    pub name: String,
    /// ISO 4217.
    pub currency: String,
    pub vat_percent: f64,
    pub elements: Vec<ElementView>,
    /// The site it applies to; null with `device_id` null: the operator's
    /// whole fleet.
    pub site_id: Option<SiteId>,
    /// The device it applies to.
    pub device_id: Option<DeviceId>,
    pub valid_from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub valid_to: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// OCPI's name of a weekday.
pub fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "MONDAY",
        Weekday::Tue => "TUESDAY",
        Weekday::Wed => "WEDNESDAY",
        Weekday::Thu => "THURSDAY",
        Weekday::Fri => "FRIDAY",
        Weekday::Sat => "SATURDAY",
        Weekday::Sun => "SUNDAY",
    }
}

impl From<&PriceComponent> for ComponentView {
    fn from(c: &PriceComponent) -> Self {
        Self {
            kind: c.dimension.into(),
            price: number(c.price),
            step_size: c.step_size,
        }
    }
}

impl From<&Restrictions> for RestrictionsView {
    fn from(r: &Restrictions) -> Self {
        let time = |t: Option<chrono::NaiveTime>| t.map(|t| t.format("%H:%M").to_string());
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
        Self {
            start_time: time(r.start_time),
            end_time: time(r.end_time),
            start_date: date(r.start_date),
            end_date: date(r.end_date),
            day_of_week: (!r.day_of_week.is_empty()).then(|| {
                r.day_of_week
                    .iter()
                    .map(|d| day_name(*d).to_owned())
                    .collect()
            }),
            min_kwh: r.min_kwh.map(number),
            max_kwh: r.max_kwh.map(number),
            min_duration: r.min_duration,
            max_duration: r.max_duration,
        }
    }
}

impl From<&Element> for ElementView {
    fn from(e: &Element) -> Self {
        Self {
            price_components: e.price_components.iter().map(ComponentView::from).collect(),
            restrictions: e.restrictions.as_ref().map(RestrictionsView::from),
        }
    }
}

impl From<&Tariff> for TariffView {
    fn from(t: &Tariff) -> Self {
        Self {
            tariff_id: t.tariff_id,
            operator_id: t.operator_id.to_string(),
            name: t.name.clone(),
            currency: t.content.currency.clone(),
            vat_percent: number(t.content.vat_percent),
            elements: t.content.elements.iter().map(ElementView::from).collect(),
            site_id: t.site_id,
            device_id: t.device_id,
            valid_from: t.valid_from,
            valid_to: t.valid_to,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}
