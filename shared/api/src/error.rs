//! The only place where errors become HTTP answers.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kernel::error::chain;
use kernel::{Error, FieldError};
use serde::Serialize;

/// A domain error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub Error);

pub type ApiResult<T> = Result<crate::Reply<T>, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

/// `data` of a validation error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub errors: Vec<FieldError>,
}

/// Every error answer: the envelope with a non-zero code, and `data` null
/// or, for bad values, the problems per field.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    /// The error code, e.g. 40400; see the table in docs/api.md.
    pub code: u32,
    pub message: String,
    pub data: Option<ErrorBody>,
}

impl ApiError {
    pub fn status_and_code(&self) -> (StatusCode, u32) {
        match &self.0 {
            Error::BadRequest { .. } => (StatusCode::BAD_REQUEST, 40000),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, 40100),
            Error::BadCredentials => (StatusCode::UNAUTHORIZED, 40101),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, 40300),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, 40400),
            Error::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, 40500),
            Error::Conflict(_) => (StatusCode::CONFLICT, 40900),
            Error::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, 41300),
            Error::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42200),
            Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, 42900),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, 50000),
            Error::NotImplemented(_) => (StatusCode::NOT_IMPLEMENTED, 50100),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, 50300),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        // A 5xx is logged once, here, with its whole cause chain; the
        // client learns only what it can act on.
        let message = match &self.0 {
            Error::Internal(_) => {
                tracing::error!(cause = %chain(&self.0), "internal error");
                "internal error; the failure was logged".to_owned()
            }
            Error::Unavailable(_) => {
                tracing::error!(cause = %chain(&self.0), "store unavailable");
                self.0.to_string()
            }
            other => other.to_string(),
        };
        let retry_after = match self.0 {
            Error::RateLimited { retry_after_s } => Some(retry_after_s),
            _ => None,
        };
        let data = match self.0 {
            Error::BadRequest { errors, .. } | Error::Invalid(errors) if !errors.is_empty() => {
                Some(ErrorBody { errors })
            }
            _ => None,
        };
        let body = ErrorEnvelope {
            code,
            message,
            data,
        };
        let mut res = (status, Json(body)).into_response();
        if let Some(secs) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            res.headers_mut().insert(header::RETRY_AFTER, secs);
        }
        res
    }
}
