//! Opening a legacy request, in the contract's order: the envelope's
//! shape, the partner, the signature (before anything is decrypted), the
//! time stamp and `Seq`, then the domain's admission (the access token and
//! the replay guard), and only then `Data`. Refusals before the partner is
//! known are unsigned: there is no secret to sign them with.

use crate::refusal::system;
use crate::vault;
use crate::wire::{Refusal, Ret, WireAnswer, WireKeys, WireRequest};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use domain::Domain;
use domain::partners::{Admission, Partner, Refused, TokenRule};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How far a time stamp may be from now.
const WINDOW_MINUTES: i64 = 5;

/// A request whose envelope, signature, time, token and replay guard
/// passed: its partner, keys and decrypted payload.
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

/// The `TimeStamp` as UTC, read in the partner's offset.
fn time_stamp(raw: &str, offset_minutes: i32) -> Option<DateTime<Utc>> {
    if raw.len() != 14 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let local = NaiveDateTime::parse_from_str(raw, "%Y%m%d%H%M%S").ok()?;
    Some(local.and_utc() - Duration::minutes(i64::from(offset_minutes)))
}

/// A partner's wire secrets, unsealed with this function's key.
pub fn partner_keys(domain: &Domain, partner: &Partner) -> Result<WireKeys, Refusal> {
    let key = vault::key(domain).map_err(system)?;
    vault::open(key, &partner.sealed_keys).map_err(system)
}

/// Opens a legacy request; the refusal is the whole answer, signed once
/// the partner is known.
pub async fn open(
    domain: &Domain,
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
    let partner = match domain.partners.partner_by_code(&request.operator_id).await {
        Ok(Some(partner)) => partner,
        Ok(None) => {
            return Err(WireAnswer::unsigned(&Refusal::new(
                Ret::Signature,
                "unknown OperatorID",
            )));
        }
        Err(e) => return Err(WireAnswer::unsigned(&system(e))),
    };
    let keys = partner_keys(domain, &partner).map_err(|r| WireAnswer::unsigned(&r))?;
    match check(domain, &partner, &keys, &request, bearer, rule).await {
        Ok(payload) => Ok(Opened {
            partner,
            keys,
            payload,
        }),
        Err(refusal) => Err(keys.refuse(&refusal)),
    }
}

async fn check(
    domain: &Domain,
    partner: &Partner,
    keys: &WireKeys,
    request: &WireRequest,
    bearer: Option<&str>,
    rule: TokenRule,
) -> Result<Vec<u8>, Refusal> {
    if !keys.verify(&request.signed_parts(), &request.sig) {
        return Err(Refusal::new(Ret::Signature, "Sig does not match"));
    }
    let now = domain.clock.now();
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
    let admission = Admission {
        time_stamp: &request.time_stamp,
        at,
        seq: &request.seq,
        bearer,
        rule,
    };
    match domain
        .partners
        .admit_legacy(partner, admission, Duration::minutes(WINDOW_MINUTES))
        .await
    {
        Ok(()) => {}
        Err(e @ Refused::Token) => return Err(Refusal::new(Ret::Token, e.to_string())),
        Err(e @ Refused::Replay) => return Err(Refusal::new(Ret::Envelope, e.to_string())),
        Err(Refused::Store(e)) => return Err(system(e)),
    }
    keys.decrypt(&request.data)
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
