//! Identifier newtypes: parsed once at the edge, never confused afterwards.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// An identifier that arrives as text (a path segment, a field) and names
/// what it identifies in "not found" answers.
pub trait Identifier: Sized + fmt::Display {
    const KIND: &'static str;
    fn parse_id(raw: &str) -> Option<Self>;
}

macro_rules! uuid_id {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The UUID of a ", $what, ".")]
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }

            /// Time-ordered, so items keyed by it sort by creation.
            pub fn time_ordered() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn parse(raw: &str) -> Option<Self> {
                Uuid::parse_str(raw).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl Identifier for $name {
            const KIND: &'static str = $what;
            fn parse_id(raw: &str) -> Option<Self> {
                Self::parse(raw)
            }
        }
    };
}

uuid_id!(DeviceId, "device");
uuid_id!(SiteId, "site");
uuid_id!(RecordId, "charging record");
uuid_id!(CommandId, "command");
uuid_id!(ProfileId, "configuration profile");
uuid_id!(CampaignId, "firmware campaign");
uuid_id!(PartnerId, "partner");
uuid_id!(DeliveryId, "delivery");
uuid_id!(TariffId, "tariff");

/// A connector's number on its charger (OCPP numbers them from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 32))]
pub struct ConnectorId(u32);

/// A number, or the same number as text: connector ids are also the keys
/// of maps, and map keys travel as text.
impl<'de> Deserialize<'de> for ConnectorId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Number;

        impl serde::de::Visitor<'_> for Number {
            type Value = ConnectorId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a connector number")
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ConnectorId, E> {
                u32::try_from(v)
                    .map(ConnectorId)
                    .map_err(|_| E::custom("connector number out of range"))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ConnectorId, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom("negative connector number"))
                    .and_then(|v| self.visit_u64(v))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ConnectorId, E> {
                v.parse::<u64>()
                    .map_err(|_| E::custom("connector number expected"))
                    .and_then(|v| self.visit_u64(v))
            }
        }

        d.deserialize_any(Number)
    }
}

impl ConnectorId {
    /// The most connectors any charger may have.
    pub const MAX: u32 = 32;

    pub fn new(n: u32) -> Option<Self> {
        (1..=Self::MAX).contains(&n).then_some(Self(n))
    }

    pub fn parse(raw: i64) -> Option<Self> {
        u32::try_from(raw).ok().and_then(Self::new)
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ConnectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An operator's slug, e.g. `acme-charging-uk`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OperatorId(String);

impl OperatorId {
    /// Lower-case letters, digits and inner hyphens, 2..64 characters.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = (2..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-')
            && !raw.ends_with('-');
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OperatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Identifier for OperatorId {
    const KIND: &'static str = "operator";
    fn parse_id(raw: &str) -> Option<Self> {
        Self::parse(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_slugs_accept_lowercase_words_joined_by_hyphens() {
        assert!(OperatorId::parse("acme-charging-uk").is_some());
        assert!(OperatorId::parse("Acme").is_none());
        assert!(OperatorId::parse("-acme").is_none());
        assert!(OperatorId::parse("acme_uk").is_none());
        assert!(OperatorId::parse("a").is_none());
    }

    #[test]
    fn connector_numbers_run_from_one_to_the_maximum() {
        assert!(ConnectorId::parse(0).is_none());
        assert_eq!(ConnectorId::parse(1).map(ConnectorId::get), Some(1));
        assert!(ConnectorId::parse(32).is_some());
        assert!(ConnectorId::parse(33).is_none());
        assert!(ConnectorId::parse(-1).is_none());
    }

    #[test]
    fn connector_ids_read_from_numbers_and_from_map_keys() {
        let n: ConnectorId = serde_json::from_str("2").unwrap();
        let keyed: std::collections::BTreeMap<ConnectorId, u8> =
            serde_json::from_str(r#"{"2": 1}"#).unwrap();
        assert_eq!(keyed.keys().next(), Some(&n));
        assert!(serde_json::from_str::<ConnectorId>("-1").is_err());
    }

    #[test]
    fn time_ordered_ids_sort_by_creation() {
        let first = CommandId::time_ordered();
        let second = CommandId::time_ordered();
        assert!(first.0.to_string() < second.0.to_string());
    }
}

/// A charger's serial number: 1..64 of `[A-Za-z0-9._-]`, as its maker
/// printed it (the case is kept; the first registration of one wins).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SerialNumber(String);

impl SerialNumber {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<&str> for SerialNumber {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod serial_tests {
    use super::*;

    #[test]
    fn serial_numbers_are_64_of_letters_digits_dot_dash_underscore() {
        assert_eq!(
            SerialNumber::parse("ACME-COV-001").unwrap().as_str(),
            "ACME-COV-001"
        );
        for bad in ["", "has space", "é", &"x".repeat(65)] {
            assert!(SerialNumber::parse(bad).is_none(), "{bad:?}");
        }
    }
}
