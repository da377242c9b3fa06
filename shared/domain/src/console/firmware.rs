//! Firmware adoption per model: which versions run where, against the
//! newest release known for the model.

use super::paging::Paging;
use super::views::{
    FirmwareModel, FirmwarePage, FirmwareSummary, ListPage, VersionCount, percentage, version_cmp,
};
use crate::Domain;
use crate::access::Caller;
use crate::error::Error;
use crate::model::Device;
use std::collections::BTreeMap;

impl Domain {
    pub async fn firmware_versions(
        &self,
        caller: &Caller,
        paging: Paging,
    ) -> Result<FirmwarePage, Error> {
        let devices = self.devices_in_scope(caller).await?;
        let mut by_model: BTreeMap<(String, String), Vec<&Device>> = BTreeMap::new();
        for d in &devices {
            by_model
                .entry((d.model.clone(), d.manufacturer.clone()))
                .or_default()
                .push(d);
        }
        let mut items = Vec::new();
        for ((model, manufacturer), ds) in by_model {
            let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
            for d in &ds {
                *counts.entry(d.firmware_version.as_str()).or_default() += 1;
            }
            let seen_latest = counts
                .keys()
                .copied()
                .max_by(|a, b| version_cmp(a, b))
                .unwrap_or_default()
                .to_owned();
            // The catalogue's release where it knows one, else the newest seen.
            let latest = match crate::catalogue::spec(&model) {
                Some(known) if version_cmp(&known.latest_firmware, &seen_latest).is_ge() => {
                    known.latest_firmware.clone()
                }
                _ => seen_latest,
            };
            let on_latest = counts.get(latest.as_str()).copied().unwrap_or(0);
            let mut versions: Vec<VersionCount> = counts
                .into_iter()
                .map(|(v, count)| VersionCount {
                    version: v.to_owned(),
                    count,
                })
                .collect();
            versions.sort_by(|a, b| version_cmp(&b.version, &a.version));
            let total = ds.len() as u32;
            items.push(FirmwareModel {
                model,
                manufacturer,
                latest_version: latest,
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
}
