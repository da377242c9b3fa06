//! Firmware adoption per model: which versions run where, against the
//! newest release known for the model, from the operators' counters.

use super::Console;
use super::paging::Paging;
use super::views::{
    FirmwareModel, FirmwarePage, FirmwareSummary, ListPage, VersionCount, percentage,
};
use crate::devices::FleetCounts;
use kernel::access::Caller;
use kernel::error::Error;
use kernel::version::FirmwareVersion;
use std::collections::BTreeMap;

impl Console {
    pub async fn firmware_versions(
        &self,
        caller: &Caller,
        paging: Paging,
    ) -> Result<FirmwarePage, Error> {
        let counts = self.counts_in_scope(caller).await?;
        let mut by_model: BTreeMap<(&str, &str), BTreeMap<&str, u32>> = BTreeMap::new();
        for ((model, manufacturer, version), n) in counts.builds() {
            *by_model
                .entry((model, manufacturer))
                .or_default()
                .entry(version)
                .or_default() += n;
        }
        let mut items = Vec::new();
        for ((model, manufacturer), counts) in by_model {
            let total: u32 = counts.values().sum();
            // Counted versions were checked when reported.
            let mut seen: Vec<(FirmwareVersion, u32)> = counts
                .iter()
                .filter_map(|(v, n)| Some((FirmwareVersion::parse(v)?, *n)))
                .collect();
            seen.sort_by(|a, b| b.0.cmp(&a.0));
            let Some((seen_latest, _)) = seen.first() else {
                continue;
            };
            // The catalogue's release where it knows one, else the newest seen.
            let latest = match kernel::catalogue::spec(model) {
                Some(known) if known.latest_firmware >= *seen_latest => {
                    known.latest_firmware.clone()
                }
                _ => seen_latest.clone(),
            };
            let on_latest = counts.get(latest.as_str()).copied().unwrap_or(0);
            let versions: Vec<VersionCount> = seen
                .into_iter()
                .map(|(v, count)| VersionCount {
                    version: v.to_string(),
                    count,
                })
                .collect();
            items.push(FirmwareModel {
                model: model.to_owned(),
                manufacturer: manufacturer.to_owned(),
                latest_version: latest.to_string(),
                total_devices: total,
                on_latest,
                adoption_percentage: percentage(on_latest, total),
                versions,
            });
        }
        let total_devices: u32 = items.iter().map(|m| m.total_devices).sum();
        let on_latest: u32 = items.iter().map(|m| m.on_latest).sum();
        let page = ListPage::slice(items, paging.page, paging.size);
        Ok(FirmwarePage {
            items: page.items,
            total: page.total,
            page: page.page,
            size: page.size,
            summary: FirmwareSummary {
                total_devices,
                on_latest,
                adoption_percentage: percentage(on_latest, total_devices),
            },
        })
    }

    /// The counters of every operator the caller sees, added up.
    pub(crate) async fn counts_in_scope(&self, caller: &Caller) -> Result<FleetCounts, Error> {
        let mut all = FleetCounts::default();
        for op in self.access.scope(caller).await? {
            all.merge(self.store.fleet_counts(&op).await?);
        }
        Ok(all)
    }
}
