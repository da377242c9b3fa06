//! What the domain decides about a legacy request once the protocol layer
//! has checked its envelope and signature: whose it is, whether it carries
//! the partner's access token, and whether it was seen before (the replay
//! guard). Also `query_token`, the one route that needs no token. The
//! wire format and its cryptography are the `tcec` crate's.

use super::Partner;
use super::Partners;
use crate::throttle::Attempt;
use chrono::{DateTime, Duration, Utc};
use kernel::error::Error;
use kernel::secret::Secret;
use kernel::secret::{hash_secret, new_secret, secret_matches};
use kernel::storage::WriteOutcome;
use serde::Serialize;

/// How long an access token lasts (the standard's 7200 s).
pub const TOKEN_SECONDS: i64 = 7200;

/// Whether a route needs the partner's `AccessToken`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRule {
    /// `query_token` itself.
    Exempt,
    Required,
}

/// Why a signed, timely request is not admitted.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("Authorization: Bearer <AccessToken> from query_token is missing, unknown or expired")]
    Token,
    #[error("replay: this OperatorID, TimeStamp and Seq were seen already")]
    Replay,
    #[error(transparent)]
    Store(#[from] Error),
}

/// One request to admit: its envelope's `TimeStamp` (read as `at`) and
/// `Seq`, and the Bearer token it came with.
#[derive(Debug, Clone, Copy)]
pub struct Admission<'a> {
    pub time_stamp: &'a str,
    pub at: DateTime<Utc>,
    pub seq: &'a str,
    pub bearer: Option<&'a str>,
    pub rule: TokenRule,
}

/// How long the replay guard keeps a request: past the time window, so a
/// replay is refused for as long as its time stamp could pass.
fn replay_guard_until(at: DateTime<Utc>, now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    at.max(now) + window * 2
}

impl Partners {
    /// The partner that signs with this 9-character id.
    pub async fn partner_by_code(&self, code: &str) -> Result<Option<Partner>, Error> {
        Ok(self.store.partner_by_code(code).await?)
    }

    /// Admits a request whose signature and time stamp the protocol layer
    /// checked (within `window` of now): its token, then its replay claim,
    /// which only a correctly signed, fresh, authorised request spends.
    pub async fn admit_legacy(
        &self,
        partner: &Partner,
        request: Admission<'_>,
        window: Duration,
    ) -> Result<(), Refused> {
        let now = self.clock.now();
        if request.rule == TokenRule::Required {
            let token = request.bearer.ok_or(Refused::Token)?;
            let found = self.store.get_partner_token(&hash_secret(token)).await;
            match found.map_err(Error::from)? {
                Some(t) if t.partner_id == partner.partner_id && t.expires_at > now => {}
                _ => return Err(Refused::Token),
            }
        }
        let until = replay_guard_until(request.at, now, window);
        let claimed = self
            .store
            .claim_nonce(
                &partner.partner_operator_id,
                request.time_stamp,
                request.seq,
                until,
            )
            .await
            .map_err(Error::from)?;
        if claimed == WriteOutcome::Conflict {
            return Err(Refused::Replay);
        }
        Ok(())
    }

    /// `/customer/query_token`. Wrong secrets are counted per partner and
    /// source address, like client credentials: while they are over the
    /// limit every attempt from there is refused (`RateLimited`), right or
    /// wrong.
    pub async fn partner_token(
        &self,
        partner: &Partner,
        login: TokenLogin,
        source: &str,
    ) -> Result<TokenAnswer, Error> {
        let code = &partner.partner_operator_id;
        self.throttle
            .refuse_while_throttled(Attempt::PartnerToken, code, source)
            .await?;
        let fail = |reason| TokenAnswer {
            operator_id: login.operator_id.clone(),
            succ_stat: 1,
            access_token: Secret::new(String::new()),
            token_available_time: 0,
            fail_reason: reason,
        };
        let reason = if login.operator_id != partner.partner_operator_id {
            1
        } else if !secret_matches(
            login.operator_secret.expose(),
            &partner.operator_secret_hash,
        ) {
            2
        } else {
            0
        };
        if reason != 0 {
            self.throttle
                .count_attempt(Attempt::PartnerToken, Some(code), source)
                .await?;
            return Ok(fail(reason));
        }
        let token = new_secret()?;
        let stored = super::PartnerToken {
            partner_id: partner.partner_id,
            expires_at: self.clock.now() + Duration::seconds(TOKEN_SECONDS),
        };
        self.store
            .put_partner_token(&hash_secret(&token), &stored)
            .await?;
        Ok(TokenAnswer {
            operator_id: login.operator_id.clone(),
            succ_stat: 0,
            access_token: Secret::new(token),
            token_available_time: TOKEN_SECONDS,
            fail_reason: 0,
        })
    }
}

/// `query_token`'s Data.
#[derive(Debug, Clone)]
pub struct TokenLogin {
    pub operator_id: String,
    pub operator_secret: Secret<String>,
}

/// `query_token`'s answer; the token travels only inside encrypted Data.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenAnswer {
    #[serde(rename = "OperatorID")]
    pub operator_id: String,
    pub succ_stat: u32,
    pub access_token: Secret<String>,
    pub token_available_time: i64,
    pub fail_reason: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_is_guarded_for_as_long_as_its_time_stamp_could_pass() {
        let now: DateTime<Utc> = "2026-05-10T14:00:00Z".parse().unwrap();
        let window = Duration::minutes(5);
        let early = now - Duration::minutes(4);
        let late = now + Duration::minutes(4);
        assert_eq!(replay_guard_until(early, now, window), now + window * 2);
        assert_eq!(replay_guard_until(late, now, window), late + window * 2);
    }
}
