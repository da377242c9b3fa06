//! The token answer of both token routes (contract §2): the envelope, and
//! the RFC 6749 fields repeated at the top level so that standard OAuth
//! clients read it too.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenData {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    pub expires_in: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenEnvelope {
    pub code: u32,
    pub message: String,
    pub data: TokenData,
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
}

pub fn token_answer(access_token: String, expires_in: i64) -> Json<TokenEnvelope> {
    let data = TokenData {
        access_token,
        token_type: "Bearer".into(),
        expires_in,
    };
    Json(TokenEnvelope {
        code: 0,
        message: "success".into(),
        access_token: data.access_token.clone(),
        token_type: data.token_type.clone(),
        expires_in,
        data,
    })
}
