//! Site flexibility: cap a site's load for a while by spreading the cap
//! over its active connectors and queuing power limits.

use crate::access::Access;
use crate::commands::params::SetPowerLimit;
use crate::commands::{CommandParams, Commands, NewCommand};
use crate::devices::DeviceStore;
use crate::sites::SiteStore;
use crate::sites::capacity::{live_connectors, signed_power};
use chrono::{DateTime, Duration, Utc};
use kernel::access::Caller;
use kernel::catalogue::rating;
use kernel::error::Error;
use kernel::ids::{CommandId, ConnectorId, DeviceId, SiteId};
use kernel::model::{ConnectorState, Device, Role};
use kernel::{Clock, Settings};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A flexibility request, parsed: a cap (the only mode) for a while.
#[derive(Debug, Clone)]
pub struct FlexRequest {
    pub site_id: SiteId,
    pub limit_kw: f64,
    pub duration_s: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectorAllocation {
    pub connector_id: ConnectorId,
    pub state: ConnectorState,
    pub power: f64,
    pub soc: Option<f64>,
    /// The limit queued for this connector (discharging ones keep theirs).
    pub limit_kw: f64,
    pub command_id: Option<CommandId>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

ports!(
    /// The ports flexibility uses.
    FlexibilityPorts: DeviceStore, SiteStore
);

/// A site's load capped for a while.
#[derive(Clone)]
pub struct Flexibility {
    store: Arc<dyn FlexibilityPorts>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    access: Access,
    commands: Commands,
}

/// What `Flexibility` is built on.
pub(crate) struct FlexibilityParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) access: Access,
    pub(crate) commands: Commands,
}

impl Flexibility {
    pub(crate) fn new(store: Arc<dyn FlexibilityPorts>, parts: FlexibilityParts) -> Self {
        let FlexibilityParts {
            settings,
            clock,
            access,
            commands,
        } = parts;
        Self {
            store,
            settings,
            clock,
            access,
            commands,
        }
    }
}

impl Flexibility {
    pub async fn flexibility(
        &self,
        caller: &Caller,
        req: FlexRequest,
    ) -> Result<Vec<DeviceAllocation>, Error> {
        let site = self.access.visible_site(caller, req.site_id).await?;
        caller.require(Role::Operator)?;
        let now = self.clock.now();
        let devices = self.store.site_devices(site.site_id).await?;
        let live: Vec<(&Device, ConnectorId, &kernel::model::Connector)> =
            live_connectors(&site, &devices, now, self.settings.offline_after()).collect();

        // Discharging connectors feed the site, so they widen the budget.
        let mut slots = Vec::new();
        let mut budget = req.limit_kw;
        for (d, cid, c) in &live {
            if c.state == ConnectorState::Discharging {
                budget -= signed_power(c.state, c.power);
            } else if charging_side(c.state) {
                // A connector not drawing yet asks for its rating.
                let max = rating(&d.model).max_power_kw;
                let demand = if c.power > 0.0 { c.power.min(max) } else { max };
                slots.push((d.device_id, *cid, demand));
            }
        }
        let shares = fair_share(budget, &slots.iter().map(|s| s.2).collect::<Vec<_>>());

        let mut by_device: BTreeMap<DeviceId, (&Device, Vec<ConnectorAllocation>)> =
            BTreeMap::new();
        for (d, cid, c) in live {
            let slot = slots
                .iter()
                .position(|(sd, sc, _)| *sd == d.device_id && *sc == cid);
            let (limit_kw, command_id) = match slot {
                Some(i) => {
                    let new = NewCommand {
                        connector_id: Some(cid),
                        params: CommandParams::SetPowerLimit(SetPowerLimit {
                            limit_kw: shares[i],
                            duration_s: Some(req.duration_s),
                        }),
                        origin: None,
                    };
                    let (cmd, _) = self.commands.queue_command(d, new, None).await?;
                    (shares[i], Some(cmd.command_id))
                }
                None if c.state == ConnectorState::Discharging => (c.power, None),
                None => continue,
            };
            by_device
                .entry(d.device_id)
                .or_insert((d, Vec::new()))
                .1
                .push(ConnectorAllocation {
                    connector_id: cid,
                    state: c.state,
                    power: c.power,
                    soc: c.soc,
                    limit_kw,
                    command_id,
                });
        }
        let allocations = by_device
            .into_values()
            .map(|(d, connectors)| DeviceAllocation {
                device_id: d.device_id,
                timestamp: now,
                connectors,
            })
            .collect();
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
