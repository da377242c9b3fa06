//! The one error type of the domain. The API crate maps each variant to an
//! HTTP status and envelope code in a single place.

use crate::storage::{Cause, StoreError};
use serde::Serialize;

/// One problem with one input field, shown to the caller in `data.errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not JSON, or a field is missing or of the wrong type.
    #[error("{message}")]
    BadRequest {
        message: String,
        errors: Vec<FieldError>,
    },
    /// Well-formed input with values out of range, enum or order.
    #[error("invalid values: {}", describe(.0))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Unauthorized(String),
    #[error("wrong client credentials")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("too many failed attempts; retry in {retry_after_s} s")]
    RateLimited { retry_after_s: i64 },
    #[error("{0} is not available yet")]
    NotImplemented(String),
    #[error("the data store is unavailable; nothing was written, retry later")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] Cause),
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} {}", e.field, e.problem))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, problem)])
    }

    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn bad_request(field: impl Into<String>, problem: impl Into<String>) -> Self {
        let field = field.into();
        let problem = problem.into();
        Self::BadRequest {
            message: format!("{field}: {problem}"),
            errors: vec![FieldError::new(field, problem)],
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => {
                Self::bad_request("cursor", "is not a cursor this API handed out")
            }
            StoreError::Unavailable(_) => Self::Unavailable(e),
            StoreError::Internal(_) => Self::Internal(Box::new(e)),
        }
    }
}

/// An error and its causes, `: `-joined, for a log line.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
