//! Every partition and sort key, in one place.
//!
//! Access patterns (one table, two overloaded GSIs, no Scan anywhere):
//!
//! | pattern | request | key |
//! | --- | --- | --- |
//! | operator by id | GetItem / conditional Put | `OP#<op>` / `OP` |
//! | all operators (platform admin) | Query GSI1 | `OPERATORS` / `<op>` |
//! | API client by id | GetItem / conditional Put | `CLIENT#<id>` / `CLIENT` |
//! | operator session by token hash (TTL) | GetItem / Put | `SESSION#<sha256>` / `SESSION` |
//! | activity feed, newest first (TTL) | Put in the change's transaction / Query | `ACT` / `<at>#<uuid>` |
//! | device by id (auth, heartbeat, reads) | GetItem / UpdateItem | `DEV#<id>` / `DEV` |
//! | a device's connector schedules | Put / Query | `DEV#<id>` / `SCHED#<connector>` |
//! | idempotency key of a console command (TTL) | conditional Put in the command's transaction | `IDEM#<client>#<key>` / `IDEM` |
//! | serial number claim (first wins) | conditional Put in a transaction | `SN#<sn>` / `SN` |
//! | devices of an operator | Query GSI1 on listing items, BatchGet devices | `OP#<op>#DEV` / `<sn>` |
//! | devices of a site | Query GSI2 on listing items, BatchGet devices | `SITE#<site>#DEV` / `<device id>` |
//! | a device's listing item (index keys only) | Put / Update with the device | `DEV#<id>` / `MEMBER` |
//! | site by id | GetItem | `SITE#<id>` / `SITE` |
//! | sites of an operator | Query GSI1 | `OP#<op>#SITE` / `<site id>` |
//! | command by id | GetItem | `CMD#<id>` / `CMD` |
//! | a device's open commands, oldest first | Query GSI1 (sparse) | `DEVQ#<device>` / `<command id, v7>` |
//! | CDR by id (idempotent upload) | conditional Put / GetItem | `CDR#<id>` / `CDR` |
//! | CDRs of an operator, newest first | Query GSI1 | `OP#<op>#CDR` / `<start>#<id>` |
//! | telemetry samples of a device | Put (TTL) | `SMP#<device>` / `<ts>#<connector>` |
//! | request log, newest first (TTL) | Put / Query (descending) | `REQLOG` / `<at>#<request id>` |
//! | hourly energy of a device or site | UpdateItem ADD / Query | `OP#<op>#NRG#<DEV or SITE>#<id>` / `<hour>` |

use domain::ids::{CommandId, DeviceId, OperatorId, RecordId, SiteId};
use domain::store::EnergyScope;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI2: &str = "GSI2";
/// The TTL attribute (epoch seconds).
pub const TTL: &str = "ttl";

pub fn operator(id: &OperatorId) -> (String, String) {
    (format!("OP#{id}"), "OP".into())
}

pub const OPERATORS: &str = "OPERATORS";
pub const ACTIVITY: &str = "ACT";

pub fn client(id: &str) -> (String, String) {
    (format!("CLIENT#{id}"), "CLIENT".into())
}

pub fn session(token_hash: &str) -> (String, String) {
    (format!("SESSION#{token_hash}"), "SESSION".into())
}

pub fn device(id: DeviceId) -> (String, String) {
    (format!("DEV#{id}"), "DEV".into())
}

pub const SCHEDULE_PREFIX: &str = "SCHED#";

pub fn schedule(device: DeviceId, connector: u32) -> (String, String) {
    (
        format!("DEV#{device}"),
        format!("{SCHEDULE_PREFIX}{connector:02}"),
    )
}

pub fn idempotency(key: &str) -> (String, String) {
    (format!("IDEM#{key}"), "IDEM".into())
}

pub fn member(id: DeviceId) -> (String, String) {
    (format!("DEV#{id}"), "MEMBER".into())
}

pub fn serial(sn: &str) -> (String, String) {
    (format!("SN#{sn}"), "SN".into())
}

pub fn operator_devices(op: &OperatorId) -> String {
    format!("OP#{op}#DEV")
}

pub fn site_devices(site: SiteId) -> String {
    format!("SITE#{site}#DEV")
}

pub fn site(id: SiteId) -> (String, String) {
    (format!("SITE#{id}"), "SITE".into())
}

pub fn operator_sites(op: &OperatorId) -> String {
    format!("OP#{op}#SITE")
}

pub fn command(id: CommandId) -> (String, String) {
    (format!("CMD#{id}"), "CMD".into())
}

pub fn device_queue(device: DeviceId) -> String {
    format!("DEVQ#{device}")
}

pub fn record(id: RecordId) -> (String, String) {
    (format!("CDR#{id}"), "CDR".into())
}

pub fn operator_records(op: &OperatorId) -> String {
    format!("OP#{op}#CDR")
}

pub fn sample(device: DeviceId, ts: &str, connector: u32) -> (String, String) {
    (format!("SMP#{device}"), format!("{ts}#{connector:02}"))
}

pub fn energy(op: &OperatorId, scope: &EnergyScope) -> String {
    match scope {
        EnergyScope::Device(id) => format!("OP#{op}#NRG#DEV#{id}"),
        EnergyScope::Site(id) => format!("OP#{op}#NRG#SITE#{id}"),
    }
}

pub fn request_log(at: &str, request_id: &str) -> (String, String) {
    (REQUEST_LOG.into(), format!("{at}#{request_id}"))
}

pub const REQUEST_LOG: &str = "REQLOG";

/// Times inside keys: fixed width, always with milliseconds, so that keys
/// sort in time order (`…:00.000Z` before `…:00.500Z`).
pub fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
