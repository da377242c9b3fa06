//! Identifiers in the path, parsed at the edge: one that does not parse
//! is "not found", exactly like one that parses but does not exist.

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use kernel::Error;
use kernel::ids::Identifier;

/// The one `{id}` of a route, as the identifier type it names.
#[derive(Debug, Clone, Copy)]
pub struct Id<T>(pub T);

/// "<kind> <raw> not found", with the raw value cut short.
pub fn not_found<T: Identifier>(raw: &str) -> Error {
    Error::NotFound(format!(
        "{} {} not found",
        T::KIND,
        kernel::input::shown(raw)
    ))
}

/// Parses one path value as `T`.
pub fn parse_path<T: Identifier>(raw: &str) -> Result<T, ApiError> {
    T::parse_id(raw).ok_or_else(|| ApiError(not_found::<T>(raw)))
}

impl<T: Identifier, S: Send + Sync> FromRequestParts<S> for Id<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError(Error::NotFound("no such resource".into())))?;
        parse_path(&raw).map(Id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::ids::DeviceId;

    #[test]
    fn a_malformed_id_is_not_found_and_long_values_are_cut() {
        let err = parse_path::<DeviceId>(&"x".repeat(10_000)).unwrap_err();
        let text = err.0.to_string();
        assert!(text.starts_with("device xxxx"), "{text}");
        assert!(text.len() < 100, "{text}");
        assert!(matches!(err.0, Error::NotFound(_)));
    }
}
