//! `{"code":0,"message":"success","data":...}` and its HTTP status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Envelope<T> {
    /// 0 on success; see the error table otherwise.
    pub code: u32,
    pub message: String,
    pub data: T,
}

impl<T> Envelope<T> {
    pub fn success(data: T) -> Self {
        Self {
            code: 0,
            message: "success".into(),
            data,
        }
    }
}

/// A successful answer: a status and the enveloped data.
#[derive(Debug)]
pub struct Reply<T> {
    status: StatusCode,
    body: Envelope<T>,
}

impl<T> Reply<T> {
    pub fn ok(data: T) -> Self {
        Self {
            status: StatusCode::OK,
            body: Envelope::success(data),
        }
    }

    pub fn created(data: T) -> Self {
        Self {
            status: StatusCode::CREATED,
            body: Envelope::success(data),
        }
    }

    pub fn accepted(data: T) -> Self {
        Self {
            status: StatusCode::ACCEPTED,
            body: Envelope::success(data),
        }
    }
}

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// `data: null`: the route answers nothing beyond success.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Null;
