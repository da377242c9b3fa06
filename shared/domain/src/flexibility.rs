//! Site flexibility: cap a site's load for a while by spreading the cap
//! over its active connectors and queuing power limits.

use crate::Domain;
use crate::catalogue::rating;
use crate::dispatch::signed_power;
use crate::error::Error;
use crate::ids::{CommandId, DeviceId, SiteId};
use crate::model::{CommandKind, ConnectorState, Role};
use crate::operators::Caller;
use crate::validate::Problems;
use crate::views::{DeviceStatus, device_status};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, json};
use utoipa::ToSchema;

#[derive(Debug, Clone)]
pub struct FlexRequest {
    pub site_id: String,
    pub limit_kw: f64,
    pub duration_s: i64,
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectorAllocation {
    pub connector_id: u32,
    pub state: ConnectorState,
    pub power: f64,
    pub soc: Option<f64>,
    /// The limit queued for this connector (discharging ones keep theirs).
    pub limit_kw: f64,
    pub command_id: Option<CommandId>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceAllocation {
    pub device_id: DeviceId,
    pub timestamp: DateTime<Utc>,
    pub connectors: Vec<ConnectorAllocation>,
}

/// Max-min fair shares of `budget` for `demands`: nobody gets more than
/// asked, and what one does not need is shared by the others.
pub fn fair_share(budget: f64, demands: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..demands.len()).collect();
    order.sort_by(|a, b| demands[*a].total_cmp(&demands[*b]));
    let mut out = vec![0.0; demands.len()];
    let mut left = budget.max(0.0);
    for (done, &i) in order.iter().enumerate() {
        let share = left / (order.len() - done) as f64;
        let give = demands[i].max(0.0).min(share);
        out[i] = (give * 100.0).floor() / 100.0;
        left -= out[i];
    }
    out
}

fn charging_side(state: ConnectorState) -> bool {
    matches!(
        state,
        ConnectorState::Charging | ConnectorState::Suspended | ConnectorState::Preparing
    )
}

impl Domain {
    pub async fn flexibility(
        &self,
        caller: &Caller,
        req: FlexRequest,
    ) -> Result<Vec<DeviceAllocation>, Error> {
        let mut p = Problems::default();
        let site_id = SiteId::parse(&req.site_id);
        p.check(site_id.is_some(), "site_id", "must be a UUID");
        p.check(
            req.limit_kw.is_finite() && req.limit_kw >= 0.0,
            "limit_kw",
            "must be a number >= 0",
        );
        p.check(
            (1..=86_400).contains(&req.duration_s),
            "duration_s",
            "must be 1..86400",
        );
        p.check(
            req.mode.as_deref().is_none_or(|m| m == "cap"),
            "mode",
            "must be cap",
        );
        p.finish()?;
        let not_found = || Error::NotFound(format!("site {} not found", req.site_id));
        let site = self
            .store
            .get_site(site_id.ok_or_else(not_found)?)
            .await?
            .filter(|s| caller.sees(&s.operator_id))
            .ok_or_else(not_found)?;
        caller.require(Role::Operator)?;
        let now = self.clock.now();
        let devices: Vec<_> = self
            .store
            .site_devices(site.site_id)
            .await?
            .into_iter()
            .filter(|d| d.operator_id == site.operator_id)
            .filter(|d| {
                device_status(d, now, self.settings.offline_after()) != DeviceStatus::Offline
            })
            .collect();

        // Discharging connectors feed the site, so they widen the budget.
        let mut slots = Vec::new();
        let mut budget = req.limit_kw;
        for d in &devices {
            let r = rating(&d.model);
            for (cid, c) in &d.connectors {
                let Ok(cid) = cid.parse::<u32>() else {
                    continue;
                };
                if c.state == ConnectorState::Discharging {
                    budget -= signed_power(c.state, c.power);
                } else if charging_side(c.state) {
                    // A connector not drawing yet asks for its rating.
                    let demand = if c.power > 0.0 {
                        c.power.min(r.max_power_kw)
                    } else {
                        r.max_power_kw
                    };
                    slots.push((d, cid, demand));
                }
            }
        }
        let shares = fair_share(budget, &slots.iter().map(|s| s.2).collect::<Vec<_>>());

        let mut allocations: Vec<DeviceAllocation> = Vec::new();
        for d in &devices {
            let mut connectors = Vec::new();
            for (cid, c) in &d.connectors {
                let Ok(cid) = cid.parse::<u32>() else {
                    continue;
                };
                let slot = slots
                    .iter()
                    .position(|(sd, sc, _)| sd.device_id == d.device_id && *sc == cid);
                let (limit_kw, command_id) = match slot {
                    Some(i) => {
                        let mut params = Map::new();
                        params.insert("limit_kw".into(), json!(shares[i]));
                        params.insert("duration_s".into(), json!(req.duration_s));
                        let cmd = self
                            .enqueue_command(d, Some(cid), CommandKind::SetPowerLimit, params)
                            .await?;
                        (shares[i], Some(cmd.command_id))
                    }
                    None if c.state == ConnectorState::Discharging => (c.power, None),
                    None => continue,
                };
                connectors.push(ConnectorAllocation {
                    connector_id: cid,
                    state: c.state,
                    power: c.power,
                    soc: c.soc,
                    limit_kw,
                    command_id,
                });
            }
            if !connectors.is_empty() {
                allocations.push(DeviceAllocation {
                    device_id: d.device_id,
                    timestamp: now,
                    connectors,
                });
            }
        }
        self.store
            .set_site_cap(
                site.site_id,
                req.limit_kw,
                now + Duration::seconds(req.duration_s),
                now,
            )
            .await?;
        Ok(allocations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_shared_fairly_and_nobody_gets_more_than_asked() {
        assert_eq!(fair_share(60.0, &[10.0, 50.0, 50.0]), [10.0, 25.0, 25.0]);
        assert_eq!(fair_share(300.0, &[10.0, 50.0]), [10.0, 50.0]);
        assert_eq!(fair_share(0.0, &[10.0, 50.0]), [0.0, 0.0]);
        assert_eq!(fair_share(-5.0, &[10.0]), [0.0]);
    }

    #[test]
    fn shares_never_add_up_past_the_budget() {
        let shares = fair_share(100.0, &[33.3, 80.0, 80.0, 7.0]);
        assert!(shares.iter().sum::<f64>() <= 100.0 + 1e-9);
        assert_eq!(shares[3], 7.0);
    }
}
