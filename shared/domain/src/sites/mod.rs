//! Sites registered by chargers or installers, and who may place what where.

pub mod capacity;
pub mod flexibility;
mod port;

pub use port::{SiteMember, SiteStore};

use crate::Domain;
use crate::error::Error;
use crate::ids::{DeviceId, OperatorId, SiteId};
use crate::model::Site;
use crate::storage::WriteOutcome;

/// Most devices one site registration may carry: one transaction of 100
/// items holds the site, its activity line and two items per device.
pub const MAX_SITE_DEVICES: usize = 49;

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

/// Who registers a site: anyone holding the provisioning key, or an
/// operator's client acting for the operators it belongs to.
#[derive(Debug, Clone, Default)]
pub struct SiteAuthority {
    pub operators: Vec<OperatorId>,
    pub admin: bool,
}

impl SiteAuthority {
    fn may_act_for(&self, operator: &OperatorId) -> bool {
        self.admin || self.operators.contains(operator)
    }
}

impl Domain {
    /// Creates or updates a site and moves the listed devices into it.
    pub async fn register_site(
        &self,
        who: &SiteAuthority,
        reg: SiteRegistration,
    ) -> Result<SiteId, Error> {
        let site_id = reg.site_id.unwrap_or_else(SiteId::random);
        let ids = &reg.device_ids;
        // Without authority for it, the default operator owns the site.
        let operator = reg
            .operator_id
            .clone()
            .filter(|op| who.may_act_for(op))
            .unwrap_or_else(|| self.settings.default_operator.clone());

        if reg.operator_id.is_some()
            && operator != self.settings.default_operator
            && self.store.get_operator(&operator).await?.is_none()
        {
            return Err(Error::invalid(
                "operator_id",
                format!("unknown operator {operator}"),
            ));
        }
        let existing = self.store.get_site(site_id).await?;
        if existing.as_ref().is_some_and(|s| s.operator_id != operator) {
            return Err(Error::NotFound(format!("site {site_id} not found")));
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
            let moves_operator =
                d.site_id.is_some_and(|s| s != site_id) && d.operator_id != operator;
            if moves_operator && !who.admin {
                return Err(Error::Forbidden(format!(
                    "device {} belongs to another operator's site; moving it needs an admin token",
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
        };
        let members: Vec<SiteMember> = devices
            .iter()
            .map(|d| SiteMember {
                device_id: d.device_id,
                previous_site: d.site_id,
            })
            .collect();
        let activity = self
            .activity(
                "site.saved",
                &site.operator_id,
                format!("site {} saved with {} devices", site.name, members.len()),
            )
            .with_site(Some(site_id))
            .done();
        let read = existing.as_ref().map(|s| s.updated_at);
        match self
            .store
            .save_site(&site, read, &members, &activity)
            .await?
        {
            WriteOutcome::Written => Ok(site_id),
            WriteOutcome::Conflict => Err(Error::Conflict(
                "the site or one of its devices changed concurrently; retry".into(),
            )),
        }
    }
}
