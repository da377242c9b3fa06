//! The device caller: a valid Bearer token, checked without a store request
//! (revocation is checked by the request that serves the call).

use api::{ApiError, bearer_token, required_bearer};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use domain::Domain;
use domain::devices::credentials::TokenClaims;
use kernel::secret::Secret;

pub struct DeviceCaller(pub TokenClaims);

impl FromRequestParts<Domain> for DeviceCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        domain: &Domain,
    ) -> Result<Self, Self::Rejection> {
        let token = required_bearer(parts)?;
        let claims = domain.devices.verify_token(token)?;
        api::CallerSlot::set(parts, format!("device:{}", claims.device_id));
        Ok(Self(claims))
    }
}

/// Registration headers: the provisioning key and, for re-registration,
/// an optional Bearer token proving possession.
pub struct RegistrationHeaders {
    pub provisioning_key: Option<Secret<String>>,
    pub bearer: Option<Secret<String>>,
}

impl<S: Send + Sync> FromRequestParts<S> for RegistrationHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            provisioning_key: parts
                .headers
                .get("x-provisioning-key")
                .and_then(|v| v.to_str().ok())
                .map(|k| Secret::new(k.to_owned())),
            bearer: bearer_token(parts).map(|t| Secret::new(t.to_owned())),
        })
    }
}
