//! The token answer of both token routes (contract §2): the envelope, and
//! the RFC 6749 fields repeated at the top level so that standard OAuth
//! clients read it too.

use axum::Json;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, PRAGMA};
use axum::response::{IntoResponse, Response};
use kernel::secret::Secret;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenData {
    #[schema(value_type = String)]
    pub access_token: Secret<String>,
    #[schema(example = "Bearer")]
    pub token_type: String,
    pub expires_in: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenEnvelope {
    pub code: u32,
    pub message: String,
    pub data: TokenData,
    #[schema(value_type = String)]
    pub access_token: Secret<String>,
    pub token_type: String,
    pub expires_in: i64,
}

pub fn token_answer(access_token: Secret<String>, expires_in: i64) -> Response {
    let data = TokenData {
        access_token,
        token_type: "Bearer".into(),
        expires_in,
    };
    no_store(Json(TokenEnvelope {
        code: 0,
        message: "success".into(),
        access_token: data.access_token.clone(),
        token_type: data.token_type.clone(),
        expires_in,
        data,
    }))
}

/// An answer carrying a secret or a token must not be cached by anyone on
/// the way (RFC 6749 §5.1).
pub fn no_store(answer: impl IntoResponse) -> Response {
    let mut res = answer.into_response();
    let headers = res.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    res
}
