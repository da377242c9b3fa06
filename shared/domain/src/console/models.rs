//! The model catalogue as the console sees it: every model the catalogue
//! rates with the caller's devices of it, and the caller's devices of
//! models it does not rate counted apart (a registration cannot add to the
//! catalogue).

use crate::Domain;
use crate::access::Caller;
use crate::catalogue::{ModelPage, ModelView, UnknownModels, models, spec};
use std::collections::{BTreeMap, BTreeSet};

impl Domain {
    pub async fn models(&self, caller: &Caller) -> Result<ModelPage, crate::Error> {
        let mut known: BTreeMap<&str, u32> = BTreeMap::new();
        let mut unknown_names = BTreeSet::new();
        let mut unknown = UnknownModels::default();
        for d in self.devices_in_scope(caller).await? {
            match spec(&d.model) {
                Some(m) => *known.entry(m.model.as_str()).or_default() += 1,
                None => {
                    unknown.devices += 1;
                    unknown_names.insert(d.model);
                }
            }
        }
        unknown.models = u32::try_from(unknown_names.len()).unwrap_or(u32::MAX);
        let items: Vec<ModelView> = models()
            .iter()
            .map(|m| ModelView {
                spec: m.clone(),
                devices: known.get(m.model.as_str()).copied().unwrap_or(0),
            })
            .collect();
        let size = u32::try_from(items.len().max(1)).unwrap_or(u32::MAX);
        Ok(ModelPage {
            total: items.len(),
            items,
            page: 1,
            size,
            unknown_models: unknown,
        })
    }
}
