//! The model catalogue as the console sees it: every model the catalogue
//! rates, and the models of the caller's fleet it does not.

use super::views::version_cmp;
use crate::Domain;
use crate::access::Caller;
use crate::catalogue::{ModelView, models, spec};

impl Domain {
    /// The catalogue merged with the models of the caller's fleet.
    pub async fn models(&self, caller: &Caller) -> Result<Vec<ModelView>, crate::Error> {
        let mut seen: std::collections::BTreeMap<(String, String), (u32, String)> =
            Default::default();
        for d in self.devices_in_scope(caller).await? {
            {
                let entry = seen
                    .entry((d.model.clone(), d.manufacturer.clone()))
                    .or_insert((0, d.firmware_version.clone()));
                entry.0 += 1;
                if version_cmp(&d.firmware_version, &entry.1).is_gt() {
                    entry.1 = d.firmware_version.clone();
                }
            }
        }
        let mut out: Vec<ModelView> = models()
            .iter()
            .map(|m| ModelView {
                model: m.model.clone(),
                manufacturer: m.manufacturer.clone(),
                current_type: Some(m.current_type),
                max_power_kw: Some(m.max_power_kw),
                connectors: Some(m.connectors),
                v2g: m.v2g,
                latest_firmware: Some(m.latest_firmware.clone()),
                devices: seen
                    .iter()
                    .filter(|((model, _), _)| *model == m.model)
                    .map(|(_, (n, _))| n)
                    .sum(),
                in_catalogue: true,
            })
            .collect();
        for ((model, manufacturer), (devices, newest)) in seen {
            if spec(&model).is_none() {
                out.push(ModelView {
                    model,
                    manufacturer,
                    current_type: None,
                    max_power_kw: None,
                    connectors: None,
                    v2g: false,
                    latest_firmware: Some(newest),
                    devices,
                    in_catalogue: false,
                });
            }
        }
        out.sort_by(|a, b| a.model.cmp(&b.model));
        Ok(out)
    }
}
