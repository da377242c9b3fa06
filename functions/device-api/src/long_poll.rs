//! The long-poll for commands (`GET /v1/device/commands`): looks at the
//! device's queue, and while it is empty waits with a growing pause until
//! `wait` seconds (capped by the deployment) have passed. Waiting only
//! reads; it lives here, at the edge, because it is about holding an HTTP
//! request open, not about commands.

use api::ApiError;
use domain::Domain;
use domain::devices::credentials::TokenClaims;
use kernel::command::CommandView;
use std::time::Duration;
use tokio::time::Instant;

/// `wait` of a long-poll that names none (contract: 20 s, within the cap).
const DEFAULT_WAIT_S: i64 = 20;
/// Shortest and longest pause between two looks at the queue.
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_millis(1000);

/// The oldest deliverable command, or `None` once the wait is over.
pub async fn next_command(
    domain: &Domain,
    claims: TokenClaims,
    wait: Option<i64>,
) -> Result<Option<CommandView>, ApiError> {
    let cap = domain.settings.long_poll_max.num_milliseconds().max(0) as u64;
    let wait_s = wait.unwrap_or(DEFAULT_WAIT_S).max(0) as u64;
    let device = domain.devices.device_seen(claims).await?;
    let deadline = Instant::now() + Duration::from_millis(wait_s.saturating_mul(1000).min(cap));
    let mut pause = BACKOFF_START;
    loop {
        if let Some(cmd) = domain.commands.next_command(device.device_id).await? {
            return Ok(Some(cmd));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(BACKOFF_MAX);
    }
}
