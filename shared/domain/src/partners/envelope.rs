//! Opening a legacy request, in the contract's order: the envelope's
//! shape, the partner, the signature (before anything is decrypted), the
//! time stamp, the access token, the replay guard, and only then `Data`.
//! Also `query_token`, the one route that needs no token.

use super::Partner;
use super::wire::{Refusal, Ret, WireAnswer, WireKeys, WireRequest};
use crate::Domain;
use crate::devices::credentials::{hash_secret, new_secret, secret_matches};
use crate::throttle::Attempt;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use kernel::error::Error;
use kernel::secret::Secret;
use kernel::storage::WriteOutcome;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How far a time stamp may be from now.
const WINDOW_MINUTES: i64 = 5;
/// How long an access token lasts (the standard's 7200 s).
pub const TOKEN_SECONDS: i64 = 7200;

/// Whether a route needs the partner's `AccessToken`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRule {
    /// `query_token` itself.
    Exempt,
    Required,
}

/// A request whose envelope, signature, time and token were checked.
pub struct Opened {
    pub partner: Partner,
    keys: WireKeys,
    payload: Vec<u8>,
}

/// The decrypted payload may carry a secret (`query_token`'s): never shown.
impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("partner", &self.partner.partner_id)
            .field("payload", &"[redacted]")
            .finish()
    }
}

impl Opened {
    /// The decrypted `Data` as `T`; anything else is a parameter error.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, Refusal> {
        serde_json::from_slice(&self.payload).map_err(|e| {
            let text = e.to_string();
            let text = text.split(" at line ").next().unwrap_or(&text).to_owned();
            Refusal::new(Ret::Parameter, format!("Data: {text}"))
        })
    }

    /// The signed, encrypted answer carrying `out`, or the refusal.
    pub fn answer<T: Serialize>(&self, out: Result<T, Refusal>) -> WireAnswer {
        let sealed = out.and_then(|out| {
            let json = serde_json::to_vec(&out)
                .map_err(|_| Refusal::new(Ret::System, "the answer could not be encoded"))?;
            self.keys.seal_answer(&json)
        });
        match sealed {
            Ok(answer) => answer,
            Err(refusal) => self.keys.refuse(&refusal),
        }
    }
}

/// A failure of the store or of our own configuration: the partner sees
/// Ret 500, the log sees the cause.
pub(crate) fn system(e: impl Into<Error>) -> Refusal {
    let e = e.into();
    tracing::error!(error = %e, "a legacy request failed");
    Refusal::new(Ret::System, "system error; retry later")
}

/// The `TimeStamp` as UTC, read in the partner's offset.
fn time_stamp(raw: &str, offset_minutes: i32) -> Option<DateTime<Utc>> {
    if raw.len() != 14 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let local = NaiveDateTime::parse_from_str(raw, "%Y%m%d%H%M%S").ok()?;
    Some(local.and_utc() - Duration::minutes(i64::from(offset_minutes)))
}

impl Domain {
    /// Opens a legacy request; the refusal is the whole answer, signed
    /// once the partner is known.
    pub async fn open_legacy(
        &self,
        body: &[u8],
        bearer: Option<&str>,
        rule: TokenRule,
    ) -> Result<Opened, WireAnswer> {
        let request: WireRequest = serde_json::from_slice(body).map_err(|_| {
            WireAnswer::unsigned(&Refusal::new(
                Ret::Envelope,
                "the body must be JSON {OperatorID, Data, TimeStamp, Seq, Sig}",
            ))
        })?;
        let partner = match self.store.partner_by_code(&request.operator_id).await {
            Ok(Some(partner)) => partner,
            // Without a partner there is no secret to check or sign with.
            Ok(None) => {
                return Err(WireAnswer::unsigned(&Refusal::new(
                    Ret::Signature,
                    "unknown OperatorID",
                )));
            }
            Err(e) => return Err(WireAnswer::unsigned(&system(e))),
        };
        let keys = self
            .partner_keys(&partner)
            .map_err(|e| WireAnswer::unsigned(&system(e)))?;
        match self.check(&partner, &keys, &request, bearer, rule).await {
            Ok(payload) => Ok(Opened {
                partner,
                keys,
                payload,
            }),
            Err(refusal) => Err(keys.refuse(&refusal)),
        }
    }

    async fn check(
        &self,
        partner: &Partner,
        keys: &WireKeys,
        request: &WireRequest,
        bearer: Option<&str>,
        rule: TokenRule,
    ) -> Result<Vec<u8>, Refusal> {
        if !keys.verify(&request.signed_parts(), &request.sig) {
            return Err(Refusal::new(Ret::Signature, "Sig does not match"));
        }
        let now = self.clock.now();
        let at = time_stamp(&request.time_stamp, partner.utc_offset_minutes)
            .ok_or_else(|| Refusal::new(Ret::Envelope, "TimeStamp must be yyyyMMddHHmmss"))?;
        if (now - at).num_seconds().abs() > WINDOW_MINUTES * 60 {
            return Err(Refusal::new(
                Ret::Envelope,
                format!(
                    "TimeStamp is more than {WINDOW_MINUTES} minutes from now (UTC{:+} h)",
                    f64::from(partner.utc_offset_minutes) / 60.0
                ),
            ));
        }
        if request.seq.len() != 4 || !request.seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Refusal::new(Ret::Envelope, "Seq must be 4 digits"));
        }
        if rule == TokenRule::Required {
            self.check_partner_token(partner, bearer, now).await?;
        }
        // Kept past the window, so a replay is refused for as long as its
        // time stamp could pass.
        let until = at.max(now) + Duration::minutes(2 * WINDOW_MINUTES);
        let claimed = self
            .store
            .claim_nonce(
                &partner.partner_operator_id,
                &request.time_stamp,
                &request.seq,
                until,
            )
            .await
            .map_err(system)?;
        if claimed == WriteOutcome::Conflict {
            return Err(Refusal::new(
                Ret::Envelope,
                "replay: this OperatorID, TimeStamp and Seq were seen already",
            ));
        }
        keys.decrypt(&request.data)
    }

    async fn check_partner_token(
        &self,
        partner: &Partner,
        bearer: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        let invalid = || {
            Refusal::new(
                Ret::Token,
                "Authorization: Bearer <AccessToken> from query_token is missing, unknown or expired",
            )
        };
        let token = bearer.ok_or_else(invalid)?;
        let found = self
            .store
            .get_partner_token(&hash_secret(token))
            .await
            .map_err(system)?;
        match found {
            Some(t) if t.partner_id == partner.partner_id && t.expires_at > now => Ok(()),
            _ => Err(invalid()),
        }
    }

    /// `/customer/query_token`. Wrong secrets are counted per partner and
    /// source address, like client credentials: while they are over the
    /// limit every attempt from there is refused, right or wrong.
    pub async fn partner_token(
        &self,
        partner: &Partner,
        login: TokenLogin,
        source: &str,
    ) -> Result<TokenAnswer, Refusal> {
        let code = &partner.partner_operator_id;
        let throttled = |e: Error| match e {
            Error::RateLimited { retry_after_s } => Refusal::new(
                Ret::Throttled,
                format!("too many failed attempts; retry in {retry_after_s} s"),
            ),
            other => system(other),
        };
        self.refuse_while_throttled(Attempt::PartnerToken, code, source)
            .await
            .map_err(throttled)?;
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
            self.count_attempt(Attempt::PartnerToken, Some(code), source)
                .await
                .map_err(throttled)?;
            return Ok(fail(reason));
        }
        let token = new_secret().map_err(system)?;
        let stored = super::PartnerToken {
            partner_id: partner.partner_id,
            expires_at: self.clock.now() + Duration::seconds(TOKEN_SECONDS),
        };
        self.store
            .put_partner_token(&hash_secret(&token), &stored)
            .await
            .map_err(system)?;
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
    fn time_stamps_are_read_in_the_partners_offset() {
        let at = time_stamp("20180120165755", 480).unwrap();
        assert_eq!(at, "2018-01-20T08:57:55Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(
            time_stamp("20180120165755", 0).unwrap(),
            "2018-01-20T16:57:55Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(time_stamp("2018012016575", 0).is_none());
        assert!(time_stamp("20181320165755", 0).is_none());
        assert!(time_stamp("2018-01-20 16:5", 0).is_none());
    }
}
