//! Tariffs (contract §14): an operator's prices for one device, one site or
//! its whole fleet, each valid for a time. Two tariffs of one scope may not
//! be valid at the same time. What a tariff's content is and how it prices
//! a session is the `pricing` crate's.

mod in_force;
mod port;
mod view;

pub use in_force::{Pricer, TariffVersion, session_of, site_zone};
pub use port::TariffStore;
pub use view::{ComponentView, ElementView, PriceType, RestrictionsView, TariffView};

use crate::access::Access;
use crate::feeds::Feeds;
use crate::sites::SiteStore;
use chrono::{DateTime, Utc};
use in_force::TariffCache;
use kernel::Clock;
use kernel::access::{Caller, not_found};
use kernel::error::Error;
use kernel::ids::{DeviceId, OperatorId, SiteId, TariffId};
use kernel::model::Role;
use kernel::paging::{ListPage, Paging};
use kernel::storage::WriteOutcome;
use pricing::TariffContent;
use std::sync::Arc;

/// A stored tariff.
#[derive(Debug, Clone, PartialEq)]
pub struct Tariff {
    pub tariff_id: TariffId,
    pub operator_id: OperatorId,
    pub name: String,
    pub content: TariffContent,
    pub site_id: Option<SiteId>,
    pub device_id: Option<DeviceId>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
    /// 1 when created, one more at each replacement.
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A tariff as a request states it, checked at the edge.
#[derive(Debug, Clone)]
pub struct TariffDraft {
    pub name: String,
    pub content: TariffContent,
    pub site_id: Option<SiteId>,
    pub device_id: Option<DeviceId>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
    /// The owning operator; default the caller's only operator.
    pub operator_id: Option<OperatorId>,
}

/// `GET /v1/tariffs` filters.
#[derive(Debug, Clone, Default)]
pub struct TariffFilter {
    pub site_id: Option<SiteId>,
    pub device_id: Option<DeviceId>,
}

impl Tariff {
    /// Whether both apply to the same device, site or fleet.
    fn same_scope(&self, other: &Self) -> bool {
        self.operator_id == other.operator_id
            && self.site_id == other.site_id
            && self.device_id == other.device_id
    }

    /// Whether their validities share a moment (`valid_to` exclusive).
    fn overlaps(&self, other: &Self) -> bool {
        let starts_before_other_ends = match (self.valid_from, other.valid_to) {
            (Some(from), Some(to)) => from < to,
            _ => true,
        };
        let ends_after_other_starts = match (self.valid_to, other.valid_from) {
            (Some(to), Some(from)) => to > from,
            _ => true,
        };
        starts_before_other_ends && ends_after_other_starts
    }
}

/// What `Tariffs` is built on.
pub(crate) struct TariffsParts {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) access: Access,
    pub(crate) feeds: Feeds,
}

ports!(
    /// The ports tariffs use: their own, and sites for their time zones.
    TariffsPorts: TariffStore, SiteStore
);

/// Operators' tariffs.
#[derive(Clone)]
pub struct Tariffs {
    store: Arc<dyn TariffsPorts>,
    clock: Arc<dyn Clock>,
    access: Access,
    feeds: Feeds,
    cache: Arc<TariffCache>,
}

impl Tariffs {
    pub(crate) fn new(store: Arc<dyn TariffsPorts>, parts: TariffsParts) -> Self {
        let TariffsParts {
            clock,
            access,
            feeds,
        } = parts;
        Self {
            store,
            clock,
            access,
            feeds,
            cache: Arc::default(),
        }
    }

    async fn visible_tariff(&self, caller: &Caller, id: TariffId) -> Result<Tariff, Error> {
        let found = self.store.get_tariff(id).await?;
        caller.visible(found, |t| &t.operator_id, &format!("tariff {id}"))
    }

    /// The draft's device or site belongs to `operator` and the caller
    /// sees it (404 otherwise, as for what does not exist).
    async fn check_scope(
        &self,
        caller: &Caller,
        operator: &OperatorId,
        draft: &TariffDraft,
    ) -> Result<(), Error> {
        if let Some(id) = draft.device_id {
            let device = self.access.visible_device(caller, id).await?;
            if device.operator_id != *operator {
                return Err(not_found(&format!("device {id}")));
            }
        }
        if let Some(id) = draft.site_id {
            let site = self.access.visible_site(caller, id).await?;
            if site.operator_id != *operator {
                return Err(not_found(&format!("site {id}")));
            }
        }
        Ok(())
    }

    /// 409 when another tariff of the same scope is valid at a moment
    /// this one is.
    async fn check_overlap(&self, tariff: &Tariff) -> Result<(), Error> {
        let others = self.store.operator_tariffs(&tariff.operator_id).await?;
        match others
            .iter()
            .find(|o| o.tariff_id != tariff.tariff_id && o.same_scope(tariff) && o.overlaps(tariff))
        {
            Some(o) => Err(Error::Conflict(format!(
                "tariff {} of the same scope is valid at the same time",
                o.tariff_id
            ))),
            None => Ok(()),
        }
    }

    fn activity(&self, tariff: &Tariff, what: &str) -> kernel::model::Activity {
        self.feeds
            .activity(
                &format!("tariff.{what}"),
                &tariff.operator_id,
                format!("tariff {} {what}", tariff.name),
            )
            .done()
    }

    /// `POST /v1/tariffs`.
    pub async fn create_tariff(
        &self,
        caller: &Caller,
        draft: TariffDraft,
    ) -> Result<TariffView, Error> {
        caller.require(Role::Operator)?;
        let operator_id = self
            .access
            .owning_operator(caller, draft.operator_id.clone())?;
        self.check_scope(caller, &operator_id, &draft).await?;
        let now = self.clock.now();
        let tariff = Tariff {
            tariff_id: TariffId::time_ordered(),
            operator_id,
            name: draft.name,
            content: draft.content,
            site_id: draft.site_id,
            device_id: draft.device_id,
            valid_from: draft.valid_from,
            valid_to: draft.valid_to,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.check_overlap(&tariff).await?;
        self.store
            .insert_tariff(&tariff, &self.activity(&tariff, "created"))
            .await?;
        self.cache.forget(&tariff.operator_id);
        Ok(TariffView::from(&tariff))
    }

    /// `GET /v1/tariffs`: the caller's operators' tariffs, newest first.
    pub async fn list_tariffs(
        &self,
        caller: &Caller,
        filter: TariffFilter,
        paging: Paging,
    ) -> Result<ListPage<TariffView>, Error> {
        let mut items = Vec::new();
        for op in self.access.scope(caller).await? {
            items.extend(
                self.store
                    .operator_tariffs(&op)
                    .await?
                    .into_iter()
                    .filter(|t| filter.site_id.is_none_or(|s| t.site_id == Some(s)))
                    .filter(|t| filter.device_id.is_none_or(|d| t.device_id == Some(d))),
            );
        }
        items.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then(b.tariff_id.cmp(&a.tariff_id))
        });
        let views = items.iter().map(TariffView::from).collect();
        Ok(ListPage::slice(views, paging.page, paging.size))
    }

    /// `GET /v1/tariffs/:id`.
    pub async fn tariff(&self, caller: &Caller, id: TariffId) -> Result<TariffView, Error> {
        Ok(TariffView::from(&self.visible_tariff(caller, id).await?))
    }

    /// `PUT /v1/tariffs/:id`: the tariff's next version; records priced
    /// before keep their price.
    pub async fn replace_tariff(
        &self,
        caller: &Caller,
        id: TariffId,
        draft: TariffDraft,
    ) -> Result<TariffView, Error> {
        let current = self.visible_tariff(caller, id).await?;
        caller.require(Role::Operator)?;
        if draft
            .operator_id
            .as_ref()
            .is_some_and(|op| *op != current.operator_id)
        {
            return Err(Error::invalid(
                "operator_id",
                "a tariff stays with its operator",
            ));
        }
        self.check_scope(caller, &current.operator_id, &draft)
            .await?;
        let next = Tariff {
            name: draft.name,
            content: draft.content,
            site_id: draft.site_id,
            device_id: draft.device_id,
            valid_from: draft.valid_from,
            valid_to: draft.valid_to,
            version: current.version + 1,
            updated_at: self.clock.now(),
            ..current.clone()
        };
        self.check_overlap(&next).await?;
        match self
            .store
            .replace_tariff(&next, &current, &self.activity(&next, "replaced"))
            .await?
        {
            WriteOutcome::Written => {
                self.cache.forget(&next.operator_id);
                Ok(TariffView::from(&next))
            }
            WriteOutcome::Conflict => Err(Error::Conflict(format!(
                "tariff {id} changed concurrently; read it and retry"
            ))),
        }
    }

    /// `DELETE /v1/tariffs/:id`.
    pub async fn delete_tariff(&self, caller: &Caller, id: TariffId) -> Result<TariffView, Error> {
        let current = self.visible_tariff(caller, id).await?;
        caller.require(Role::Operator)?;
        self.store
            .delete_tariff(
                &current,
                self.clock.now(),
                &self.activity(&current, "deleted"),
            )
            .await?;
        self.cache.forget(&current.operator_id);
        Ok(TariffView::from(&current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tariff(from: Option<&str>, to: Option<&str>) -> Tariff {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let now = at("2026-01-01T00:00:00Z");
        Tariff {
            tariff_id: TariffId::time_ordered(),
            operator_id: OperatorId::parse("acme").unwrap(),
            name: "Standard".into(),
            content: TariffContent {
                currency: "GBP".into(),
                vat_percent: pricing::Decimal::ZERO,
                elements: vec![],
            },
            site_id: None,
            device_id: None,
            valid_from: from.map(at),
            valid_to: to.map(at),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn validities_overlap_unless_one_ends_before_the_other_starts() {
        let open = tariff(None, None);
        let march = tariff(Some("2026-03-01T00:00:00Z"), Some("2026-04-01T00:00:00Z"));
        let april = tariff(Some("2026-04-01T00:00:00Z"), None);
        let until_march = tariff(None, Some("2026-03-01T00:00:00Z"));
        assert!(open.overlaps(&march) && march.overlaps(&open));
        assert!(
            !march.overlaps(&april) && !april.overlaps(&march),
            "valid_to is exclusive"
        );
        assert!(!until_march.overlaps(&march));
        assert!(until_march.overlaps(&open));
        let mut other_site = march.clone();
        other_site.site_id = Some(SiteId::random());
        assert!(!other_site.same_scope(&march));
    }
}
