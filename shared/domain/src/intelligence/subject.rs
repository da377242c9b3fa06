//! Whose fleet an intelligence request is about, decided once per request.

use super::Intelligence;
use kernel::access::{Caller, not_found};
use kernel::error::Error;
use kernel::ids::{DeviceId, OperatorId, SiteId};
use kernel::model::{Device, Site};

/// The operator a request reads, and the site or device it narrows to,
/// each visible to the caller.
#[derive(Debug, Clone)]
pub struct Subject {
    pub operator: OperatorId,
    pub site: Option<Site>,
    pub device: Option<Device>,
}

impl Subject {
    pub fn site_id(&self) -> Option<SiteId> {
        self.site.as_ref().map(|s| s.site_id)
    }

    pub fn device_id(&self) -> Option<DeviceId> {
        self.device.as_ref().map(|d| d.device_id)
    }

    /// Whether a device's figures belong in this subject.
    pub fn covers(&self, device: DeviceId, site: Option<SiteId>) -> bool {
        self.device_id().is_none_or(|d| d == device)
            && self.site_id().is_none_or(|s| Some(s) == site)
    }
}

/// What a request names of whose fleet it reads, parsed.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub operator: Option<OperatorId>,
    pub site: Option<SiteId>,
    pub device: Option<DeviceId>,
}

impl Subject {
    /// The operator's whole fleet.
    pub fn fleet(operator: &OperatorId) -> Self {
        Self {
            operator: operator.clone(),
            site: None,
            device: None,
        }
    }
}

impl Intelligence {
    /// The operator of the named site or device, else the named operator
    /// (admins, or clients of several operators), else the caller's only
    /// one. Anything the caller may not see is "not found".
    pub(crate) async fn subject(&self, caller: &Caller, scope: Scope) -> Result<Subject, Error> {
        let Scope {
            operator,
            site,
            device,
        } = scope;
        let site = match site {
            Some(id) => Some(self.access.visible_site(caller, id).await?),
            None => None,
        };
        let device = match device {
            Some(id) => Some(self.access.visible_device(caller, id).await?),
            None => None,
        };
        if let (Some(s), Some(d)) = (&site, &device)
            && d.site_id != Some(s.site_id)
        {
            return Err(not_found(&format!(
                "device {} in site {}",
                d.device_id, s.site_id
            )));
        }
        let owner = site
            .as_ref()
            .map(|s| s.operator_id.clone())
            .or_else(|| device.as_ref().map(|d| d.operator_id.clone()));
        let operator = match (owner, operator) {
            (Some(owner), _) => owner,
            (None, Some(op)) if caller.sees(&op) => op,
            (None, Some(op)) => return Err(not_found(&format!("operator {op}"))),
            (None, None) => self.access.owning_operator(caller, None)?,
        };
        Ok(Subject {
            operator,
            site,
            device,
        })
    }
}
