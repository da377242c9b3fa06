//! A tariff's content: a subset of OCPI 2.2.1's Tariff (contract §14).
//! Amounts are exact decimals; they are kept as text, so a stored tariff
//! reads back exactly.

use chrono::{NaiveDate, NaiveTime, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a price component prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Dimension {
    /// Per kWh; `step_size` in Wh.
    Energy,
    /// Per hour of charging; `step_size` in seconds.
    Time,
    /// Per hour connected but not charging; `step_size` in seconds.
    ParkingTime,
    /// Per session.
    Flat,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceComponent {
    #[serde(rename = "type")]
    pub dimension: Dimension,
    /// Excluding VAT.
    pub price: Decimal,
    pub step_size: u32,
}

/// When an element applies; every restriction given must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Restrictions {
    /// Local time of day, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<NaiveTime>,
    /// Local time of day, exclusive; before `start_time` spans midnight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<NaiveTime>,
    /// Local date, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    /// Local date, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub day_of_week: Vec<Weekday>,
    /// The session's energy so far, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_kwh: Option<Decimal>,
    /// The session's energy so far, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_kwh: Option<Decimal>,
    /// The session's duration so far in seconds, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration: Option<i64>,
    /// The session's duration so far in seconds, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    pub price_components: Vec<PriceComponent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<Restrictions>,
}

/// What a session is priced by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TariffContent {
    /// ISO 4217.
    pub currency: String,
    /// 0..100.
    pub vat_percent: Decimal,
    pub elements: Vec<Element>,
}

impl Element {
    /// Its component of `dimension`, if it has one.
    pub fn component(&self, dimension: Dimension) -> Option<&PriceComponent> {
        self.price_components
            .iter()
            .find(|c| c.dimension == dimension)
    }
}
