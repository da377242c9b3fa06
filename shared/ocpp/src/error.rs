//! CALLERROR codes, spelt as each version spells them.

use crate::Version;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NotImplemented,
    NotSupported,
    InternalError,
    ProtocolError,
    SecurityError,
    /// 1.6 `FormationViolation`, 2.0.1 `FormatViolation`.
    FormatViolation,
    PropertyConstraintViolation,
    /// 1.6 `OccurenceConstraintViolation`, 2.0.1 `OccurrenceConstraintViolation`.
    OccurrenceConstraintViolation,
    TypeConstraintViolation,
    GenericError,
}

impl ErrorCode {
    pub fn as_str(self, version: Version) -> &'static str {
        match (self, version) {
            (Self::NotImplemented, _) => "NotImplemented",
            (Self::NotSupported, _) => "NotSupported",
            (Self::InternalError, _) => "InternalError",
            (Self::ProtocolError, _) => "ProtocolError",
            (Self::SecurityError, _) => "SecurityError",
            (Self::FormatViolation, Version::V16) => "FormationViolation",
            (Self::FormatViolation, Version::V201) => "FormatViolation",
            (Self::PropertyConstraintViolation, _) => "PropertyConstraintViolation",
            (Self::OccurrenceConstraintViolation, Version::V16) => "OccurenceConstraintViolation",
            (Self::OccurrenceConstraintViolation, Version::V201) => "OccurrenceConstraintViolation",
            (Self::TypeConstraintViolation, _) => "TypeConstraintViolation",
            (Self::GenericError, _) => "GenericError",
        }
    }
}
