//! Sites registered by chargers or installers, and who may place what where.

use crate::Domain;
use crate::error::Error;
use crate::ids::{DeviceId, OperatorId, SiteId};
use crate::model::Site;
use crate::store::{SiteMember, WriteOutcome};
use crate::validate::{Problems, text_ok};

/// Most devices one site registration may carry: one transaction of 100
/// items holds the site, its activity line and two items per device.
pub const MAX_SITE_DEVICES: usize = 49;

#[derive(Debug, Clone)]
pub struct SiteRegistration {
    pub site_id: Option<String>,
    pub operator_id: Option<String>,
    pub name: String,
    pub address: String,
    pub postcode: String,
    pub lat: f64,
    pub lng: f64,
    pub power_capacity: f64,
    pub device_ids: Vec<String>,
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
        let mut p = Problems::default();
        let site_id = match &reg.site_id {
            None => Some(SiteId::random()),
            Some(raw) => SiteId::parse(raw),
        };
        p.check(site_id.is_some(), "site_id", "must be a UUID");
        p.check(text_ok(&reg.name, 128), "name", "must be 1..128 characters");
        p.check(
            reg.address.len() <= 256,
            "address",
            "must be at most 256 characters",
        );
        p.check(
            reg.postcode.len() <= 16,
            "postcode",
            "must be at most 16 characters",
        );
        p.range(reg.lat, -90.0, 90.0, "lat");
        p.range(reg.lng, -180.0, 180.0, "lng");
        p.check(
            reg.power_capacity.is_finite()
                && reg.power_capacity > 0.0
                && reg.power_capacity <= 100_000.0,
            "power_capacity",
            "must be > 0 and at most 100000 kW",
        );
        p.check(
            reg.device_ids.len() <= MAX_SITE_DEVICES,
            "device_ids",
            "must list at most 49 devices",
        );
        // Listed ids, each once, and the entries that are not ids at all.
        let mut ids: Vec<DeviceId> = Vec::new();
        let mut malformed: Vec<&str> = Vec::new();
        for raw in &reg.device_ids {
            match DeviceId::parse(raw) {
                Some(id) if !ids.contains(&id) => ids.push(id),
                Some(_) => {}
                None => malformed.push(raw),
            }
        }
        if !malformed.is_empty() {
            p.add("device_ids", format!("not UUIDs: {}", malformed.join(", ")));
        }
        let operator = match &reg.operator_id {
            Some(raw) => match OperatorId::parse(raw) {
                None => {
                    p.add(
                        "operator_id",
                        "must be an operator slug such as acme-charging-uk",
                    );
                    None
                }
                Some(op) if who.may_act_for(&op) => Some(op),
                // Without authority for it, the default operator owns the site.
                Some(_) => None,
            },
            None => None,
        }
        .unwrap_or_else(|| self.settings.default_operator.clone());
        p.finish()?;
        let Some(site_id) = site_id else {
            return Err(Error::Internal("validated site id missing".into()));
        };

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
        let devices = self.store.get_devices(&ids).await?;
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
            .event(
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
