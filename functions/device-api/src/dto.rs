//! Wire shapes of the charger routes. Unknown fields are ignored: firmware
//! moves faster than the server.

use domain::commands::CommandReport;
use domain::devices::Registration;
use domain::ingest::{FirmwareStatus, Heartbeat, LifecycleEvent, StatusSample};
use domain::records::RecordUpload;
use domain::sites::SiteRegistration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(example = "ACME-COV-001")]
    pub sn: String,
    #[schema(example = "TP-AC22")]
    pub model: String,
    #[schema(example = "Tellus Power")]
    pub manufacturer: String,
    #[schema(example = "1.5.0")]
    pub firmware_version: String,
    /// The current secret, to rotate credentials of a registered serial.
    pub device_secret: Option<String>,
}

impl From<RegisterRequest> for Registration {
    fn from(r: RegisterRequest) -> Self {
        Self {
            sn: r.sn,
            model: r.model,
            manufacturer: r.manufacturer,
            firmware_version: r.firmware_version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterData {
    pub device_id: String,
    /// 64 hex characters, shown only here.
    pub device_secret: String,
    pub expires_in: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AuthRequest {
    pub device_id: String,
    pub device_secret: String,
    #[schema(example = "client_credentials")]
    pub grant_type: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HeartbeatRequest {
    #[schema(example = "2026-05-10T14:00:00Z")]
    pub timestamp: String,
    #[schema(example = "online")]
    pub status: String,
}

impl From<HeartbeatRequest> for Heartbeat {
    fn from(r: HeartbeatRequest) -> Self {
        Self {
            timestamp: r.timestamp,
            status: r.status,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeartbeatData {
    /// Pending commands, now marked delivered.
    pub commands: Vec<domain::model::CommandView>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusRequest {
    pub timestamp: String,
    pub connector_id: i64,
    #[schema(example = "charging")]
    pub state: String,
    pub voltage: f64,
    pub current: f64,
    pub power: f64,
    pub energy_delivered: f64,
    pub soc: Option<f64>,
}

impl From<StatusRequest> for StatusSample {
    fn from(r: StatusRequest) -> Self {
        Self {
            timestamp: r.timestamp,
            connector_id: r.connector_id,
            state: r.state,
            voltage: r.voltage,
            current: r.current,
            power: r.power,
            energy_delivered: r.energy_delivered,
            soc: r.soc,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EventRequest {
    pub timestamp: String,
    #[schema(example = "plug_in")]
    pub event_type: String,
    pub connector_id: Option<i64>,
    /// Free-form detail from the charger; not interpreted.
    pub data: Option<serde_json::Value>,
}

impl From<EventRequest> for LifecycleEvent {
    fn from(r: EventRequest) -> Self {
        Self {
            timestamp: r.timestamp,
            event_type: r.event_type,
            connector_id: r.connector_id,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordRequest {
    pub record_id: String,
    pub connector_id: i64,
    pub start_time: String,
    pub end_time: String,
    pub energy: f64,
    pub max_power: Option<f64>,
    pub cost: Option<f64>,
    #[schema(example = "GBP")]
    pub currency: Option<String>,
    pub stop_reason: Option<String>,
}

impl From<RecordRequest> for RecordUpload {
    fn from(r: RecordRequest) -> Self {
        Self {
            record_id: r.record_id,
            connector_id: r.connector_id,
            start_time: r.start_time,
            end_time: r.end_time,
            energy: r.energy,
            max_power: r.max_power,
            cost: r.cost,
            currency: r.currency,
            stop_reason: r.stop_reason,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CommandStatusRequest {
    pub command_id: String,
    #[schema(example = "completed")]
    pub status: String,
    pub timestamp: String,
    pub message: Option<String>,
}

impl From<CommandStatusRequest> for CommandReport {
    fn from(r: CommandStatusRequest) -> Self {
        Self {
            command_id: r.command_id,
            status: r.status,
            timestamp: r.timestamp,
            message: r.message,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct PollQuery {
    /// Seconds to wait for a command (default and cap set by the server).
    pub wait: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SiteRequest {
    pub site_id: Option<String>,
    /// Honoured only for a caller with authority over that operator.
    pub operator_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub postcode: String,
    pub lat: f64,
    pub lng: f64,
    pub power_capacity: f64,
    #[serde(default)]
    pub device_ids: Vec<String>,
}

impl From<SiteRequest> for SiteRegistration {
    fn from(r: SiteRequest) -> Self {
        Self {
            site_id: r.site_id,
            operator_id: r.operator_id,
            name: r.name,
            address: r.address,
            postcode: r.postcode,
            lat: r.lat,
            lng: r.lng,
            power_capacity: r.power_capacity,
            device_ids: r.device_ids,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteData {
    pub site_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FirmwareRequest {
    pub firmware_version: String,
    #[schema(example = "downloading")]
    pub status: String,
    pub progress: Option<i64>,
    pub message: Option<String>,
}

impl From<FirmwareRequest> for FirmwareStatus {
    fn from(r: FirmwareRequest) -> Self {
        Self {
            firmware_version: r.firmware_version,
            status: r.status,
            progress: r.progress,
            message: r.message,
        }
    }
}
