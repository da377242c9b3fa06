//! Storage of partners, their access tokens, the replay guard and what
//! partners pushed to us.

use super::outbox::{Delivery, SessionMark};
use super::{Partner, PartnerConnector, PartnerSession, PartnerToken};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::ids::{ConnectorId, DeviceId, PartnerId};
use kernel::storage::{StoreResult, WriteOutcome};

#[async_trait]
pub trait PartnerStore: Send + Sync {
    /// Creates the partner; `Conflict` when its `partner_operator_id` is taken.
    async fn insert_partner(&self, partner: &Partner) -> StoreResult<WriteOutcome>;
    async fn get_partner(&self, id: PartnerId) -> StoreResult<Option<Partner>>;
    /// The partner by the 9-character id it signs with.
    async fn partner_by_code(&self, code: &str) -> StoreResult<Option<Partner>>;
    /// Every partner (few: one per interconnection agreement).
    async fn all_partners(&self) -> StoreResult<Vec<Partner>>;
    async fn put_partner_token(&self, token_hash: &str, token: &PartnerToken) -> StoreResult<()>;
    async fn get_partner_token(&self, token_hash: &str) -> StoreResult<Option<PartnerToken>>;
    /// Claims `(code, time stamp, seq)` until `until`; `Conflict` when it
    /// was claimed before: a replay.
    async fn claim_nonce(
        &self,
        code: &str,
        time_stamp: &str,
        seq: &str,
        until: DateTime<Utc>,
    ) -> StoreResult<WriteOutcome>;
    /// Keeps a partner's connector status, replacing the previous one.
    async fn put_partner_connector(&self, status: &PartnerConnector) -> StoreResult<()>;
    /// Keeps a partner's session progress, replacing the previous one.
    async fn put_partner_session(&self, session: &PartnerSession) -> StoreResult<()>;
    async fn partner_connectors(&self, id: PartnerId) -> StoreResult<Vec<PartnerConnector>>;
    async fn partner_sessions(&self, id: PartnerId) -> StoreResult<Vec<PartnerSession>>;
    /// Pending messages due by `now`, oldest due first.
    async fn due_deliveries(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Delivery>>;
    /// Writes a message after an attempt (pending ones stay in the index
    /// of due messages, under their new due time).
    async fn save_delivery(&self, delivery: &Delivery) -> StoreResult<()>;
    /// A partner's messages, oldest first.
    async fn partner_deliveries(&self, id: PartnerId) -> StoreResult<Vec<Delivery>>;
    async fn put_session_mark(&self, mark: &SessionMark) -> StoreResult<()>;
    async fn get_session_mark(
        &self,
        device: DeviceId,
        connector: ConnectorId,
    ) -> StoreResult<Option<SessionMark>>;
    async fn delete_session_mark(
        &self,
        device: DeviceId,
        connector: ConnectorId,
    ) -> StoreResult<()>;
}
