//! Revenue from the pre-aggregated day buckets each priced record adds to
//! (contract §14): one query per scope, months summed from days.

use super::Console;
use super::views::Granularity;
use crate::records::{RevenueDay, RevenueScope};
use chrono::{DateTime, Utc};
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::{DeviceId, OperatorId, SiteId};
use serde::Serialize;
use std::collections::BTreeMap;

/// `GET /v1/aggregated/revenue`, parsed.
#[derive(Debug, Clone, Default)]
pub struct RevenueQuery {
    pub granularity: Option<Granularity>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub site_id: Option<SiteId>,
    pub device_id: Option<DeviceId>,
}

/// One point's priced sessions in one currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevenuePoint {
    pub timestamp: DateTime<Utc>,
    pub currency: String,
    pub sessions: u64,
    /// kWh.
    pub energy: f64,
    pub excl_vat: f64,
    pub incl_vat: f64,
}

/// A currency's total over the range.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevenueTotal {
    pub currency: String,
    pub sessions: u64,
    /// kWh.
    pub energy: f64,
    pub excl_vat: f64,
    pub incl_vat: f64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevenueSeries {
    pub granularity: Granularity,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub site_id: Option<SiteId>,
    pub device_id: Option<DeviceId>,
    /// Points with sessions only, in time then currency order.
    pub series: Vec<RevenuePoint>,
    pub total: Vec<RevenueTotal>,
}

/// Sums in exact units until the answer.
#[derive(Default, Clone, Copy)]
struct Sum {
    sessions: u64,
    wh: i64,
    excl_cents: i64,
    incl_cents: i64,
}

impl Sum {
    fn add(&mut self, d: &RevenueDay) {
        self.sessions += d.sessions;
        self.wh += d.energy_wh;
        self.excl_cents += d.excl_vat_cents;
        self.incl_cents += d.incl_vat_cents;
    }

    fn kwh(self) -> f64 {
        self.wh as f64 / 1000.0
    }
}

fn money(cents: i64) -> f64 {
    cents as f64 / 100.0
}

impl Console {
    /// Revenue of the caller's operators, one site or one device.
    pub async fn revenue(&self, caller: &Caller, q: RevenueQuery) -> Result<RevenueSeries, Error> {
        let g = q.granularity.unwrap_or(Granularity::Day);
        if g == Granularity::Hour {
            return Err(Error::invalid("granularity", "must be day or month"));
        }
        let (from, to) = g.range(q.from, q.to, self.clock.now())?;
        let scopes: Vec<(OperatorId, RevenueScope)> = match (q.site_id, q.device_id) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "site_id",
                    "give at most one of site_id or device_id",
                ));
            }
            (Some(id), None) => {
                let site = self.access.visible_site(caller, id).await?;
                vec![(site.operator_id, RevenueScope::Site(id))]
            }
            (None, Some(id)) => {
                let device = self.access.visible_device(caller, id).await?;
                vec![(device.operator_id, RevenueScope::Device(id))]
            }
            (None, None) => self
                .access
                .scope(caller)
                .await?
                .into_iter()
                .map(|op| (op, RevenueScope::Operator))
                .collect(),
        };
        // The last day whose bucket lies inside `[from, to)`.
        let last_day = to - chrono::Duration::days(1);
        let mut points: BTreeMap<(DateTime<Utc>, String), Sum> = BTreeMap::new();
        let mut totals: BTreeMap<String, Sum> = BTreeMap::new();
        for (operator, scope) in scopes {
            for day in self
                .store
                .revenue_days(&operator, scope, from, last_day)
                .await?
            {
                points
                    .entry((g.floor(day.day), day.currency.clone()))
                    .or_default()
                    .add(&day);
                totals.entry(day.currency.clone()).or_default().add(&day);
            }
        }
        Ok(RevenueSeries {
            granularity: g,
            from,
            to,
            site_id: q.site_id,
            device_id: q.device_id,
            series: points
                .into_iter()
                .map(|((timestamp, currency), s)| RevenuePoint {
                    timestamp,
                    currency,
                    sessions: s.sessions,
                    energy: s.kwh(),
                    excl_vat: money(s.excl_cents),
                    incl_vat: money(s.incl_cents),
                })
                .collect(),
            total: totals
                .into_iter()
                .map(|(currency, s)| RevenueTotal {
                    currency,
                    sessions: s.sessions,
                    energy: s.kwh(),
                    excl_vat: money(s.excl_cents),
                    incl_vat: money(s.incl_cents),
                })
                .collect(),
        })
    }
}
