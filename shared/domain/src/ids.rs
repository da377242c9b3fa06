//! Identifier newtypes: parsed once at the edge, never confused afterwards.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The UUID of a ", $what, ".")]
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            Serialize,
            Deserialize,
            utoipa::ToSchema,
        )]
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
    };
}

uuid_id!(DeviceId, "charger");
uuid_id!(SiteId, "site");
uuid_id!(RecordId, "charge detail record");
uuid_id!(CommandId, "command");

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
    fn time_ordered_ids_sort_by_creation() {
        let first = CommandId::time_ordered();
        let second = CommandId::time_ordered();
        assert!(first.0.to_string() < second.0.to_string());
    }
}
