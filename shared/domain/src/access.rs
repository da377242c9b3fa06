//! Visibility: a device, a site or an operator scope as the caller may see
//! it (the rule itself is `kernel::access`), and the fleet reads every
//! console-facing capability builds on. The one place permission reads
//! happen, below every capability that needs them.

use crate::devices::DeviceStore;
use crate::sites::SiteStore;
use crate::tenants::TenantStore;
use kernel::access::Caller;
use kernel::ids::{DeviceId, OperatorId, SiteId};
use kernel::model::{Device, Site};
use kernel::{Error, Settings};
use std::sync::Arc;

ports!(
    /// The ports visibility reads.
    AccessPorts: DeviceStore, SiteStore, TenantStore
);

/// Who may see what, and the fleet as a caller sees it.
#[derive(Clone)]
pub struct Access {
    store: Arc<dyn AccessPorts>,
    settings: Arc<Settings>,
}

/// What `Access` is built on.
pub(crate) struct AccessParts {
    pub(crate) settings: Arc<Settings>,
}

impl Access {
    pub(crate) fn new(store: Arc<dyn AccessPorts>, parts: AccessParts) -> Self {
        let AccessParts { settings } = parts;
        Self { store, settings }
    }

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

    /// Every device of an operator, a page (one Query and one BatchGet) at
    /// a time.
    pub(crate) async fn operator_devices(&self, op: &OperatorId) -> Result<Vec<Device>, Error> {
        self.devices_where(op, usize::MAX, &|_| true).await
    }

    /// An operator's devices that `keep` admits, in serial-number order,
    /// read a page at a time until `wanted` are found or the fleet ends.
    pub(crate) async fn devices_where(
        &self,
        op: &OperatorId,
        wanted: usize,
        keep: &impl Fn(&Device) -> bool,
    ) -> Result<Vec<Device>, Error> {
        const PAGE: u32 = 100;
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .store
                .operator_devices(op, PAGE, cursor.as_deref())
                .await?;
            out.extend(page.items.into_iter().filter(|d| keep(d)));
            match page.next {
                Some(next) if out.len() < wanted => cursor = Some(next),
                _ => return Ok(out),
            }
        }
    }

    /// The devices of a site that belong to its operator.
    pub(crate) async fn site_members(&self, site: &Site) -> Result<Vec<Device>, Error> {
        Ok(self
            .store
            .site_devices(site.site_id)
            .await?
            .into_iter()
            .filter(|d| d.operator_id == site.operator_id)
            .collect())
    }
}
