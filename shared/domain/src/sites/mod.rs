//! Sites registered by chargers or installers, and who may place what where.

pub mod capacity;
mod port;

pub use port::{SiteMember, SiteStore};

use crate::devices::credentials::TokenClaims;
use crate::devices::{DeviceStore, Devices};
use crate::feeds::Feeds;
use crate::tenants::TenantStore;
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::{DeviceId, OperatorId, SiteId};
use kernel::model::{LoadManagement, Role, Site};
use kernel::storage::WriteOutcome;
use kernel::{Clock, Settings};
use std::sync::Arc;

/// Most devices one site registration may carry. Beyond one transaction
/// the store moves them in several and undoes them all if one fails.
pub const MAX_SITE_DEVICES: usize = 500;

/// A site registration, parsed: bounded text and numbers, device ids each
/// once.
#[derive(Debug, Clone)]
pub struct SiteRegistration {
    /// A new site gets a fresh id.
    pub site_id: Option<SiteId>,
    pub operator_id: Option<OperatorId>,
    pub name: String,
    pub address: String,
    pub postcode: String,
    pub lat: f64,
    pub lng: f64,
    pub power_capacity: f64,
    pub device_ids: Vec<DeviceId>,
}

/// Who registers a site: anyone the registration policy admits, an
/// operator's client, or a charger with its own token.
#[derive(Debug, Clone)]
pub enum SiteAuthority {
    Anonymous,
    Console(Caller),
    Device(TokenClaims),
}

/// What a site registration's caller may touch, once resolved.
struct Rights {
    operators: Vec<OperatorId>,
    admin: bool,
    /// The site the calling charger is in.
    own_site: Option<SiteId>,
}

impl Rights {
    fn may_act_for(&self, operator: &OperatorId) -> bool {
        self.admin || self.operators.contains(operator)
    }

    /// An existing site, and the devices in it, are changed only by its
    /// operator's clients or by a charger already in it.
    fn may_change(&self, site: SiteId, operator: &OperatorId) -> bool {
        self.may_act_for(operator) || self.own_site == Some(site)
    }
}

ports!(
    /// The ports sites use.
    SitesPorts: SiteStore, DeviceStore, TenantStore
);

/// Sites, who may place what where, and their capacity.
#[derive(Clone)]
pub struct Sites {
    store: Arc<dyn SitesPorts>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    devices: Devices,
    feeds: Feeds,
}

/// What `Sites` is built on.
pub(crate) struct SitesParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) devices: Devices,
    pub(crate) feeds: Feeds,
}

impl Sites {
    pub(crate) fn new(store: Arc<dyn SitesPorts>, parts: SitesParts) -> Self {
        let SitesParts {
            settings,
            clock,
            devices,
            feeds,
        } = parts;
        Self {
            store,
            settings,
            clock,
            devices,
            feeds,
        }
    }
}

impl Sites {
    /// Creates or updates a site and moves the listed devices into it.
    pub async fn register_site(
        &self,
        who: &SiteAuthority,
        reg: SiteRegistration,
    ) -> Result<SiteId, Error> {
        let who = self.rights(who).await?;
        if let Some(op) = &reg.operator_id
            && !who.may_act_for(op)
        {
            return Err(Error::Forbidden(format!(
                "placing a site under operator {op} needs an operator or admin token of it"
            )));
        }
        let site_id = reg.site_id.unwrap_or_else(SiteId::random);
        let ids = &reg.device_ids;
        let existing = self.store.get_site(site_id).await?;
        let site_not_found = || Error::NotFound(format!("site {site_id} not found"));
        if existing
            .as_ref()
            .is_some_and(|s| !who.may_change(s.site_id, &s.operator_id))
        {
            return Err(site_not_found());
        }
        // An existing site keeps its operator; a new one without a named
        // operator belongs to the default operator.
        let operator = reg
            .operator_id
            .clone()
            .or_else(|| existing.as_ref().map(|s| s.operator_id.clone()))
            .unwrap_or_else(|| self.settings.default_operator.clone());
        if existing.as_ref().is_some_and(|s| s.operator_id != operator) {
            return Err(site_not_found());
        }
        let owner = self.store.get_operator(&operator).await?;
        if operator != self.settings.default_operator && owner.is_none() {
            return Err(Error::invalid(
                "operator_id",
                format!("unknown operator {operator}"),
            ));
        }
        let devices = self.store.get_devices(ids).await?;
        let unknown: Vec<String> = ids
            .iter()
            .filter(|id| !devices.iter().any(|d| d.device_id == **id))
            .map(ToString::to_string)
            .collect();
        if !unknown.is_empty() {
            return Err(Error::invalid(
                "device_ids",
                format!("unknown devices: {}", unknown.join(", ")),
            ));
        }
        for d in &devices {
            let Some(current) = d.site_id.filter(|s| *s != site_id) else {
                continue;
            };
            // A device in another site moves only with that site's rights.
            if !who.may_change(current, &d.operator_id) {
                return Err(Error::NotFound(format!("device {} not found", d.device_id)));
            }
            if d.operator_id != operator && !who.admin {
                return Err(Error::Forbidden(format!(
                    "moving device {} to another operator needs an admin token",
                    d.device_id
                )));
            }
        }
        let now = self.clock.now();
        let site = Site {
            site_id,
            operator_id: operator,
            name: reg.name,
            address: reg.address,
            postcode: reg.postcode,
            lat: reg.lat,
            lng: reg.lng,
            power_capacity: reg.power_capacity,
            created_at: existing.as_ref().map_or(now, |s| s.created_at),
            updated_at: now,
            flex_limit_kw: existing.as_ref().and_then(|s| s.flex_limit_kw),
            flex_until: existing.as_ref().and_then(|s| s.flex_until),
            city: existing.as_ref().and_then(|s| s.city.clone()),
            country: match &existing {
                Some(s) => s.country.clone(),
                None => owner.as_ref().and_then(|o| alpha3(&o.country)),
            },
            time_zone: existing.as_ref().and_then(|s| s.time_zone.clone()),
            load_management: existing.as_ref().and_then(|s| s.load_management),
        };
        let members: Vec<SiteMember> = devices.iter().map(SiteMember::from).collect();
        let activity = self
            .feeds
            .activity(
                "site.saved",
                &site.operator_id,
                format!("site {} saved with {} devices", site.name, members.len()),
            )
            .with_site(Some(site_id))
            .done();
        match self
            .store
            .save_site(&site, existing.as_ref(), &members, &activity)
            .await?
        {
            WriteOutcome::Written => Ok(site_id),
            WriteOutcome::Conflict => Err(Error::Conflict(
                "the site or one of its devices changed concurrently; retry".into(),
            )),
        }
    }

    async fn rights(&self, who: &SiteAuthority) -> Result<Rights, Error> {
        let mut rights = Rights {
            operators: Vec::new(),
            admin: false,
            own_site: None,
        };
        match who {
            SiteAuthority::Anonymous => {}
            // Viewers read; placing sites is an operator's act.
            SiteAuthority::Console(c) if c.role >= Role::Operator => {
                rights.operators = c.operators.clone();
                rights.admin = c.is_admin();
            }
            SiteAuthority::Console(_) => {}
            SiteAuthority::Device(claims) => {
                rights.own_site = self.devices.device_for(*claims).await?.site_id;
            }
        }
        Ok(rights)
    }
}

/// `PATCH /v1/sites/:id`: the fields given, each checked at the edge for
/// its shape.
#[derive(Debug, Clone, Default)]
pub struct SiteChanges {
    pub name: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub time_zone: Option<String>,
    pub power_capacity: Option<f64>,
    pub load_management: Option<LoadManagement>,
}

/// §16's rules: a capacity in (0, 100000] kW; a minimum per session and a
/// reserve within it (the reserve below it).
fn check_load_management(lm: &LoadManagement, power_capacity: f64) -> Result<(), Error> {
    let capacity = lm.capacity_kw.unwrap_or(power_capacity);
    let mut p = kernel::input::Problems::default();
    if let Some(c) = lm.capacity_kw
        && !(c > 0.0 && c <= 100_000.0)
    {
        p.add(
            "load_management.capacity_kw",
            "must be above 0 and at most 100000",
        );
    }
    if let Some(m) = lm.min_session_kw
        && !(0.0..=capacity).contains(&m)
    {
        p.add(
            "load_management.min_session_kw",
            format!("must be 0..{capacity}"),
        );
    }
    if let Some(r) = lm.reserve_kw
        && !(r >= 0.0 && r < capacity)
    {
        p.add(
            "load_management.reserve_kw",
            format!("must be at least 0 and under {capacity}"),
        );
    }
    p.finish()
}

/// The alpha-3 code of an ISO 3166-1 alpha-2 country.
fn alpha3(alpha2: &str) -> Option<String> {
    isocountry::CountryCode::for_alpha2(alpha2)
        .ok()
        .map(|c| c.alpha3().to_owned())
}

impl Sites {
    /// Changes a site's description; an operator's act. A country must be
    /// an ISO 3166-1 alpha-3 code and a time zone an IANA name.
    pub async fn update_site(
        &self,
        caller: &Caller,
        id: SiteId,
        changes: SiteChanges,
    ) -> Result<Site, Error> {
        let found = self.store.get_site(id).await?;
        let current = caller.visible(found, |s| &s.operator_id, &format!("site {id}"))?;
        caller.require(Role::Operator)?;
        if let Some(c) = &changes.country
            && isocountry::CountryCode::for_alpha3(c).is_err()
        {
            return Err(Error::invalid(
                "country",
                "must be an ISO 3166-1 alpha-3 code, such as GBR",
            ));
        }
        if let Some(z) = &changes.time_zone
            && z.parse::<pricing::Tz>().is_err()
        {
            return Err(Error::invalid(
                "time_zone",
                "must be an IANA time zone, such as Europe/London",
            ));
        }
        let capacity = changes.power_capacity.unwrap_or(current.power_capacity);
        if let Some(lm) = &changes.load_management {
            check_load_management(lm, capacity)?;
        }
        let country = match changes.country {
            Some(c) => Some(c),
            None if current.country.is_none() => self
                .store
                .get_operator(&current.operator_id)
                .await?
                .and_then(|o| alpha3(&o.country)),
            None => current.country.clone(),
        };
        let next = Site {
            name: changes.name.unwrap_or_else(|| current.name.clone()),
            address: changes.address.unwrap_or_else(|| current.address.clone()),
            postcode: changes.postcode.unwrap_or_else(|| current.postcode.clone()),
            city: changes.city.or_else(|| current.city.clone()),
            country,
            time_zone: changes.time_zone.or_else(|| current.time_zone.clone()),
            power_capacity: changes.power_capacity.unwrap_or(current.power_capacity),
            load_management: changes.load_management.or(current.load_management),
            updated_at: self.clock.now(),
            ..current.clone()
        };
        let activity = self
            .feeds
            .activity(
                "site.saved",
                &next.operator_id,
                format!("site {} changed", next.name),
            )
            .with_site(Some(id))
            .done();
        match self
            .store
            .save_site(&next, Some(&current), &[], &activity)
            .await?
        {
            WriteOutcome::Written => Ok(next),
            WriteOutcome::Conflict => Err(Error::Conflict(format!(
                "site {id} changed concurrently; retry"
            ))),
        }
    }
}
