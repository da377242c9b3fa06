//! Extractors whose failures answer with the envelope, naming the field.

use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use bytes::Bytes;
use kernel::Error;
use serde::de::DeserializeOwned;

/// Largest request body accepted (contract: 64 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;

/// The raw body, limited in size; too large is the envelope's 413 and an
/// unreadable one its 400, never a bare text answer.
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|rejection| {
                ApiError(if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Error::PayloadTooLarge(BODY_LIMIT)
                } else {
                    Error::bad_request("body", "could not be read")
                })
            })
    }
}

/// A JSON body, limited in size, whose errors name the offending field.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody).map_err(ApiError)
    }
}

/// Parses a JSON document into `T`, describing the first problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::bad_request("body", "a JSON object is required"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return Error::bad_request("body", format!("is not valid JSON ({inner})"));
        }
        let text = kernel::input::plain_serde_message(&inner.to_string());
        // serde names a missing field in the message, at its parent's path.
        let field = match text.strip_prefix("missing field `") {
            Some(rest) => {
                let name = rest.trim_end_matches('`');
                if path == "." {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                }
            }
            None if path == "." => "body".to_owned(),
            None => path,
        };
        Error::bad_request(field, text)
    })
}

/// Query parameters whose errors are envelopes.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| QueryParams(v))
            .map_err(|rejection| {
                let text = rejection.body_text();
                let text = kernel::input::plain_serde_message(
                    text.strip_prefix("Failed to deserialize query string: ")
                        .unwrap_or(&text),
                );
                ApiError(Error::bad_request("query", text))
            })
    }
}

/// The Bearer token a route requires: 401 with the envelope when absent.
pub fn required_bearer(parts: &Parts) -> Result<&str, ApiError> {
    bearer_token(parts).ok_or_else(|| {
        ApiError(Error::Unauthorized(
            "an Authorization: Bearer <token> header is required".into(),
        ))
    })
}

/// The Bearer token of a request, if it carries one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        sn: String,
        power: f64,
    }

    fn field_of(raw: &str) -> String {
        match parse_json::<Body>(raw.as_bytes()) {
            Err(Error::BadRequest { errors, .. }) => errors[0].field.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_field_is_named() {
        assert_eq!(field_of(r#"{"power": 1}"#), "sn");
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        assert_eq!(field_of(r#"{"sn": "A", "power": "high"}"#), "power");
    }

    #[test]
    fn text_that_is_not_json_blames_the_body() {
        assert_eq!(field_of("{not json"), "body");
        assert_eq!(field_of(""), "body");
    }
}
