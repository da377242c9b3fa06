//! The domain's errors as a partner reads them: a `Ret` code and a
//! message, with store and configuration failures logged, not shown.

use crate::wire::{Refusal, Ret};
use kernel::Error;

/// The `Ret` a domain error answers with: bad values 4004, throttled
/// credentials 4002 (sent with HTTP 429), anything below the domain 500.
pub fn refusal(e: Error) -> Refusal {
    match e {
        Error::Invalid(problems) => Refusal::new(
            Ret::Parameter,
            problems
                .iter()
                .map(|p| format!("{} {}", p.field, p.problem))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Error::BadRequest { message, .. } => Refusal::new(Ret::Parameter, message),
        Error::RateLimited { retry_after_s } => Refusal::new(
            Ret::Throttled,
            format!("too many failed attempts; retry in {retry_after_s} s"),
        ),
        other => system(other),
    }
}

/// A failure of the store or of our own configuration: the partner sees
/// Ret 500, the log sees the cause.
pub fn system(e: impl Into<Error>) -> Refusal {
    let e = e.into();
    tracing::error!(error = %kernel::error::chain(&e), "a legacy request failed");
    Refusal::new(Ret::System, "system error; retry later")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_4004_naming_the_field_and_failures_below_are_500() {
        let r = refusal(Error::invalid(
            "StartChargeSeq",
            "must start with your OperatorID",
        ));
        assert_eq!(r.ret, Ret::Parameter);
        assert_eq!(r.message, "StartChargeSeq must start with your OperatorID");
        let r = refusal(Error::internal("the table is gone"));
        assert_eq!(r.ret, Ret::System);
        assert!(!r.message.contains("table"));
        assert_eq!(
            refusal(Error::RateLimited { retry_after_s: 5 }).ret,
            Ret::Throttled
        );
    }
}
