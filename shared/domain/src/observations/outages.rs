//! Outages: a device silent for more than 90 s. The message that ends the
//! silence keeps it (its old `last_seen` comes back from the update that
//! marks it seen); a device silent now has an open outage up to now,
//! derived at read time.

use super::{Observations, Outage, Window};
use chrono::{DateTime, Duration, Utc};
use kernel::error::Error;
use kernel::ids::{DeviceId, OperatorId};
use kernel::model::Device;
use std::collections::HashMap;

/// Silence longer than this is an outage (three missed 30 s heartbeats).
pub const SILENCE: Duration = Duration::seconds(90);

/// The outage a message at `now` ends, from the device as it was before.
/// A device on an open connection (OCPP) is present however long it says
/// nothing: its heartbeats may be minutes apart.
pub fn ended_by(before: &Device, now: DateTime<Utc>) -> Option<Outage> {
    if before.connected(now) {
        return None;
    }
    let last = before.last_seen?;
    (now - last > SILENCE).then(|| Outage {
        device_id: before.device_id,
        operator_id: before.operator_id.clone(),
        site_id: before.site_id,
        from: last,
        to: now,
    })
}

/// The outage a device silent now is in, up to now.
pub fn open(device: &Device, now: DateTime<Utc>) -> Option<Window> {
    ended_by(device, now).map(|o| Window {
        from: o.from,
        to: o.to,
    })
}

/// Overlapping or touching windows joined, in time order.
pub fn merged(mut windows: Vec<Window>) -> Vec<Window> {
    windows.sort_by_key(|w| w.from);
    let mut out: Vec<Window> = Vec::with_capacity(windows.len());
    for w in windows {
        match out.last_mut() {
            Some(last) if w.from <= last.to => last.to = last.to.max(w.to),
            _ => out.push(w),
        }
    }
    out
}

impl Observations {
    /// Keeps the outage a message ends, if it ends one: one more write
    /// after a gap, none otherwise.
    pub(crate) async fn note_outage(
        &self,
        before: &Device,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        if let Some(outage) = ended_by(before, now) {
            self.store.put_outage(&outage).await?;
        }
        Ok(())
    }

    /// Each device's outages that overlap `window`, merged, with the open
    /// outage of a device silent now.
    pub(crate) async fn outages_by_device(
        &self,
        operator: &OperatorId,
        devices: &[Device],
        window: Window,
    ) -> Result<HashMap<DeviceId, Vec<Window>>, Error> {
        let now = self.clock.now();
        let mut by: HashMap<DeviceId, Vec<Window>> = HashMap::new();
        for o in self.store.outages(operator, window.from).await? {
            if o.from < window.to {
                by.entry(o.device_id).or_default().push(Window {
                    from: o.from,
                    to: o.to,
                });
            }
        }
        for d in devices {
            if let Some(w) = open(d, now).filter(|w| w.from < window.to) {
                by.entry(d.device_id).or_default().push(w);
            }
        }
        Ok(by.into_iter().map(|(d, w)| (d, merged(w))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(m: i64) -> DateTime<Utc> {
        "2026-05-10T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(m)
    }

    #[test]
    fn overlapping_outages_count_once() {
        let w = |a, b| Window {
            from: at(a),
            to: at(b),
        };
        assert_eq!(
            merged(vec![w(10, 20), w(0, 5), w(15, 30)]),
            vec![w(0, 5), w(10, 30)]
        );
    }
}
