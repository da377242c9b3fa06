//! The pure rules of a campaign: how waves round device counts, when a
//! wave has finished and what comes next.

use super::{Campaign, CampaignCounts};
use kernel::input::Parsed;

/// Default waves (cumulative percent) and failure threshold (contract §10).
pub const DEFAULT_WAVES: [u8; 3] = [10, 50, 100];
pub const DEFAULT_FAILURE_THRESHOLD_PCT: u8 = 10;
pub const MAX_WAVES: usize = 10;

/// Waves as given: 1..10 cumulative percentages, rising, ending at 100.
pub fn parse_waves(raw: &[i64]) -> Parsed<Vec<u8>> {
    let rising = raw.windows(2).all(|w| w[0] < w[1]);
    let ok = (1..=MAX_WAVES).contains(&raw.len())
        && raw.iter().all(|p| (1..=100).contains(p))
        && rising
        && raw.last() == Some(&100);
    if !ok {
        return Err(kernel::FieldError::new(
            "waves",
            format!("must be 1..{MAX_WAVES} rising cumulative percentages (1..100) ending at 100"),
        ));
    }
    Ok(raw.iter().map(|p| *p as u8).collect())
}

/// Devices sent the update once wave `wave` (1-based) has gone out: the
/// wave's share of the eligible devices, rounded up, so that every wave
/// but an empty one sends at least one device.
pub fn cumulative(eligible: u32, waves: &[u8], wave: u32) -> u32 {
    let Some(pct) = wave
        .checked_sub(1)
        .and_then(|i| waves.get(i as usize))
        .copied()
    else {
        return 0;
    };
    (u64::from(eligible) * u64::from(pct)).div_ceil(100) as u32
}

/// Failures above the threshold, as a share of the devices with an outcome.
pub fn over_threshold(c: &CampaignCounts, threshold_pct: u8) -> bool {
    let outcomes = c.installed + c.failed;
    outcomes > 0 && u64::from(c.failed) * 100 > u64::from(threshold_pct) * u64::from(outcomes)
}

/// What a running campaign does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send the update to this many more pending devices.
    Send(u32),
    /// The current wave is still updating.
    Wait,
    /// Start the next wave.
    NextWave,
    Pause(String),
    Complete,
}

pub fn next_step(c: &Campaign) -> Step {
    let counts = &c.counts;
    if c.wave == 0 {
        return Step::NextWave;
    }
    let sent = counts.eligible - counts.pending;
    let due = cumulative(counts.eligible, &c.waves, c.wave);
    if sent < due && counts.pending > 0 {
        return Step::Send(due - sent);
    }
    if counts.updating > 0 {
        return Step::Wait;
    }
    // The wave has finished: every device sent has installed, failed or
    // timed out.
    if over_threshold(counts, c.failure_threshold_pct) && c.resumed_wave != Some(c.wave) {
        return Step::Pause(format!(
            "{} of {} devices failed after wave {}, above the {}% threshold",
            counts.failed,
            counts.installed + counts.failed,
            c.wave,
            c.failure_threshold_pct
        ));
    }
    if counts.pending == 0 || c.wave as usize >= c.waves.len() {
        return Step::Complete;
    }
    Step::NextWave
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_round_up_their_share_of_the_eligible_devices() {
        assert_eq!(cumulative(10, &[20, 100], 1), 2);
        assert_eq!(cumulative(10, &[20, 100], 2), 10);
        assert_eq!(cumulative(3, &[10, 50, 100], 1), 1);
        assert_eq!(cumulative(3, &[10, 50, 100], 2), 2);
        assert_eq!(cumulative(1, &[10, 50, 100], 2), 1);
        assert_eq!(cumulative(10, &[20, 100], 0), 0);
    }

    #[test]
    fn waves_must_rise_and_end_at_100() {
        assert_eq!(parse_waves(&[10, 50, 100]), Ok(vec![10, 50, 100]));
        assert!(parse_waves(&[50, 50, 100]).is_err());
        assert!(parse_waves(&[10, 50]).is_err());
        assert!(parse_waves(&[]).is_err());
        assert!(parse_waves(&[0, 100]).is_err());
    }

    #[test]
    fn a_wave_must_finish_before_the_next_and_failures_above_the_threshold_pause() {
        let now = chrono::Utc::now();
        let mut c = Campaign {
            campaign_id: kernel::ids::CampaignId::random(),
            operator_id: kernel::ids::OperatorId::parse("acme").unwrap(),
            model: "TP-AC22".into(),
            target_version: kernel::version::FirmwareVersion::parse("2.0.0").unwrap(),
            firmware_url: "https://fw.example.com/2.0.0.bin".into(),
            site_id: None,
            waves: vec![20, 100],
            failure_threshold_pct: 10,
            status: super::super::CampaignStatus::Running,
            wave: 0,
            paused_reason: None,
            counts: CampaignCounts {
                eligible: 10,
                pending: 10,
                ..CampaignCounts::default()
            },
            resumed_wave: None,
            revision: 0,
            created_at: now,
            updated_at: now,
        };
        assert_eq!(next_step(&c), Step::NextWave);
        c.wave = 1;
        assert_eq!(next_step(&c), Step::Send(2));
        (c.counts.pending, c.counts.updating) = (8, 2);
        assert_eq!(next_step(&c), Step::Wait);
        (c.counts.updating, c.counts.installed, c.counts.failed) = (0, 1, 1);
        assert!(matches!(next_step(&c), Step::Pause(_)));
        c.resumed_wave = Some(1);
        assert_eq!(next_step(&c), Step::NextWave);
        c.wave = 2;
        assert_eq!(next_step(&c), Step::Send(8));
        (c.counts.pending, c.counts.installed) = (0, 9);
        assert_eq!(next_step(&c), Step::Complete, "1 of 10 is within 10%");
    }

    #[test]
    fn the_threshold_is_a_share_of_the_devices_with_an_outcome() {
        let counts = |installed, failed| CampaignCounts {
            eligible: 10,
            pending: 0,
            updating: 0,
            installed,
            failed,
        };
        assert!(!over_threshold(&counts(9, 1), 10));
        assert!(over_threshold(&counts(8, 2), 10));
        assert!(over_threshold(&counts(1, 1), 10));
        assert!(!over_threshold(&counts(0, 0), 10));
    }
}
