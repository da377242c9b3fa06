//! Every partition and sort key, in one place. The access patterns they
//! serve are listed once, in `ARCHITECTURE.md` ("Access patterns").

use chrono::{DateTime, NaiveDateTime, Utc};
use kernel::ids::ConnectorId;
use kernel::ids::{
    CampaignId, CommandId, DeliveryId, DeviceId, OperatorId, PartnerId, ProfileId, RecordId,
    SiteId, TariffId,
};

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

pub fn schedule(device: DeviceId, connector: ConnectorId) -> (String, String) {
    let connector = connector.get();
    (
        format!("DEV#{device}"),
        format!("{SCHEDULE_PREFIX}{connector:02}"),
    )
}

pub fn idempotency(key: &str) -> (String, String) {
    (format!("IDEM#{key}"), "IDEM".into())
}

pub fn listing(id: DeviceId) -> (String, String) {
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

/// A site's load management allocation, beside the site.
pub fn site_allocation(id: SiteId) -> (String, String) {
    (format!("SITE#{id}"), "ALLOC".into())
}

pub fn site(id: SiteId) -> (String, String) {
    (format!("SITE#{id}"), "SITE".into())
}

pub fn operator_sites(op: &OperatorId) -> String {
    format!("OP#{op}#SITE")
}

/// A site's place in its operator's list: by name, then id. The separator
/// sorts before every character a name may hold (names refuse control
/// characters), so the keys sort as (name, id) pairs do.
pub fn site_order(name: &str, id: SiteId) -> String {
    format!("{name}\u{1}{id}")
}

/// An operator's counters: a few shards, so that concurrent transactions
/// meet on one less often; a read adds them up.
pub fn fleet_counts(op: &OperatorId) -> String {
    format!("OP#{op}#COUNT")
}

pub const COUNTER_SHARDS: u8 = 4;

pub fn fleet_counter(op: &OperatorId, shard: u8) -> (String, String) {
    (fleet_counts(op), shard.to_string())
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

/// A scope's revenue days (`ALL`, `SITE#<id>` or `DEV#<id>`).
pub fn revenue(op: &OperatorId, scope: &str) -> String {
    format!("OP#{op}#REV#{scope}")
}

/// A day's sort key: `YYYY-MM-DD` (UTC).
pub fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

pub fn operator_records(op: &OperatorId) -> String {
    format!("OP#{op}#CDR")
}

pub fn sample(device: DeviceId, ts: DateTime<Utc>, connector: ConnectorId) -> (String, String) {
    (
        format!("SMP#{device}"),
        format!("{}#{:02}", time(ts), connector.get()),
    )
}

/// A device's hour buckets.
pub fn device_energy(op: &OperatorId, device: DeviceId) -> String {
    format!("OP#{op}#NRG#DEV#{device}")
}

/// A site's hours in the second index: its devices' hour buckets.
pub fn site_energy(op: &OperatorId, site: SiteId) -> String {
    format!("OP#{op}#NRG#SITE#{site}")
}

/// The attribute of an hour bucket holding a connector's last counted
/// sample.
pub fn bucket_mark(connector: ConnectorId) -> String {
    format!("mark_{:02}", connector.get())
}

pub fn profile(id: ProfileId) -> (String, String) {
    (format!("PROFILE#{id}"), "PROFILE".into())
}

pub fn operator_profiles(op: &OperatorId) -> String {
    format!("OP#{op}#PROFILE")
}

pub fn tariff(id: TariffId) -> (String, String) {
    (format!("TARIFF#{id}"), "TARIFF".into())
}

/// A tariff's past version, beside the tariff.
pub fn past_tariff(id: TariffId, version: u32) -> (String, String) {
    (format!("TARIFF#{id}"), format!("V#{version:06}"))
}

pub fn operator_tariffs(op: &OperatorId) -> String {
    format!("OP#{op}#TARIFF")
}

pub fn campaign(id: CampaignId) -> (String, String) {
    (format!("CAMP#{id}"), "CAMP".into())
}

pub fn operator_campaigns(op: &OperatorId) -> String {
    format!("OP#{op}#CAMP")
}

/// The sparse index of running and paused campaigns, for the sweep.
pub const ACTIVE_CAMPAIGNS: &str = "CAMPAIGNS#ACTIVE";

pub const MEMBER_PREFIX: &str = "DEV#";

pub fn campaign_member(id: CampaignId, device: DeviceId) -> (String, String) {
    (campaign(id).0, format!("{MEMBER_PREFIX}{device}"))
}

pub fn request_log(at: DateTime<Utc>, request_id: &str) -> (String, String) {
    (REQUEST_LOG.into(), format!("{}#{request_id}", time(at)))
}

pub const REQUEST_LOG: &str = "REQLOG";

pub fn partner(id: PartnerId) -> (String, String) {
    (format!("PARTNER#{id}"), "PARTNER".into())
}

/// Every partner, in the index, by its 9-character code.
pub const PARTNERS: &str = "PARTNERS";

/// A partner under the code it signs with: the lookup of every legacy
/// request, and the claim that keeps codes unique.
pub fn partner_code(code: &str) -> (String, String) {
    (format!("PCODE#{code}"), "PCODE".into())
}

pub fn partner_token(token_hash: &str) -> (String, String) {
    (format!("PTOKEN#{token_hash}"), "PTOKEN".into())
}

/// A legacy request's `(OperatorID, TimeStamp, Seq)`, claimed once.
pub fn partner_nonce(code: &str, time_stamp: &str, seq: &str) -> (String, String) {
    (format!("PNONCE#{code}#{time_stamp}#{seq}"), "PNONCE".into())
}

pub const PARTNER_CONNECTOR_PREFIX: &str = "PCONN#";
pub const PARTNER_SESSION_PREFIX: &str = "PSESS#";

/// What a partner pushed about one of its connectors.
pub fn partner_connector(id: PartnerId, connector: &str) -> (String, String) {
    (
        format!("PARTNER#{id}"),
        format!("{PARTNER_CONNECTOR_PREFIX}{connector}"),
    )
}

pub const DELIVERY_PREFIX: &str = "DLV#";

/// A message to a partner.
pub fn delivery(partner: PartnerId, id: DeliveryId) -> (String, String) {
    (
        format!("PARTNER#{partner}"),
        format!("{DELIVERY_PREFIX}{id}"),
    )
}

/// Pending messages, in the index, by due time.
pub const OUTBOX: &str = "OUTBOX";

/// The session a partner started on a connector, until its record.
pub fn session_mark(device: DeviceId, connector: ConnectorId) -> (String, String) {
    (
        format!("DEV#{device}"),
        format!("PMARK#{:02}", connector.get()),
    )
}

/// What a partner pushed about one of its sessions.
pub fn partner_session(id: PartnerId, start_charge_seq: &str) -> (String, String) {
    (
        format!("PARTNER#{id}"),
        format!("{PARTNER_SESSION_PREFIX}{start_charge_seq}"),
    )
}

/// An operator's commands by creation time, in the second index.
pub fn operator_commands(op: &OperatorId) -> String {
    format!("OP#{op}#CMD")
}

/// An operator's outages, by end time.
pub fn outage(op: &OperatorId, to: DateTime<Utc>, device: DeviceId) -> (String, String) {
    (format!("OP#{op}#OUT"), format!("{}#{device}", time(to)))
}

pub fn operator_outages(op: &OperatorId) -> String {
    format!("OP#{op}#OUT")
}

/// An operator's fault events, by time.
pub fn fault(
    op: &OperatorId,
    at: DateTime<Utc>,
    device: DeviceId,
    connector: ConnectorId,
) -> (String, String) {
    (
        operator_faults(op),
        format!("{}#{device}#{:02}", time(at), connector.get()),
    )
}

pub fn operator_faults(op: &OperatorId) -> String {
    format!("OP#{op}#FAULT")
}

/// A finding, by its id (listed per operator in the first index).
pub fn anomaly(id: uuid::Uuid) -> (String, String) {
    (format!("ANOM#{id}"), "ANOM".into())
}

pub fn operator_anomalies(op: &OperatorId) -> String {
    format!("OP#{op}#ANOM")
}

/// A device's latest health score.
pub fn health(op: &OperatorId, device: DeviceId) -> (String, String) {
    (operator_health(op), device.to_string())
}

pub fn operator_health(op: &OperatorId) -> String {
    format!("OP#{op}#HEALTH")
}

/// An agent's last run for an operator.
pub fn agent_run(op: &OperatorId, agent: &str) -> (String, String) {
    (operator_agent_runs(op), agent.to_owned())
}

pub fn operator_agent_runs(op: &OperatorId) -> String {
    format!("OP#{op}#AGENT")
}

/// Times inside keys: fixed width, always with milliseconds, so that keys
/// sort in time order (`…:00.000Z` before `…:00.500Z`).
pub fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Attempts of one scope from one source address in one window.
pub fn attempts(scope: &str, source: &str, window_start: DateTime<Utc>) -> (String, String) {
    (format!("ATTEMPTS#{scope}#{source}"), time(window_start))
}

/// An energy hour's sort key: `2026-05-10T14`.
pub fn hour(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H").to_string()
}

/// The hour an energy sort key names.
pub fn parse_hour(key: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(&format!("{key}:00:00"), "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

pub fn charge_point(id: &str) -> (String, String) {
    (format!("CP#{id}"), "CP".into())
}

pub fn operator_charge_points(op: &OperatorId) -> String {
    format!("OP#{op}#CP")
}

pub fn transaction(device: DeviceId, id: &str) -> (String, String) {
    (format!("CPTX#{device}"), format!("TX#{id}"))
}

pub fn id_tag(op: &OperatorId, key: &str) -> (String, String) {
    (format!("IDTAG#{op}#{key}"), "IDTAG".into())
}

pub fn operator_id_tags(op: &OperatorId) -> String {
    format!("OP#{op}#IDTAG")
}

pub fn pending_call(device: DeviceId, message_id: &str) -> (String, String) {
    (format!("CPCALL#{device}"), format!("CALL#{message_id}"))
}

pub fn answered_parts(command: CommandId) -> (String, String) {
    (format!("CPPARTS#{command}"), "PARTS".into())
}

pub fn socket(connection_id: &str) -> (String, String) {
    (format!("WSCONN#{connection_id}"), "WSCONN".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energy_hours_round_trip_through_their_sort_keys() {
        let t: DateTime<Utc> = "2026-05-10T14:00:00Z".parse().unwrap();
        assert_eq!(hour(t), "2026-05-10T14");
        assert_eq!(parse_hour(&hour(t)), Some(t));
        assert_eq!(parse_hour("not an hour"), None);
    }

    #[test]
    fn sites_sort_by_name_then_id() {
        let (a, b) = (SiteId::random(), SiteId::random());
        let (low, high) = if a < b { (a, b) } else { (b, a) };
        assert!(site_order("Depot", high) < site_order("Depot 2", low));
        assert!(site_order("Depot", low) < site_order("Depot", high));
        assert!(site_order("A#", high) > site_order("A", low));
    }

    #[test]
    fn key_times_have_a_fixed_width_so_they_sort_in_time_order() {
        let a: DateTime<Utc> = "2026-05-10T14:00:00Z".parse().unwrap();
        let b: DateTime<Utc> = "2026-05-10T14:00:00.500Z".parse().unwrap();
        assert!(time(a) < time(b));
    }
}
