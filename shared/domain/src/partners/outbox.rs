//! Pushes to partners through a transactional outbox: a message is written
//! in the same transaction as the change it reports (a connector of the
//! partner's tenant changing status, a partner's start command accepted or
//! failed, the charging record of a partner's session), and a delivery loop (the `notifier` function, or the local
//! server's background task) sends it later, so that no charger waits for
//! a partner. At least once: a message stays pending until the partner
//! answers Ret 0, retried a minute apart, then less often, for a day, in
//! order per partner.

use super::Partner;
use super::Partners;
use super::notify::check_notify_url;
pub use crate::outbox::{Delivery, DeliveryStatus};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use kernel::access::Caller;
use kernel::command::Command;
use kernel::error::Error;
use kernel::ids::{ConnectorId, DeviceId, PartnerId};
use kernel::model::{ChargingRecord, CommandKind, CommandStatus, Role};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

/// The longest answer time of a partner, so that a slow one cannot hold
/// the loop.
pub const PUSH_TIMEOUT_SECONDS: u64 = 10;

/// The partner routes we push to, under its `notify_url`.
pub mod route {
    pub const STATION_STATUS: &str = "notification_stationStatus";
    pub const START_CHARGE_RESULT: &str = "notification_start_charge_result";
    pub const CHARGE_ORDER_INFO: &str = "notification_charge_order_info";
}

/// Where a partner's session is, so that its charging record can be
/// reported: kept from its start command until the record arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMark {
    pub device_id: DeviceId,
    pub connector_id: ConnectorId,
    pub partner_id: PartnerId,
    pub start_charge_seq: String,
    pub connector: String,
    pub queued_at: DateTime<Utc>,
    /// The start command, whose outcome tells whether the session began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<kernel::ids::CommandId>,
}

/// One message on its way to a partner, as the protocol layer seals it.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub partner: &'a Partner,
    /// The push route under the partner's `notify_url`, already checked
    /// against the notify policy.
    pub url: &'a Url,
    /// The Data to send, times in the partner's offset.
    pub payload: &'a Value,
    /// `TimeStamp` and `Seq` of the envelope.
    pub time_stamp: &'a str,
    pub seq: &'a str,
}

/// Delivers one message: seals it in the partner's wire format, sends it
/// (checking every address the host resolves to) and reads the answer.
/// Lives at the edge with the HTTP client and the cryptography. Its error
/// is what the delivery record shows: a status class, a `Ret` code or a
/// refusal, never what the target answered.
#[async_trait]
pub trait Push: Send + Sync {
    async fn push(&self, message: Outgoing<'_>) -> Result<(), String>;
}

/// `StartChargeSeqStat`: 2 charging once accepted, 5 unknown when refused.
fn start_result(cmd: &Command) -> Option<(u32, u32)> {
    match cmd.status {
        CommandStatus::Accepted => Some((2, 0)),
        CommandStatus::Rejected | CommandStatus::Failed | CommandStatus::Expired => Some((5, 1)),
        _ => None,
    }
}

/// The push a partner's start command owes when it moves to `cmd.status`.
pub fn start_charge_result(cmd: &Command, now: DateTime<Utc>) -> Option<Delivery> {
    let origin = cmd.origin.as_ref()?;
    if !matches!(
        cmd.kind(),
        CommandKind::StartCharging | CommandKind::StartDischarging
    ) {
        return None;
    }
    let (stat, fail) = start_result(cmd)?;
    let payload = json!({
        "StartChargeSeq": origin.start_charge_seq,
        "StartChargeSeqStat": stat,
        "ConnectorID": origin.connector,
        "StartTime": kernel::input::rfc3339(now),
        "IdentCode": "",
        "SuccStat": fail,
        "FailReason": fail,
    });
    Some(Delivery::new(
        origin.partner_id,
        route::START_CHARGE_RESULT,
        payload,
        now,
    ))
}

/// The standard's `StopReason`: 0 stopped on request, 1 the vehicle was
/// full or left, 2 a fault, 3 anything else.
fn stop_reason(reason: Option<&str>) -> u32 {
    match reason.unwrap_or_default() {
        "remote" | "remote_stop" | "partner" | "local" | "user" | "user_request" => 0,
        "ev_full" | "soc_reached" | "ev_disconnected" | "unplugged" => 1,
        "fault" | "emergency_stop" | "power_loss" => 2,
        _ => 3,
    }
}

/// The charging record of a partner's session, as its order info.
pub fn charge_order_info(
    mark: &SessionMark,
    record: &ChargingRecord,
    now: DateTime<Utc>,
) -> Delivery {
    let payload = json!({
        "StartChargeSeq": mark.start_charge_seq,
        "ConnectorID": mark.connector,
        "StartTime": kernel::input::rfc3339(record.start_time),
        "EndTime": kernel::input::rfc3339(record.end_time),
        "TotalPower": record.energy,
        "TotalMoney": record.cost.unwrap_or(0.0),
        "StopReason": stop_reason(record.stop_reason.as_deref()),
    });
    Delivery::new(mark.partner_id, route::CHARGE_ORDER_INFO, payload, now)
}

/// Whether a record belongs to the session a mark names: it started after
/// the partner's command was queued, before that command could expire.
pub fn record_matches(mark: &SessionMark, record: &ChargingRecord, expiry: Duration) -> bool {
    record.start_time >= mark.queued_at - SESSION_SLACK
        && record.start_time <= mark.queued_at + expiry + SESSION_SLACK
}

/// Slack for a charger's clock when a session's start is compared with
/// the time the partner's start was queued.
pub const SESSION_SLACK: Duration = Duration::minutes(1);

/// Times in a payload, stored in UTC, in the partner's offset as the
/// standard writes them (`yyyy-MM-dd HH:mm:ss`).
fn localize(payload: &Value, offset_minutes: i32) -> Value {
    let mut out = payload.clone();
    if let Some(map) = out.as_object_mut() {
        for field in ["StartTime", "EndTime"] {
            let local = map
                .get(field)
                .and_then(Value::as_str)
                .and_then(|t| t.parse::<DateTime<Utc>>().ok())
                .map(|t| {
                    (t + Duration::minutes(i64::from(offset_minutes)))
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string()
                });
            if let Some(local) = local {
                map.insert(field.into(), json!(local));
            }
        }
    }
    out
}

impl Partners {
    /// One pass of the delivery loop: sends up to `limit` due messages;
    /// answers how many were delivered. Partners are served side by side,
    /// so a slow or hanging one holds up only its own messages; each
    /// partner's messages go in order.
    pub async fn deliver_pushes(&self, push: &dyn Push, limit: usize) -> Result<usize, Error> {
        let now = self.clock.now();
        let mut queues: Vec<(PartnerId, Vec<Delivery>)> = Vec::new();
        for d in self.store.due_deliveries(now, limit).await? {
            match queues.iter_mut().find(|(id, _)| *id == d.partner_id) {
                Some((_, queue)) => queue.push(d),
                None => queues.push((d.partner_id, vec![d])),
            }
        }
        let passes = queues
            .into_iter()
            .map(|(id, queue)| self.deliver_in_order(push, id, queue, now));
        let mut delivered = 0;
        for pass in futures_util::future::join_all(passes).await {
            delivered += pass?;
        }
        Ok(delivered)
    }

    /// One partner's due messages, oldest first: after one fails, the
    /// later ones wait behind it (same due time, later id).
    async fn deliver_in_order(
        &self,
        push: &dyn Push,
        id: PartnerId,
        queue: Vec<Delivery>,
        now: DateTime<Utc>,
    ) -> Result<usize, Error> {
        let partner = self
            .store
            .get_partner(id)
            .await?
            .filter(|p| p.notify_url.is_some());
        let mut delivered = 0;
        let mut blocked: Option<DateTime<Utc>> = None;
        for mut d in queue {
            if let Some(due) = blocked {
                d.next_attempt_at = due;
            } else if let Some(partner) = &partner {
                match self.push_once(push, partner, &d).await {
                    Ok(()) => {
                        d.attempts += 1;
                        d.status = DeliveryStatus::Delivered;
                        d.delivered_at = Some(now);
                        d.last_error = None;
                        delivered += 1;
                    }
                    Err(error) => {
                        d.retry_later(error, now);
                        blocked = Some(d.next_attempt_at);
                    }
                }
            } else {
                d.status = DeliveryStatus::Failed;
                d.last_error = Some("the partner has no notify_url".into());
            }
            self.store.save_delivery(&d).await?;
        }
        Ok(delivered)
    }

    async fn push_once(
        &self,
        push: &dyn Push,
        partner: &Partner,
        d: &Delivery,
    ) -> Result<(), String> {
        let base = partner.notify_url.as_deref().unwrap_or_default();
        let url = kernel::input::web_url(&format!("{base}/{}", d.route))
            .ok_or_else(|| "refused: not an absolute URL".to_owned())?;
        // Checked again at every push: the rule may be newer than the
        // partner, and a setting may have changed.
        check_notify_url(&url, self.settings.allow_local_notify_urls)
            .map_err(|refusal| refusal.as_delivery_error().to_owned())?;
        let payload = localize(&d.payload, partner.utc_offset_minutes);
        let now = self.clock.now() + Duration::minutes(i64::from(partner.utc_offset_minutes));
        let time_stamp = now.format("%Y%m%d%H%M%S").to_string();
        let seq = format!("{:04}", d.attempts % 10_000);
        push.push(Outgoing {
            partner,
            url: &url,
            payload: &payload,
            time_stamp: &time_stamp,
            seq: &seq,
        })
        .await
    }

    /// `GET /admin/partners/:id/deliveries` (admin): newest first.
    pub async fn partner_deliveries(
        &self,
        caller: &Caller,
        id: PartnerId,
    ) -> Result<Vec<Delivery>, Error> {
        caller.require(Role::Admin)?;
        let partner = self.visible_partner(caller, id).await?;
        let mut out = self.store.partner_deliveries(partner.partner_id).await?;
        out.reverse();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_partners_offset() {
        let p = json!({"StartTime": "2026-11-25T00:30:00Z", "TotalPower": 1.5});
        let local = localize(&p, 480);
        assert_eq!(local["StartTime"], "2026-11-25 08:30:00");
        assert_eq!(local["TotalPower"], 1.5);
    }

    #[test]
    fn stop_reasons_map_to_the_standards_codes() {
        assert_eq!(stop_reason(Some("remote")), 0);
        assert_eq!(stop_reason(Some("ev_disconnected")), 1);
        assert_eq!(stop_reason(Some("fault")), 2);
        assert_eq!(stop_reason(None), 3);
    }
}
