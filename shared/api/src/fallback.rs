//! What every deployed router gets once: envelope answers for unknown
//! routes and wrong methods, and the body size limit.

use crate::error::ApiError;
use crate::log::{LogState, log_requests};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use domain::{Domain, Error};

/// Largest request body accepted (contract: 64 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError(Error::NotFound(format!(
        "no route for {method} {}",
        uri.path()
    )))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError(Error::MethodNotAllowed(format!(
        "{method} is not allowed on {}",
        uri.path()
    )))
}

/// Adds the fallbacks, limits and request logging to a complete router
/// (after any merge). `function` names the deployed function in the logs.
pub fn finish(router: Router, domain: &Domain, function: &'static str) -> Router {
    let state = LogState {
        domain: domain.clone(),
        function,
    };
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state, log_requests))
}
