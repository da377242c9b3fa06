//! Who is calling: the operator (console, partner) caller from a Bearer
//! token, and the slot where authenticated callers leave their id for the
//! request log.

use crate::error::ApiError;
use crate::extract::required_bearer;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use domain::Domain;
use kernel::access::Caller;
use std::sync::{Arc, Mutex};

/// Filled by the extractors with the caller's id (never a credential).
#[derive(Debug, Clone, Default)]
pub struct CallerSlot(Arc<Mutex<Option<String>>>);

impl CallerSlot {
    pub fn set(parts: &Parts, id: String) {
        if let Some(slot) = parts.extensions.get::<CallerSlot>()
            && let Ok(mut inner) = slot.0.lock()
        {
            *inner = Some(id);
        }
    }

    pub fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|v| v.clone())
    }
}

/// An authenticated console or partner caller.
pub struct Console(pub Caller);

impl FromRequestParts<Domain> for Console {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        domain: &Domain,
    ) -> Result<Self, Self::Rejection> {
        let token = required_bearer(parts)?;
        let caller = domain.tenants.operator_caller(token).await?;
        CallerSlot::set(parts, format!("client:{}", caller.client_id));
        Ok(Self(caller))
    }
}
