//! The model catalogue as the console sees it: every model the catalogue
//! rates with the caller's devices of it, and the caller's devices of
//! models it does not rate counted apart (a registration cannot add to the
//! catalogue). Counts come from the operators' counters.

use super::Console;
use kernel::access::Caller;
use kernel::catalogue::{ModelPage, ModelView, UnknownModels, models, spec};
use std::collections::{BTreeMap, BTreeSet};

impl Console {
    pub async fn models(&self, caller: &Caller) -> Result<ModelPage, kernel::Error> {
        let mut known: BTreeMap<&str, u32> = BTreeMap::new();
        let mut unknown_names = BTreeSet::new();
        let mut unknown = UnknownModels::default();
        let counts = self.counts_in_scope(caller).await?;
        for ((model, _, _), n) in counts.builds() {
            match spec(model) {
                Some(m) => *known.entry(m.model.as_str()).or_default() += n,
                None => {
                    unknown.devices += n;
                    unknown_names.insert(model);
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
