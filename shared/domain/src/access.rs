//! The domain's visibility reads: a device, a site or an operator scope
//! as the caller may see it (the rule itself is `kernel::access`).

use crate::Domain;
use kernel::Error;
use kernel::access::Caller;
use kernel::ids::{DeviceId, OperatorId, SiteId};
use kernel::model::{Device, Site};

impl Domain {
    pub(crate) async fn visible_device(
        &self,
        caller: &Caller,
        id: DeviceId,
    ) -> Result<Device, Error> {
        let found = self.store.get_device(id).await?;
        caller.visible(found, |d| &d.operator_id, &format!("device {id}"))
    }

    pub(crate) async fn visible_site(&self, caller: &Caller, id: SiteId) -> Result<Site, Error> {
        let found = self.store.get_site(id).await?;
        caller.visible(found, |s| &s.operator_id, &format!("site {id}"))
    }

    /// The operator a new profile or campaign belongs to: the one named
    /// (which the caller must act for), else the caller's only operator;
    /// an admin acting for nobody in particular gets the default operator.
    pub(crate) fn owning_operator(
        &self,
        caller: &Caller,
        named: Option<OperatorId>,
    ) -> Result<OperatorId, Error> {
        match named {
            Some(op) if caller.sees(&op) => Ok(op),
            Some(op) => Err(Error::Forbidden(format!(
                "this client does not act for operator {op}"
            ))),
            None if caller.operators.len() == 1 => Ok(caller.operators[0].clone()),
            None if caller.is_admin() && caller.operators.is_empty() => {
                Ok(self.settings.default_operator.clone())
            }
            None => Err(Error::invalid(
                "operator_id",
                "is needed: this client acts for several operators",
            )),
        }
    }

    /// The operator ids whose partitions a console read covers.
    pub(crate) async fn scope(&self, caller: &Caller) -> Result<Vec<OperatorId>, Error> {
        if !caller.is_admin() {
            return Ok(caller.operators.clone());
        }
        // The default operator owns unplaced devices even before it has an
        // operator record.
        let mut ids: Vec<OperatorId> = self
            .store
            .all_operators()
            .await?
            .into_iter()
            .map(|o| o.id)
            .collect();
        if !ids.contains(&self.settings.default_operator) {
            ids.push(self.settings.default_operator.clone());
        }
        Ok(ids)
    }
}
