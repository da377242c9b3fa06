//! Driver tokens (contract §13): the RFID cards and app tokens an operator
//! hands out, which its OCPP chargers check at Authorize and at a
//! transaction's start. Tokens compare without regard to case, as OCPP's
//! `CiString` does.

mod port;

pub use port::IdTagStore;

use crate::access::Access;
use chrono::{DateTime, Utc};
use kernel::Clock;
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::OperatorId;
use kernel::model::Role;
use kernel::paging::ListPage;
use kernel::paging::Paging;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const ID_TAG_RULE: &str = "must be 1..20 printable ASCII characters";

/// 1..20 printable ASCII characters, not all blank (OCPP 1.6's `idTag`).
pub fn valid_id_tag(tag: &str) -> bool {
    (1..=20).contains(&tag.len())
        && tag.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && !tag.trim().is_empty()
}

/// The form a token is kept and looked up by.
pub fn key_of(tag: &str) -> String {
    tag.to_ascii_uppercase()
}

/// An id tag's standing, as OCPP's Authorize answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Accepted,
    Blocked,
    Expired,
    Invalid,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "Accepted",
            Self::Blocked => "Blocked",
            Self::Expired => "Expired",
            Self::Invalid => "Invalid",
        }
    }
}

kernel::wire_enum! {
    /// What an operator says of a token.
    pub enum IdTagStatus {
        Accepted,
        Blocked,
}
}

/// A token as kept: as first written, with its lookup key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdTag {
    pub operator_id: OperatorId,
    pub id_tag: String,
    pub label: Option<String>,
    pub status: IdTagStatus,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl IdTag {
    pub fn key(&self) -> String {
        key_of(&self.id_tag)
    }

    /// How an Authorize of it is answered at `now`.
    pub fn standing(&self, now: DateTime<Utc>) -> TokenStatus {
        match self.status {
            IdTagStatus::Blocked => TokenStatus::Blocked,
            IdTagStatus::Accepted if self.expires_at.is_some_and(|t| t <= now) => {
                TokenStatus::Expired
            }
            IdTagStatus::Accepted => TokenStatus::Accepted,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdTagView {
    pub id_tag: String,
    pub label: Option<String>,
    pub status: IdTagStatus,
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether `expires_at` has passed (its chargers answer `Expired`).
    pub expired: bool,
    pub operator_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(tag: &IdTag, now: DateTime<Utc>) -> IdTagView {
    IdTagView {
        id_tag: tag.id_tag.clone(),
        label: tag.label.clone(),
        status: tag.status,
        expires_at: tag.expires_at,
        expired: tag.expires_at.is_some_and(|t| t <= now),
        operator_id: tag.operator_id.to_string(),
        created_at: tag.created_at,
        updated_at: tag.updated_at,
    }
}

/// `POST /v1/id-tags`, parsed.
#[derive(Debug, Clone)]
pub struct NewIdTag {
    pub id_tag: String,
    pub label: Option<String>,
    pub status: IdTagStatus,
    pub expires_at: Option<DateTime<Utc>>,
    pub operator_id: Option<OperatorId>,
}

/// `PATCH /v1/id-tags/{id_tag}`, parsed: `None` leaves a field, `Some(None)`
/// clears it.
#[derive(Debug, Clone, Default)]
pub struct IdTagChange {
    pub label: Option<Option<String>>,
    pub status: Option<IdTagStatus>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

/// An operator's driver tokens, and their standing when a charger asks.
#[derive(Clone)]
pub struct IdTags {
    store: Arc<dyn IdTagStore>,
    clock: Arc<dyn Clock>,
    access: Access,
}

/// What `IdTags` is built on.
pub(crate) struct IdTagsParts {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) access: Access,
}

impl IdTags {
    pub(crate) fn new(store: Arc<dyn IdTagStore>, parts: IdTagsParts) -> Self {
        let IdTagsParts { clock, access } = parts;
        Self {
            store,
            clock,
            access,
        }
    }
}

impl IdTags {
    pub async fn create_id_tag(&self, caller: &Caller, new: NewIdTag) -> Result<IdTagView, Error> {
        caller.require(Role::Operator)?;
        let operator_id = self.access.owning_operator(caller, new.operator_id)?;
        let now = self.clock.now();
        let tag = IdTag {
            operator_id,
            id_tag: new.id_tag,
            label: new.label,
            status: new.status,
            expires_at: new.expires_at,
            created_at: now,
            updated_at: now,
        };
        if self.store.insert_id_tag(&tag).await? == kernel::storage::WriteOutcome::Conflict {
            return Err(Error::Conflict(format!(
                "operator {} has id tag {} already",
                tag.operator_id, tag.id_tag
            )));
        }
        Ok(view(&tag, now))
    }

    /// The token as the caller may see it: the first operator in its scope
    /// that has it.
    async fn visible_id_tag(&self, caller: &Caller, tag: &str) -> Result<IdTag, Error> {
        if valid_id_tag(tag) {
            let key = key_of(tag);
            for op in self.access.scope(caller).await? {
                if let Some(found) = self.store.get_id_tag(&op, &key).await? {
                    return Ok(found);
                }
            }
        }
        Err(Error::NotFound(format!(
            "id tag {} not found",
            kernel::input::shown(tag)
        )))
    }

    pub async fn id_tag(&self, caller: &Caller, tag: &str) -> Result<IdTagView, Error> {
        let found = self.visible_id_tag(caller, tag).await?;
        Ok(view(&found, self.clock.now()))
    }

    pub async fn id_tags(
        &self,
        caller: &Caller,
        status: Option<IdTagStatus>,
        paging: Paging,
    ) -> Result<ListPage<IdTagView>, Error> {
        let now = self.clock.now();
        let mut all = Vec::new();
        for op in self.access.scope(caller).await? {
            all.extend(
                self.store
                    .operator_id_tags(&op)
                    .await?
                    .iter()
                    .filter(|t| status.is_none_or(|s| t.status == s))
                    .map(|t| view(t, now)),
            );
        }
        all.sort_by(|a, b| {
            (a.operator_id.as_str(), key_of(&a.id_tag))
                .cmp(&(b.operator_id.as_str(), key_of(&b.id_tag)))
        });
        Ok(ListPage::slice(all, paging.page, paging.size))
    }

    pub async fn change_id_tag(
        &self,
        caller: &Caller,
        tag: &str,
        change: IdTagChange,
    ) -> Result<IdTagView, Error> {
        let mut found = self.visible_id_tag(caller, tag).await?;
        caller.require(Role::Operator)?;
        if let Some(label) = change.label {
            found.label = label;
        }
        if let Some(status) = change.status {
            found.status = status;
        }
        if let Some(expires_at) = change.expires_at {
            found.expires_at = expires_at;
        }
        let now = self.clock.now();
        found.updated_at = now;
        self.store.put_id_tag(&found).await?;
        Ok(view(&found, now))
    }

    pub async fn delete_id_tag(&self, caller: &Caller, tag: &str) -> Result<IdTagView, Error> {
        let found = self.visible_id_tag(caller, tag).await?;
        caller.require(Role::Operator)?;
        self.store
            .delete_id_tag(&found.operator_id, &found.key())
            .await?;
        Ok(view(&found, self.clock.now()))
    }

    /// How the operator's token answers an Authorize now; `None` when the
    /// operator has no such token. One `GetItem`.
    pub(crate) async fn token_standing(
        &self,
        operator: &OperatorId,
        tag: &str,
    ) -> Result<Option<TokenStatus>, Error> {
        if !valid_id_tag(tag) {
            return Ok(None);
        }
        let now = self.clock.now();
        Ok(self
            .store
            .get_id_tag(operator, &key_of(tag))
            .await?
            .map(|t| t.standing(now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_printable_ascii_up_to_20() {
        assert!(valid_id_tag("04A2B3C4D5E6F7"));
        assert!(valid_id_tag(&"X".repeat(20)));
        assert!(!valid_id_tag(&"X".repeat(21)));
        assert!(!valid_id_tag(""));
        assert!(!valid_id_tag("   "));
        assert!(!valid_id_tag("café"));
        assert!(!valid_id_tag("tab\there"));
    }

    #[test]
    fn a_token_stands_by_its_status_then_its_expiry() {
        let now = Utc::now();
        let tag = |status, expires_at| IdTag {
            operator_id: OperatorId::parse("acme").unwrap(),
            id_tag: "abc".into(),
            label: None,
            status,
            expires_at,
            created_at: now,
            updated_at: now,
        };
        let past = Some(now - chrono::Duration::seconds(1));
        let future = Some(now + chrono::Duration::days(1));
        assert_eq!(
            tag(IdTagStatus::Accepted, None).standing(now),
            TokenStatus::Accepted
        );
        assert_eq!(
            tag(IdTagStatus::Accepted, future).standing(now),
            TokenStatus::Accepted
        );
        assert_eq!(
            tag(IdTagStatus::Accepted, past).standing(now),
            TokenStatus::Expired
        );
        assert_eq!(
            tag(IdTagStatus::Blocked, past).standing(now),
            TokenStatus::Blocked
        );
        assert_eq!(tag(IdTagStatus::Accepted, None).key(), "ABC");
    }
}
