use super::{ChargePoint, PendingCall, Socket, Transaction};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::ids::{DeviceId, OperatorId};
use kernel::model::{Activity, Device, LiveConnection};
use kernel::storage::{StoreResult, WriteOutcome};

/// Where OCPP charge points, their transactions and connections are kept.
#[async_trait]
pub trait ChargePointStore: Send + Sync {
    /// The charge point with its new device (and the device's serial
    /// claim) in one write; `Conflict` when the id or serial is taken.
    async fn insert_charge_point(
        &self,
        cp: &ChargePoint,
        device: &Device,
        activity: &Activity,
    ) -> StoreResult<WriteOutcome>;
    async fn get_charge_point(&self, id: &str) -> StoreResult<Option<ChargePoint>>;
    /// An operator's charge points, by id.
    async fn operator_charge_points(&self, op: &OperatorId) -> StoreResult<Vec<ChargePoint>>;
    /// Writes `cp` if nobody wrote it since it was read (its `version`
    /// one less); `Conflict` otherwise.
    async fn save_charge_point(&self, cp: &ChargePoint) -> StoreResult<WriteOutcome>;
    async fn get_transaction(&self, device: DeviceId, id: &str)
    -> StoreResult<Option<Transaction>>;
    async fn put_transaction(&self, tx: &Transaction) -> StoreResult<()>;
    /// Opens the device's connection, or ends it if it is still `ending`
    /// (a newer one may have replaced it); either way the device is seen
    /// `now`. `Conflict` when the connection to end is no longer the one.
    /// Notes calls sent to a charger, until their answers (kept a day).
    async fn put_pending_calls(&self, calls: &[PendingCall]) -> StoreResult<()>;
    /// The call `message_id` of the device, removed: its answer came (or
    /// it is overdue). `None` when nobody waits for it any more.
    async fn take_pending_call(
        &self,
        device: DeviceId,
        message_id: &str,
    ) -> StoreResult<Option<PendingCall>>;
    /// Counts one more part of a split command answered well; the count.
    async fn count_answered_part(&self, call: &PendingCall) -> StoreResult<u32>;
    /// A transport's connection and the charger on it (API Gateway hands
    /// each message over with only the connection's id).
    async fn put_socket(&self, socket: &Socket) -> StoreResult<()>;
    async fn get_socket(&self, connection_id: &str) -> StoreResult<Option<Socket>>;
    async fn delete_socket(&self, connection_id: &str) -> StoreResult<()>;
    async fn set_connection(
        &self,
        device: DeviceId,
        connection: Option<&LiveConnection>,
        ending: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<WriteOutcome>;
}
