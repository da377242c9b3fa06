//! `notification_stationStatus` and `notify_work_status`: what a partner
//! tells us about its own connectors and sessions, kept per partner
//! (the newest push replaces the previous one) for its tenant to read.

use super::Partners;
use super::{Partner, PartnerConnector, PartnerSession};
use kernel::error::Error;
use serde::Serialize;

/// The connector statuses of the standard.
pub const STATUSES: [u32; 6] = [0, 1, 2, 3, 4, 255];

/// `notification_stationStatus`'s Data, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorPush {
    pub connector_id: String,
    pub status: u32,
    pub park_status: Option<u32>,
    pub lock_status: Option<u32>,
}

/// `notify_work_status`'s Data, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionPush {
    pub start_charge_seq: String,
    pub start_charge_seq_stat: u32,
    pub connector_id: String,
    pub connector_status: u32,
    pub current_a: Option<f64>,
    pub voltage_a: Option<f64>,
    pub soc: Option<f64>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub total_power: Option<f64>,
    pub elec_money: Option<f64>,
    pub service_money: Option<f64>,
    pub total_money: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PushAccepted {
    /// 0 accepted.
    pub status: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SessionAccepted {
    pub start_charge_seq: String,
    /// 0 kept.
    pub succ_stat: u32,
}

impl Partners {
    /// `/customer/notification_stationStatus`.
    pub async fn partner_connector_pushed(
        &self,
        partner: &Partner,
        push: ConnectorPush,
    ) -> Result<PushAccepted, Error> {
        let kept = PartnerConnector {
            partner_id: partner.partner_id,
            connector_id: push.connector_id,
            status: push.status,
            park_status: push.park_status,
            lock_status: push.lock_status,
            received_at: self.clock.now(),
        };
        self.store.put_partner_connector(&kept).await?;
        Ok(PushAccepted { status: 0 })
    }

    /// `/customer/notify_work_status`.
    pub async fn partner_session_pushed(
        &self,
        partner: &Partner,
        push: SessionPush,
    ) -> Result<SessionAccepted, Error> {
        let kept = PartnerSession {
            partner_id: partner.partner_id,
            start_charge_seq: push.start_charge_seq.clone(),
            start_charge_seq_stat: push.start_charge_seq_stat,
            connector_id: push.connector_id,
            connector_status: push.connector_status,
            current_a: push.current_a,
            voltage_a: push.voltage_a,
            soc: push.soc,
            start_time: push.start_time,
            end_time: push.end_time,
            total_power: push.total_power,
            elec_money: push.elec_money,
            service_money: push.service_money,
            total_money: push.total_money,
            received_at: self.clock.now(),
        };
        self.store.put_partner_session(&kept).await?;
        Ok(SessionAccepted {
            start_charge_seq: push.start_charge_seq,
            succ_stat: 0,
        })
    }
}
