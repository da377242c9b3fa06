//! Small parsers and checks shared by the services. Each returns the
//! field-level problem that the caller sees in `data.errors`.

use crate::error::FieldError;
use chrono::{DateTime, Duration, SecondsFormat, Utc};

/// Collects problems so that one answer names every bad field.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: &str, problem: impl Into<String>) {
        self.0.push(FieldError::new(field, problem));
    }

    pub fn check(&mut self, ok: bool, field: &str, problem: &str) {
        if !ok {
            self.add(field, problem);
        }
    }

    pub fn range(&mut self, value: f64, lo: f64, hi: f64, field: &str) {
        if !(lo..=hi).contains(&value) {
            self.add(field, format!("must be {lo}..{hi}"));
        }
    }

    pub fn non_negative(&mut self, value: f64, field: &str) {
        if !(value.is_finite() && value >= 0.0) {
            self.add(field, "must be a number >= 0");
        }
    }

    /// Parses an RFC 3339 time and refuses one more than 10 minutes ahead.
    pub fn timestamp(
        &mut self,
        raw: &str,
        field: &str,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        match DateTime::parse_from_rfc3339(raw) {
            Err(_) => {
                self.add(
                    field,
                    "must be an RFC 3339 time such as 2026-05-10T14:00:00Z",
                );
                None
            }
            Ok(t) if t.with_timezone(&Utc) > now + Duration::minutes(10) => {
                self.add(field, "is more than 10 minutes in the future");
                None
            }
            Ok(t) => Some(t.with_timezone(&Utc)),
        }
    }

    pub fn finish(self) -> Result<(), crate::Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(crate::Error::Invalid(self.0))
        }
    }
}

/// Times leave the service in UTC with a `Z`, with milliseconds only when
/// there are any.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    let format = if t.timestamp_subsec_millis() == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Millis
    };
    t.to_rfc3339_opts(format, true)
}

/// Serial numbers: 1..64 of `[A-Za-z0-9._-]`.
pub fn serial_ok(sn: &str) -> bool {
    (1..=64).contains(&sn.len())
        && sn
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// ISO 4217 shape: three upper-case letters.
pub fn currency_ok(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// Free text fields: present, trimmed non-empty and bounded.
pub fn text_ok(value: &str, max: usize) -> bool {
    !value.trim().is_empty() && value.len() <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_normalised_to_utc() {
        let mut p = Problems::default();
        let now: DateTime<Utc> = "2026-05-10T14:00:00Z".parse().unwrap();
        let t = p.timestamp("2026-05-10T16:00:00+02:00", "timestamp", now);
        assert_eq!(rfc3339(t.unwrap()), "2026-05-10T14:00:00Z");
        assert!(p.finish().is_ok());
    }

    #[test]
    fn times_far_in_the_future_are_refused() {
        let mut p = Problems::default();
        let now: DateTime<Utc> = "2026-05-10T14:00:00Z".parse().unwrap();
        assert!(
            p.timestamp("2026-05-10T14:09:00Z", "timestamp", now)
                .is_some()
        );
        assert!(
            p.timestamp("2026-05-10T14:11:00Z", "timestamp", now)
                .is_none()
        );
        match p.finish() {
            Err(crate::Error::Invalid(errors)) => assert_eq!(errors[0].field, "timestamp"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn serial_numbers_and_currencies_have_fixed_shapes() {
        assert!(serial_ok("ACME-COV-001"));
        assert!(!serial_ok(""));
        assert!(!serial_ok("has space"));
        assert!(!serial_ok(&"x".repeat(65)));
        assert!(currency_ok("GBP"));
        assert!(!currency_ok("gbp"));
        assert!(!currency_ok("POUND"));
    }
}
