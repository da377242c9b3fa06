//! OCPP-J, as the platform speaks it with charge points: the two versions
//! and their subprotocols, the message frames, the error codes each
//! version spells its own way, the official JSON schemas every message is
//! checked against, and the payloads the platform reads and sends.
//!
//! Nothing here knows the fleet: mapping messages onto devices, sessions
//! and commands is the gateway's job.

mod error;
mod frame;
pub mod meter;
mod schema;
pub mod v16;
pub mod v201;

pub use error::ErrorCode;
pub use frame::{CallError, Frame, FrameError, MAX_FRAME_BYTES, call, call_error, call_result};
pub use schema::{Direction, Violation, validate};

/// An OCPP-J version, as negotiated in the WebSocket subprotocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V16,
    V201,
}

impl Version {
    /// The versions the platform speaks, newest first: the order it
    /// prefers them in when a charger offers several.
    pub const PREFERRED: [Version; 2] = [Version::V201, Version::V16];

    /// The `Sec-WebSocket-Protocol` name.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Self::V16 => "ocpp1.6",
            Self::V201 => "ocpp2.0.1",
        }
    }

    /// Subprotocol names are compared exactly (RFC 6455): `OCPP1.6` is
    /// no name of either version.
    pub fn from_subprotocol(name: &str) -> Option<Self> {
        Self::PREFERRED
            .into_iter()
            .find(|v| v.subprotocol() == name.trim())
    }

    /// The newest version among a `Sec-WebSocket-Protocol` header's
    /// offers (comma-separated, possibly over several headers).
    pub fn negotiate<'a>(offers: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let offered: Vec<Version> = offers
            .into_iter()
            .flat_map(|h| h.split(','))
            .filter_map(Self::from_subprotocol)
            .collect();
        Self::PREFERRED.into_iter().find(|v| offered.contains(v))
    }

    /// Whether the version defines `action` for a charge point to send.
    pub fn defines(self, action: &str) -> bool {
        let actions: &[&str] = match self {
            Self::V16 => V16_FROM_CHARGERS,
            Self::V201 => V201_FROM_CHARGERS,
        };
        actions.contains(&action)
    }
}

/// What an OCPP 1.6 charge point may send (with the security whitepaper's).
const V16_FROM_CHARGERS: &[&str] = &[
    "Authorize",
    "BootNotification",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "SecurityEventNotification",
    "SignCertificate",
    "SignedFirmwareStatusNotification",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
];

/// What an OCPP 2.0.1 charging station may send.
const V201_FROM_CHARGERS: &[&str] = &[
    "Authorize",
    "BootNotification",
    "ClearedChargingLimit",
    "DataTransfer",
    "FirmwareStatusNotification",
    "Get15118EVCertificate",
    "GetCertificateStatus",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "ReservationStatusUpdate",
    "SecurityEventNotification",
    "SignCertificate",
    "StatusNotification",
    "TransactionEvent",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_offered_version_wins() {
        assert_eq!(
            Version::negotiate(["ocpp1.6, ocpp2.0.1"]),
            Some(Version::V201)
        );
        assert_eq!(
            Version::negotiate(["ocpp1.6", "ocpp2.0"]),
            Some(Version::V16)
        );
        assert_eq!(Version::negotiate(["ocpp2.0", "mqtt"]), None);
        assert_eq!(
            Version::negotiate(["OCPP1.6", "Ocpp2.0.1"]),
            None,
            "names are compared exactly"
        );
        assert_eq!(Version::negotiate([]), None);
    }

    #[test]
    fn each_version_knows_its_own_actions() {
        assert!(Version::V16.defines("StartTransaction"));
        assert!(!Version::V201.defines("StartTransaction"));
        assert!(Version::V201.defines("TransactionEvent"));
        assert!(!Version::V16.defines("TransactionEvent"));
    }
}
