//! Sharing a site's power among its sessions (contract §16), as a pure
//! function of the sessions, what they draw and what they were given.

use chrono::{DateTime, Utc};
use kernel::ids::{ConnectorId, DeviceId};
use serde::{Deserialize, Serialize};

/// A connector drawing under this share of its limit is tapering...
const TAPERING_BELOW: f64 = 0.8;
/// ...for this many samples in a row; it is given its draw × 1.1.
const TAPER_SAMPLES: u8 = 2;
const TAPER_HEADROOM: f64 = 1.1;
/// A tapered connector drawing this share of its limit again, as often,
/// rejoins the equal share.
const REJOIN_AT: f64 = 0.95;

/// One session's part of the site, as kept between recomputations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub device_id: DeviceId,
    pub connector_id: ConnectorId,
    /// When the session began: the newest wait first.
    pub since: DateTime<Utc>,
    /// kW; what was last sent.
    pub limit_kw: f64,
    /// Samples in a row under 80 % of the limit (or, tapered, at 95 %).
    #[serde(default)]
    pub run: u8,
    /// Set while the session is given its draw × 1.1.
    #[serde(default)]
    pub tapered: bool,
    /// Cleared when the charger refused a limit: it counts at its rating
    /// until its next session.
    #[serde(default = "steerable")]
    pub steerable: bool,
    /// The connector's last sample counted toward `run`: a recomputation
    /// another connector caused is no sample of this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted: Option<DateTime<Utc>>,
}

fn steerable() -> bool {
    true
}

/// A session as the recomputation sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub device_id: DeviceId,
    pub connector_id: ConnectorId,
    pub since: DateTime<Utc>,
    /// The model's rating, kW.
    pub rating_kw: f64,
    /// What it draws now, kW, as of its last sample.
    pub power_kw: f64,
    pub sampled_at: Option<DateTime<Utc>>,
}

/// What the site may give its sessions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// kW: the capacity, less the reserve and any flexibility cap's cut.
    pub available_kw: f64,
    pub min_session_kw: f64,
}

fn kw(x: f64) -> f64 {
    (x.max(0.0) * 10.0).floor() / 10.0
}

/// The sessions' new shares: oldest first, each capped at its rating;
/// a tapering session keeps its draw × 1.1 and frees the rest; the newest
/// wait at 0 while not every session can have the minimum.
pub fn allocate(budget: Budget, sessions: &[Session], before: &[Share]) -> Vec<Share> {
    let mut sessions = sessions.to_vec();
    sessions.sort_by(|a, b| a.since.cmp(&b.since).then(a.device_id.cmp(&b.device_id)));
    let previous = |s: &Session| {
        before
            .iter()
            .find(|p| p.device_id == s.device_id && p.connector_id == s.connector_id)
    };
    // Follow each session's taper from its last limit and this draw; a
    // taper's limit is set when it starts and kept until it ends.
    let mut newly = vec![false; sessions.len()];
    let mut shares: Vec<Share> = sessions
        .iter()
        .zip(newly.iter_mut())
        .map(|(s, newly)| {
            let mut share = previous(s).cloned().unwrap_or(Share {
                device_id: s.device_id,
                connector_id: s.connector_id,
                since: s.since,
                limit_kw: 0.0,
                run: 0,
                tapered: false,
                steerable: true,
                counted: None,
            });
            let fresh = s
                .sampled_at
                .is_some_and(|t| share.counted.is_none_or(|c| t > c));
            if share.limit_kw > 0.0 && fresh {
                share.counted = s.sampled_at;
                let ratio = s.power_kw / share.limit_kw;
                let counts = if share.tapered {
                    ratio >= REJOIN_AT
                } else {
                    ratio < TAPERING_BELOW
                };
                share.run = if counts {
                    share.run.saturating_add(1)
                } else {
                    0
                };
                if share.run >= TAPER_SAMPLES {
                    share.tapered = !share.tapered;
                    *newly = share.tapered;
                    share.run = 0;
                }
            }
            share
        })
        .collect();
    let mut left = budget.available_kw.max(0.0);
    // Fixed parts first: chargers that cannot be steered, tapered sessions.
    let mut open = Vec::new();
    for (i, (share, s)) in shares.iter_mut().zip(&sessions).enumerate() {
        if !share.steerable {
            share.limit_kw = s.rating_kw;
            left -= s.rating_kw;
        } else if share.tapered {
            if newly[i] {
                // Never under the minimum: a car at 0 must be able to rejoin.
                let draw = (s.power_kw * TAPER_HEADROOM).max(budget.min_session_kw);
                share.limit_kw = kw(draw.min(s.rating_kw));
            }
            left -= share.limit_kw;
        } else {
            open.push(i);
        }
    }
    left = left.max(0.0);
    // As many of the oldest as can each have the minimum.
    let min = budget.min_session_kw.max(0.0);
    let fits = if min > 0.0 {
        ((left / min).floor() as usize).min(open.len())
    } else {
        open.len()
    };
    let (served, waiting) = open.split_at(fits);
    for &i in waiting {
        shares[i].limit_kw = 0.0;
    }
    // Equal shares, each capped at its rating; what a capped one leaves is
    // shared by the rest.
    let mut by_rating: Vec<usize> = served.to_vec();
    by_rating.sort_by(|a, b| sessions[*a].rating_kw.total_cmp(&sessions[*b].rating_kw));
    for (done, &i) in by_rating.iter().enumerate() {
        let equal = left / (by_rating.len() - done) as f64;
        let give = kw(equal.min(sessions[i].rating_kw));
        shares[i].limit_kw = give;
        left -= give;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .to_utc()
            + Duration::minutes(min)
    }

    fn session(n: u8, since: i64, rating: f64, power: f64) -> Session {
        let mut id = [0u8; 16];
        id[15] = n;
        Session {
            device_id: DeviceId(uuid::Uuid::from_bytes(id)),
            connector_id: ConnectorId::new(1).unwrap(),
            since: at(since),
            rating_kw: rating,
            power_kw: power,
            sampled_at: None,
        }
    }

    fn budget(kw: f64) -> Budget {
        Budget {
            available_kw: kw,
            min_session_kw: 1.4,
        }
    }

    fn limits(shares: &[Share]) -> Vec<f64> {
        shares.iter().map(|s| s.limit_kw).collect()
    }

    #[test]
    fn equal_shares_capped_at_each_rating_and_never_over_the_budget() {
        let sessions = [
            session(1, 0, 22.0, 0.0),
            session(2, 1, 7.4, 0.0),
            session(3, 2, 22.0, 0.0),
        ];
        let shares = allocate(budget(50.0), &sessions, &[]);
        assert_eq!(limits(&shares), vec![21.3, 7.4, 21.3]);
        assert!(limits(&shares).iter().sum::<f64>() <= 50.0);
        let roomy = allocate(budget(100.0), &sessions, &[]);
        assert_eq!(limits(&roomy), vec![22.0, 7.4, 22.0]);
    }

    #[test]
    fn a_tapering_car_keeps_its_draw_and_frees_the_rest_until_it_draws_again() {
        let mut s = [session(1, 0, 22.0, 0.0), session(2, 1, 22.0, 0.0)];
        let mut shares = allocate(budget(30.0), &s, &[]);
        assert_eq!(limits(&shares), vec![15.0, 15.0]);
        let mut minute = 0;
        let mut sample = |s: &mut [Session], p0: f64, p1: f64| {
            minute += 1;
            s[0].power_kw = p0;
            s[1].power_kw = p1;
            s[0].sampled_at = Some(at(minute));
            s[1].sampled_at = Some(at(minute));
        };
        // Two samples at 5 kW of 15: tapered, given 5.5.
        sample(&mut s, 5.0, 15.0);
        shares = allocate(budget(30.0), &s, &shares);
        assert_eq!(
            limits(&shares),
            vec![15.0, 15.0],
            "one sample is not a taper"
        );
        shares = allocate(budget(30.0), &s, &shares);
        assert_eq!(limits(&shares), vec![15.0, 15.0], "no new sample, no count");
        sample(&mut s, 5.0, 15.0);
        shares = allocate(budget(30.0), &s, &shares);
        assert_eq!(limits(&shares), vec![5.5, 22.0]);
        // Drawing 95 % of 5.5 twice: back to the equal share.
        sample(&mut s, 5.3, 22.0);
        shares = allocate(budget(30.0), &s, &shares);
        assert_eq!(limits(&shares), vec![5.5, 22.0], "the taper's limit holds");
        sample(&mut s, 5.3, 22.0);
        shares = allocate(budget(30.0), &s, &shares);
        assert_eq!(limits(&shares), vec![15.0, 15.0]);
    }

    #[test]
    fn the_newest_wait_when_not_all_can_have_the_minimum_and_no_one_is_dropped() {
        let s: Vec<Session> = (0..5).map(|n| session(n, n as i64, 22.0, 0.0)).collect();
        let shares = allocate(budget(4.5), &s, &[]);
        assert_eq!(limits(&shares), vec![1.5, 1.5, 1.5, 0.0, 0.0]);
        assert_eq!(shares.len(), 5);
    }

    #[test]
    fn a_charger_that_cannot_be_steered_counts_at_its_rating() {
        let s = [session(1, 0, 22.0, 22.0), session(2, 1, 22.0, 0.0)];
        let mut before = allocate(budget(30.0), &s, &[]);
        before[0].steerable = false;
        let shares = allocate(budget(30.0), &s, &before);
        assert_eq!(limits(&shares), vec![22.0, 8.0]);
    }
}
