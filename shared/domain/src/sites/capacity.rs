//! A site's load and capacity: the one place that says which connectors
//! count, with which sign, and how much a new session may draw.

use super::Sites;
use chrono::{DateTime, Duration, Utc};
use kernel::error::Error;
use kernel::ids::{ConnectorId, DeviceId};
use kernel::model::{Connector, ConnectorState, Device, Site};

/// Smallest power worth starting a session with.
const MIN_START_KW: f64 = 1.0;

/// Power a connector draws now: discharging feeds the site.
pub fn signed_power(state: ConnectorState, power: f64) -> f64 {
    match state {
        ConnectorState::Discharging => -power,
        ConnectorState::Charging | ConnectorState::Suspended | ConnectorState::Preparing => power,
        _ => 0.0,
    }
}

/// The connectors that count toward a site's load: those of its online
/// devices that belong to the site's operator.
pub fn live_connectors<'a>(
    site: &'a Site,
    devices: &'a [Device],
    now: DateTime<Utc>,
    offline_after: Duration,
) -> impl Iterator<Item = (&'a Device, ConnectorId, &'a Connector)> {
    devices
        .iter()
        .filter(move |d| d.operator_id == site.operator_id)
        .filter(move |d| d.is_online(now, offline_after))
        .flat_map(|d| d.connectors.iter().map(move |(id, c)| (d, *id, c)))
}

/// The site's load in kW, leaving out one connector if asked.
pub fn load(
    site: &Site,
    devices: &[Device],
    now: DateTime<Utc>,
    offline_after: Duration,
    except: Option<(DeviceId, ConnectorId)>,
) -> f64 {
    live_connectors(site, devices, now, offline_after)
        .filter(|(d, id, _)| except != Some((d.device_id, *id)))
        .map(|(_, _, c)| signed_power(c.state, c.power))
        .sum()
}

/// The site's capacity, lowered by a flexibility cap while it lasts.
pub fn cap(site: &Site, now: DateTime<Utc>) -> f64 {
    match (site.flex_limit_kw, site.flex_until) {
        (Some(limit), Some(until)) if until > now => site.power_capacity.min(limit),
        _ => site.power_capacity,
    }
}

impl Sites {
    /// The power a new session on this connector may draw without pushing
    /// its site over capacity (or over an active flexibility cap).
    pub(crate) async fn start_power(
        &self,
        device: &Device,
        connector: ConnectorId,
        requested: f64,
    ) -> Result<f64, Error> {
        let Some(site_id) = device.site_id else {
            return Ok(requested);
        };
        let Some(site) = self.store.get_site(site_id).await? else {
            return Ok(requested);
        };
        let now = self.clock.now();
        let devices = self.store.site_devices(site_id).await?;
        let cap = cap(&site, now);
        let load = load(
            &site,
            &devices,
            now,
            self.settings.offline_after(),
            Some((device.device_id, connector)),
        );
        let headroom = cap - load;
        if headroom < MIN_START_KW {
            return Err(Error::Conflict(format!(
                "site {} is at its capacity of {cap} kW ({load:.1} kW in use); nothing fits",
                site.site_id
            )));
        }
        Ok(requested.min((headroom * 10.0).floor() / 10.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discharging_counts_against_the_load() {
        assert_eq!(signed_power(ConnectorState::Discharging, 10.0), -10.0);
        assert_eq!(signed_power(ConnectorState::Charging, 10.0), 10.0);
        assert_eq!(signed_power(ConnectorState::Idle, 10.0), 0.0);
    }
}
