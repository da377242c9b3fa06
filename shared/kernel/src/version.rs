//! Firmware versions: text as chargers report it, ordered as dotted
//! numbers (`1.5.0 < 1.10.0 < 2.0`), so that "latest" and "at least" mean
//! what an operator means by them.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// Longest version a charger may report.
pub const VERSION_MAX: usize = 64;

/// A firmware version: 1..64 printable characters. Parts split at `.`,
/// `-` and `_` compare as numbers where both are numbers, else as text; a
/// version that runs out first is the lower (`2.0 < 2.0.1`). Versions
/// that order equal but are written differently (`1.05`, `1.5`) order by
/// their text, so that equal means the same text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FirmwareVersion(String);

impl FirmwareVersion {
    /// A version as reported; `None` when empty, blank, too long or
    /// carrying control or format characters.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = crate::text::text_ok(raw, VERSION_MAX)
            && !raw
                .chars()
                .any(|c| c.is_control() || crate::text::is_format(c));
        ok.then(|| Self(raw.to_owned()))
    }

    /// Text that `input::text` has already checked with this type's bounds.
    pub(crate) fn checked(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FirmwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for FirmwareVersion {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for FirmwareVersion {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Ord for FirmwareVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let mut left = self.0.split(['.', '-', '_']);
        let mut right = other.0.split(['.', '-', '_']);
        loop {
            match (left.next(), right.next()) {
                (None, None) => return self.0.cmp(&other.0),
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(x), Some(y)) => {
                    let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                        (Ok(x), Ok(y)) => x.cmp(&y),
                        _ => x.cmp(y),
                    };
                    if order.is_ne() {
                        return order;
                    }
                }
            }
        }
    }
}

impl PartialOrd for FirmwareVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(raw: &str) -> FirmwareVersion {
        FirmwareVersion::parse(raw).unwrap()
    }

    #[test]
    fn versions_order_as_dotted_numbers() {
        assert!(v("1.5.0") < v("1.10.0"));
        assert!(v("250101.0900") < v("260122.1606"));
        assert!(v("2.0") < v("2.0.1"));
        assert_eq!(v("2.0.0").cmp(&v("2.0.0")), Ordering::Equal);
        assert!(v("1.10.0") > v("1.9.9"));
        assert!(v("1.0-beta") < v("1.0-rc"));
    }

    #[test]
    fn equal_order_means_the_same_text() {
        assert_ne!(v("1.05"), v("1.5"));
        assert_ne!(v("1.05").cmp(&v("1.5")), Ordering::Equal);
    }

    #[test]
    fn only_printable_text_of_64_characters_is_a_version() {
        for bad in ["", "   ", "1.0\n", "1.0\u{202e}", &"9".repeat(65)] {
            assert!(FirmwareVersion::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(v("1.5.0").to_string(), "1.5.0");
    }
}
