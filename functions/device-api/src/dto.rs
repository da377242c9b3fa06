//! Wire shapes of the charger routes, and one `TryFrom` each that parses
//! them into the domain's typed inputs, naming every bad field. Unknown
//! fields are ignored: firmware moves faster than the server.

use domain::commands::{CommandReport, Report};
use domain::devices::{DeviceLogin, Registration};
use domain::records::RecordUpload;
use domain::sites::{MAX_SITE_DEVICES, SiteRegistration};
use domain::telemetry::{
    EventType, FirmwareReport, Heartbeat, HeartbeatStatus, LifecycleEvent, StatusSample,
};
use kernel::command::CommandView;
use kernel::ids::{CommandId, DeviceId, OperatorId, RecordId, SiteId};
use kernel::input::{
    AllFields, check, connector, currency_ok, id, number, one_of, optional, short_text, text, time,
};
use kernel::model::{ConnectorState, FirmwareStatus};
use kernel::secret::Secret;
use kernel::{Error, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use kernel::ids::SerialNumber;
use kernel::input::bounds::{MAX_COST, MAX_CURRENT_A, MAX_ENERGY_KWH, MAX_POWER_KW, MAX_VOLTAGE_V};
/// No charging session of this network predates this.
static EARLIEST_RECORD: std::sync::LazyLock<chrono::DateTime<chrono::Utc>> =
    std::sync::LazyLock::new(|| chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(10_957));

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(example = "ACME-COV-001", pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub sn: String,
    #[schema(example = "TP-AC22", min_length = 1, max_length = 64)]
    pub model: String,
    #[schema(example = "Tellus Power", min_length = 1, max_length = 128)]
    pub manufacturer: String,
    #[schema(example = "1.5.0", min_length = 1, max_length = 64)]
    pub firmware_version: String,
    /// The current secret, to rotate credentials of a registered serial.
    #[schema(value_type = Option<String>)]
    pub device_secret: Option<Secret<String>>,
}

impl TryFrom<RegisterRequest> for Registration {
    type Error = Error;

    fn try_from(r: RegisterRequest) -> Result<Self, Error> {
        let sn = SerialNumber::parse(&r.sn)
            .ok_or_else(|| FieldError::new("sn", "must be 1..64 of A-Z a-z 0-9 . _ -"));
        let (sn, model, manufacturer, firmware_version) = (
            sn,
            text(r.model, 64, "model"),
            text(r.manufacturer, 128, "manufacturer"),
            kernel::input::firmware_version(r.firmware_version, "firmware_version"),
        )
            .all()?;
        Ok(Self {
            sn,
            model,
            manufacturer,
            firmware_version,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterData {
    pub device_id: DeviceId,
    /// 64 hex characters, shown only here.
    #[schema(value_type = String)]
    pub device_secret: Secret<String>,
    pub expires_in: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AuthRequest {
    #[schema(format = Uuid)]
    pub device_id: String,
    #[schema(value_type = String)]
    pub device_secret: Secret<String>,
    #[schema(example = "client_credentials", pattern = "^client_credentials$")]
    pub grant_type: String,
}

impl TryFrom<AuthRequest> for DeviceLogin {
    type Error = Error;

    fn try_from(r: AuthRequest) -> Result<Self, Error> {
        domain::devices::credentials::client_credentials_grant(&r.grant_type)?;
        // An id that cannot exist is wrong credentials, like one that does not.
        let device_id = DeviceId::parse(&r.device_id).ok_or(Error::BadCredentials)?;
        Ok(Self {
            device_id,
            device_secret: r.device_secret,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HeartbeatRequest {
    #[schema(example = "2026-05-10T14:00:00Z", format = DateTime)]
    pub timestamp: String,
    #[schema(value_type = HeartbeatStatus, example = "online")]
    pub status: String,
}

impl TryFrom<HeartbeatRequest> for Heartbeat {
    type Error = Error;

    fn try_from(r: HeartbeatRequest) -> Result<Self, Error> {
        let (timestamp, status) = (
            time(&r.timestamp, "timestamp"),
            one_of::<HeartbeatStatus>(&r.status, "status"),
        )
            .all()?;
        Ok(Self { timestamp, status })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeartbeatData {
    /// Pending commands, now marked delivered.
    pub commands: Vec<CommandView>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusRequest {
    #[schema(format = DateTime)]
    pub timestamp: String,
    #[schema(minimum = 1, maximum = 32)]
    pub connector_id: i64,
    #[schema(value_type = ConnectorState, example = "charging")]
    pub state: String,
    /// V
    #[schema(minimum = 0, maximum = 1500)]
    pub voltage: f64,
    /// A
    #[schema(minimum = 0, maximum = 1000)]
    pub current: f64,
    /// kW, a magnitude: the state gives the direction.
    #[schema(minimum = 0, maximum = 1000)]
    pub power: f64,
    /// kWh: the session's running counter.
    #[schema(minimum = 0, maximum = 100000)]
    pub energy_delivered: f64,
    /// %
    #[schema(minimum = 0, maximum = 100)]
    pub soc: Option<f64>,
}

impl TryFrom<StatusRequest> for StatusSample {
    type Error = Error;

    fn try_from(r: StatusRequest) -> Result<Self, Error> {
        let (timestamp, connector_id, state, voltage, current, power, energy_delivered, soc) = (
            time(&r.timestamp, "timestamp"),
            connector(r.connector_id, "connector_id"),
            one_of::<ConnectorState>(&r.state, "state"),
            number(r.voltage, 0.0, MAX_VOLTAGE_V, "voltage"),
            number(r.current, 0.0, MAX_CURRENT_A, "current"),
            number(r.power, 0.0, MAX_POWER_KW, "power"),
            number(r.energy_delivered, 0.0, MAX_ENERGY_KWH, "energy_delivered"),
            optional(r.soc, |v| number(v, 0.0, 100.0, "soc")),
        )
            .all()?;
        Ok(Self {
            timestamp,
            connector_id,
            state,
            voltage,
            current,
            power,
            energy_delivered,
            soc,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EventRequest {
    #[schema(format = DateTime)]
    pub timestamp: String,
    #[schema(value_type = EventType, example = "plug_in")]
    pub event_type: String,
    /// Required for every event but `boot`.
    #[schema(minimum = 1, maximum = 32)]
    pub connector_id: Option<i64>,
    /// Free-form detail from the charger; not interpreted.
    pub data: Option<serde_json::Value>,
}

impl TryFrom<EventRequest> for LifecycleEvent {
    type Error = Error;

    fn try_from(r: EventRequest) -> Result<Self, Error> {
        let (timestamp, event, connector_id) = (
            time(&r.timestamp, "timestamp"),
            one_of::<EventType>(&r.event_type, "event_type"),
            optional(r.connector_id, |c| connector(c, "connector_id")),
        )
            .all()?;
        match (event.moves_to(), connector_id) {
            (None, _) => Ok(Self::Boot { timestamp }),
            (Some(state), Some(connector_id)) => Ok(Self::Connector {
                timestamp,
                event,
                connector_id,
                state,
            }),
            (Some(_), None) => Err(Error::invalid(
                "connector_id",
                "is required for this event_type",
            )),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordRequest {
    #[schema(format = Uuid)]
    pub record_id: String,
    #[schema(minimum = 1, maximum = 32)]
    pub connector_id: i64,
    #[schema(format = DateTime)]
    pub start_time: String,
    #[schema(format = DateTime)]
    pub end_time: String,
    /// kWh
    #[schema(minimum = 0, maximum = 100000)]
    pub energy: f64,
    /// kW
    #[schema(minimum = 0, maximum = 1000)]
    pub max_power: Option<f64>,
    #[schema(minimum = 0, maximum = 1000000)]
    pub cost: Option<f64>,
    #[schema(example = "GBP", pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[schema(max_length = 64)]
    pub stop_reason: Option<String>,
}

impl TryFrom<RecordRequest> for RecordUpload {
    type Error = Error;

    fn try_from(r: RecordRequest) -> Result<Self, Error> {
        let currency_checked = optional(r.currency.as_deref(), |c| {
            check(
                currency_ok(c),
                "currency",
                "must be an ISO 4217 code such as GBP",
            )
        });
        let with_cost = check(
            r.cost.is_none() || r.currency.is_some(),
            "currency",
            "is required with cost",
        );
        let reason = optional(r.stop_reason, |s| short_text(s, 64, "stop_reason"));
        let (
            record_id,
            connector_id,
            start_time,
            end_time,
            energy,
            max_power,
            cost,
            _,
            _,
            stop_reason,
        ) = (
            id::<RecordId>(&r.record_id, "record_id"),
            connector(r.connector_id, "connector_id"),
            time(&r.start_time, "start_time"),
            time(&r.end_time, "end_time"),
            number(r.energy, 0.0, MAX_ENERGY_KWH, "energy"),
            optional(r.max_power, |v| number(v, 0.0, MAX_POWER_KW, "max_power")),
            optional(r.cost, |v| number(v, 0.0, MAX_COST, "cost")),
            currency_checked,
            with_cost,
            reason,
        )
            .all()?;
        if end_time < start_time {
            return Err(Error::invalid("end_time", "must not be before start_time"));
        }
        if start_time < *EARLIEST_RECORD {
            return Err(Error::invalid(
                "start_time",
                "must not be before 2000-01-01T00:00:00Z",
            ));
        }
        Ok(Self {
            record_id,
            connector_id,
            start_time,
            end_time,
            energy,
            max_power,
            cost,
            currency: r.currency,
            stop_reason,
            id_tag: None,
            authorization: None,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CommandStatusRequest {
    #[schema(format = Uuid)]
    pub command_id: String,
    #[schema(value_type = Report, example = "completed")]
    pub status: String,
    #[schema(format = DateTime)]
    pub timestamp: String,
    #[schema(max_length = 512)]
    pub message: Option<String>,
}

impl TryFrom<CommandStatusRequest> for CommandReport {
    type Error = Error;

    fn try_from(r: CommandStatusRequest) -> Result<Self, Error> {
        let message = optional(r.message.as_deref(), |m| {
            check(
                m.chars().count() <= 512,
                "message",
                "must be at most 512 characters",
            )
        });
        let (status, timestamp, _, command_id) = (
            one_of::<Report>(&r.status, "status"),
            time(&r.timestamp, "timestamp"),
            message,
            id::<CommandId>(&r.command_id, "command_id"),
        )
            .all()?;
        Ok(Self {
            command_id,
            status,
            timestamp,
            message: r.message,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PollQuery {
    /// Seconds to wait for a command (default 20; the server caps it).
    #[param(minimum = 0, maximum = 25)]
    pub wait: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SiteRequest {
    /// Absent: a new site with a fresh id.
    #[schema(format = Uuid)]
    pub site_id: Option<String>,
    /// Honoured only for a caller with authority over that operator.
    pub operator_id: Option<String>,
    #[schema(min_length = 1, max_length = 128)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub address: String,
    #[serde(default)]
    #[schema(max_length = 16)]
    pub postcode: String,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    pub lng: f64,
    /// kW
    #[schema(exclusive_minimum = 0, maximum = 100000)]
    pub power_capacity: f64,
    #[serde(default)]
    #[schema(max_items = 500)]
    pub device_ids: Vec<String>,
}

impl TryFrom<SiteRequest> for SiteRegistration {
    type Error = Error;

    fn try_from(r: SiteRequest) -> Result<Self, Error> {
        let mut ids: Vec<DeviceId> = Vec::new();
        let mut malformed: Vec<String> = Vec::new();
        for raw in &r.device_ids {
            match DeviceId::parse(raw) {
                Some(id) if !ids.contains(&id) => ids.push(id),
                Some(_) => {}
                None => malformed.push(kernel::input::shown(raw)),
            }
        }
        let device_ids = if malformed.is_empty() {
            check(
                r.device_ids.len() <= MAX_SITE_DEVICES,
                "device_ids",
                "must list at most 500 devices",
            )
            .map(|()| ids)
        } else {
            Err(FieldError::new(
                "device_ids",
                format!("not UUIDs: {}", malformed.join(", ")),
            ))
        };
        let capacity = check(
            kernel::input::representable(r.power_capacity)
                && r.power_capacity > 0.0
                && r.power_capacity <= 100_000.0,
            "power_capacity",
            "must be > 0 and at most 100000 kW",
        );
        let (site_id, operator_id, name, address, postcode, lat, lng, _, device_ids) = (
            optional(r.site_id.as_deref(), |s| id::<SiteId>(s, "site_id")),
            optional(r.operator_id.as_deref(), |s| {
                id::<OperatorId>(s, "operator_id")
            }),
            text(r.name, 128, "name"),
            short_text(r.address, 256, "address"),
            short_text(r.postcode, 16, "postcode"),
            number(r.lat, -90.0, 90.0, "lat"),
            number(r.lng, -180.0, 180.0, "lng"),
            capacity,
            device_ids,
        )
            .all()?;
        Ok(Self {
            site_id,
            operator_id,
            name,
            address,
            postcode,
            lat,
            lng,
            power_capacity: r.power_capacity,
            device_ids,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteData {
    pub site_id: SiteId,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FirmwareRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub firmware_version: String,
    #[schema(value_type = FirmwareStatus, example = "downloading")]
    pub status: String,
    /// %
    #[schema(minimum = 0, maximum = 100)]
    pub progress: Option<i64>,
    #[schema(max_length = 512)]
    pub message: Option<String>,
}

impl TryFrom<FirmwareRequest> for FirmwareReport {
    type Error = Error;

    fn try_from(r: FirmwareRequest) -> Result<Self, Error> {
        let message = optional(r.message.as_deref(), |m| {
            check(
                m.chars().count() <= 512,
                "message",
                "must be at most 512 characters",
            )
        });
        let (firmware_version, status, progress, _) = (
            kernel::input::firmware_version(r.firmware_version, "firmware_version"),
            one_of::<FirmwareStatus>(&r.status, "status"),
            optional(r.progress, |p| {
                u8::try_from(p)
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| FieldError::new("progress", "must be 0..100"))
            }),
            message,
        )
            .all()?;
        Ok(Self {
            firmware_version,
            status,
            progress,
            message: r.message,
        })
    }
}
