//! Parsing at the edge: raw request fields in, typed values out, and every
//! problem collected so that one answer names each bad field
//! (`data.errors`). Handlers use these in one `TryFrom` per request; the
//! domain then only ever sees typed inputs.

use crate::error::FieldError;
use crate::ids::{ConnectorId, Identifier};
pub use crate::text::{is_format, text_ok};
use crate::version::FirmwareVersion;
use chrono::{DateTime, SecondsFormat, Utc};
use std::str::FromStr;
use strum::IntoEnumIterator;

/// One field parsed: its typed value, or what is wrong with it.
pub type Parsed<T> = Result<T, FieldError>;

/// Collects problems of checks that yield no value, so that one answer
/// names every bad field.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    /// How many problems are noted so far.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn add(&mut self, field: &str, problem: impl Into<String>) {
        self.0.push(FieldError::new(field, problem));
    }

    pub fn check(&mut self, ok: bool, field: &str, problem: &str) {
        if !ok {
            self.add(field, problem);
        }
    }

    pub fn range(&mut self, value: f64, lo: f64, hi: f64, field: &str) {
        if let Err(e) = number(value, lo, hi, field) {
            self.0.push(e);
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

/// Every field of a request parsed, or every problem at once: implemented
/// for tuples of [`Parsed`] values.
pub trait AllFields {
    type Output;
    fn all(self) -> Result<Self::Output, crate::Error>;
}

macro_rules! all_fields {
    ($($t:ident),+) => {
        impl<$($t),+> AllFields for ($(Parsed<$t>,)+) {
            type Output = ($($t,)+);

            #[allow(non_snake_case)]
            fn all(self) -> Result<Self::Output, crate::Error> {
                let ($($t,)+) = self;
                let mut problems = Vec::new();
                $(let $t = $t.map_err(|e| problems.push(e));)+
                match ($($t,)+) {
                    ($(Ok($t),)+) => Ok(($($t,)+)),
                    _ => Err(crate::Error::Invalid(problems)),
                }
            }
        }
    };
}

all_fields!(A);
all_fields!(A, B);
all_fields!(A, B, C);
all_fields!(A, B, C, D);
all_fields!(A, B, C, D, E);
all_fields!(A, B, C, D, E, F);
all_fields!(A, B, C, D, E, F, G);
all_fields!(A, B, C, D, E, F, G, H);
all_fields!(A, B, C, D, E, F, G, H, I);
all_fields!(A, B, C, D, E, F, G, H, I, J);

fn problem<T>(field: &str, problem: impl Into<String>) -> Parsed<T> {
    Err(FieldError::new(field, problem))
}

/// A rule between fields or on a value: `Ok(())` or the problem.
pub fn check(ok: bool, field: &str, text: &str) -> Parsed<()> {
    if ok { Ok(()) } else { problem(field, text) }
}

/// An RFC 3339 time, normalised to UTC.
pub fn time(raw: &str, field: &str) -> Parsed<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            problem(
                field,
                "must be an RFC 3339 time such as 2026-05-10T14:00:00Z",
            )
        })
}

/// One of an enum's wire names; the problem lists them all.
pub fn one_of<E>(raw: &str, field: &str) -> Parsed<E>
where
    E: IntoEnumIterator + FromStr + Into<&'static str>,
{
    E::from_str(raw).or_else(|_| {
        let names: Vec<&'static str> = E::iter().map(Into::into).collect();
        problem(field, format!("must be one of {}", names.join(", ")))
    })
}

/// An identifier of the given kind.
pub fn id<T: Identifier>(raw: &str, field: &str) -> Parsed<T> {
    T::parse_id(raw).map_or_else(
        || problem(field, format!("is not a valid {} id", T::KIND)),
        Ok,
    )
}

pub fn connector(raw: i64, field: &str) -> Parsed<ConnectorId> {
    ConnectorId::parse(raw).map_or_else(
        || problem(field, format!("must be 1..{}", ConnectorId::MAX)),
        Ok,
    )
}

/// Whether a number can be kept: finite, and zero or of a magnitude the
/// store can hold (no physical value of this service needs less than a
/// millionth of its unit).
pub fn representable(value: f64) -> bool {
    value.is_finite() && (value == 0.0 || value.abs() >= 1e-6)
}

/// Deepest nesting of free-form JSON the service keeps (the store allows 32).
pub const JSON_DEPTH_MAX: usize = 5;
/// Largest magnitude of a free-form number (the store holds up to 9.99e125).
pub const JSON_NUMBER_MAX: f64 = 1e15;

/// Why a free-form JSON value cannot be kept: a number the store cannot
/// hold or nesting deeper than [`JSON_DEPTH_MAX`].
pub fn json_problem(value: &serde_json::Value) -> Option<String> {
    fn walk(v: &serde_json::Value, depth: usize) -> Option<String> {
        use serde_json::Value;
        match v {
            _ if depth > JSON_DEPTH_MAX => {
                Some(format!("may nest at most {JSON_DEPTH_MAX} levels"))
            }
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(f64::INFINITY);
                (!(representable(x) && x.abs() <= JSON_NUMBER_MAX))
                    .then(|| format!("numbers must be 0 or of magnitude 1e-6..1e15, not {n}"))
            }
            Value::Array(items) => items.iter().find_map(|i| walk(i, depth + 1)),
            Value::Object(map) => map.values().find_map(|i| walk(i, depth + 1)),
            _ => None,
        }
    }
    walk(value, 0)
}

/// A number that can be kept, within `lo..=hi`.
pub fn number(value: f64, lo: f64, hi: f64, field: &str) -> Parsed<f64> {
    if representable(value) && (lo..=hi).contains(&value) {
        Ok(value)
    } else {
        problem(field, format!("must be {lo}..{hi}"))
    }
}

/// Text that is present, not blank, at most `max` characters and printable.
pub fn text(value: String, max: usize, field: &str) -> Parsed<String> {
    if !text_ok(&value, max) {
        return problem(field, format!("must be 1..{max} characters"));
    }
    printable(value, field)
}

/// A firmware version as reported (see [`FirmwareVersion`]).
pub fn firmware_version(raw: String, field: &str) -> Parsed<FirmwareVersion> {
    text(raw, crate::version::VERSION_MAX, field).map(FirmwareVersion::checked)
}

/// Optional text (may be empty), at most `max` characters and printable.
pub fn short_text(value: String, max: usize, field: &str) -> Parsed<String> {
    if value.chars().count() > max {
        return problem(field, format!("must be at most {max} characters"));
    }
    printable(value, field)
}

/// Refuses control and format characters (escapes, bidi overrides, zero
/// widths): in names and identifiers they only ever mislead a reader.
pub fn printable(value: String, field: &str) -> Parsed<String> {
    if value.chars().any(|c| c.is_control() || is_format(c)) {
        return problem(field, "must not contain control or format characters");
    }
    Ok(value)
}

/// An optional field: absent stays absent, present must parse.
pub fn optional<R, T>(raw: Option<R>, parse: impl FnOnce(R) -> Parsed<T>) -> Parsed<Option<T>> {
    raw.map(parse).transpose()
}

/// Longest part of a caller's value echoed back in a message.
pub const ECHO_MAX: usize = 64;

/// A caller's value as a message may show it: cut short.
pub fn shown(raw: &str) -> String {
    let mut out: String = raw.chars().take(ECHO_MAX).collect();
    if out.len() < raw.len() {
        out.push('…');
    }
    out
}

/// A serde error in the API's words: no Rust type names, no positions.
pub fn plain_serde_message(text: &str) -> String {
    let text = text.split(" at line ").next().unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("struct ") {
        out.push_str(&rest[..i]);
        out.push_str("an object");
        // Skip the type's name and a trailing " with N element(s)".
        let after = rest[i + "struct ".len()..]
            .trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
        rest = match after.strip_prefix(" with ") {
            Some(tail) => tail
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start_matches(" elements")
                .trim_start_matches(" element"),
            None => after,
        };
    }
    out.push_str(rest);
    out.replace("a sequence", "an array")
        .replace("a map", "an object")
        .replace("enum ", "")
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

/// ISO 4217 shape: three upper-case letters.
pub fn currency_ok(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// Physical bounds of what a charger or a partner may report.
pub mod bounds {
    pub const MAX_VOLTAGE_V: f64 = 1500.0;
    pub const MAX_CURRENT_A: f64 = 1000.0;
    pub const MAX_POWER_KW: f64 = 1000.0;
    /// No session or counter delivers more than this.
    pub const MAX_ENERGY_KWH: f64 = 100_000.0;
    pub const MAX_COST: f64 = 1_000_000.0;
}

/// Longest URL the service keeps (firmware images, partner push bases).
pub const URL_MAX: usize = 512;

/// An absolute `http`/`https` URL with a host, at most [`URL_MAX`]
/// characters, written as a client would send it: no spaces, quotes,
/// angle brackets, backslashes or control characters, which parsers would
/// otherwise quietly encode or drop.
pub fn web_url(raw: &str) -> Option<url::Url> {
    let clean = raw.chars().count() <= URL_MAX
        && !raw.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '\\' | '`')
        });
    // `https:///x` and `https:x` parse (with a guessed host): not as sent.
    let authority = raw
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    if !(clean && authority) {
        return None;
    }
    let url = url::Url::parse(raw).ok()?;
    let host = url.host_str().is_some_and(|h| !h.is_empty());
    (matches!(url.scheme(), "http" | "https") && host).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConnectorState;

    #[test]
    fn urls_are_absolute_http_with_a_host_and_nothing_a_parser_would_rewrite() {
        for good in [
            "https://fw.example.com/tp/1.6.0.bin",
            "http://10.0.0.1:8080/a?b=c",
        ] {
            assert!(web_url(good).is_some(), "{good}");
        }
        for bad in [
            "https://",
            "https:///path",
            "https:fw.example.com/x",
            "ftp://fw.example.com/x",
            "https://fw.example.com/a b",
            "https://fw.example.com/\"x\"",
            "https://fw.example.com/<x>",
            "fw.example.com/x",
            "/relative",
            "",
        ] {
            assert!(web_url(bad).is_none(), "{bad}");
        }
        assert!(web_url(&format!("https://a.example/{}", "x".repeat(URL_MAX))).is_none());
    }

    #[test]
    fn free_form_json_is_bounded_in_depth_and_number_size() {
        assert_eq!(
            json_problem(&serde_json::json!({"a": [1, 2.5, {"b": "c"}]})),
            None
        );
        assert!(json_problem(&serde_json::json!({"x": 1e308})).is_some());
        assert!(json_problem(&serde_json::json!({"x": 1e-300})).is_some());
        let mut deep = serde_json::json!(1);
        for _ in 0..100 {
            deep = serde_json::json!({ "n": deep });
        }
        assert!(json_problem(&deep).unwrap().contains("nest"));
    }

    #[test]
    fn text_lengths_count_characters_not_bytes() {
        assert!(text_ok(&"é".repeat(500), 500));
        assert!(!text_ok(&"é".repeat(501), 500));
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        let t = time("2026-05-10T16:00:00+02:00", "timestamp").unwrap();
        assert_eq!(rfc3339(t), "2026-05-10T14:00:00Z");
    }

    #[test]
    fn an_unknown_enum_value_names_every_allowed_one() {
        assert_eq!(
            one_of::<ConnectorState>("discharging", "state"),
            Ok(ConnectorState::Discharging)
        );
        let err = one_of::<ConnectorState>("Charging", "state").unwrap_err();
        assert_eq!(
            err.problem,
            "must be one of idle, preparing, charging, suspended, discharging, \
             finishing, fault, unavailable"
        );
    }

    #[test]
    fn all_fields_yield_their_values_or_every_problem() {
        let ok = (time("2026-05-10T14:00:00Z", "a"), connector(2, "b")).all();
        assert_eq!(ok.unwrap().1.get(), 2);
        let bad = (time("yesterday", "a"), connector(2, "b"), connector(0, "c")).all();
        match bad {
            Err(crate::Error::Invalid(errors)) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["a", "c"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_refuse_control_escape_and_bidi_characters_and_keep_the_rest() {
        for bad in [
            "a\u{1b}[31mred",
            "tab\there",
            "evil\u{202e}txt",
            "zero\u{200b}width",
        ] {
            assert!(text(bad.into(), 64, "name").is_err(), "{bad:?}");
        }
        assert_eq!(
            text("Zoë's Café – Ürümqi 充电站".into(), 64, "name").unwrap(),
            "Zoë's Café – Ürümqi 充电站"
        );
        assert!(short_text(String::new(), 16, "postcode").is_ok());
    }

    #[test]
    fn serde_messages_name_no_rust_types() {
        assert_eq!(
            plain_serde_message(
                "invalid type: sequence, expected struct SiteRequest with 9 elements at line 1 column 2"
            ),
            "invalid type: sequence, expected an object"
        );
        assert_eq!(
            plain_serde_message("invalid type: map, expected a sequence"),
            "invalid type: map, expected an array"
        );
    }

    #[test]
    fn currencies_have_a_fixed_shape() {
        assert!(currency_ok("GBP"));
        assert!(!currency_ok("gbp"));
        assert!(!currency_ok("POUND"));
    }
}
