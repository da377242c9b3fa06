//! What every deployed router gets once: envelope answers for unknown
//! routes and wrong methods, and the body size limit.

use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use crate::log::{LogState, log_requests};
use crate::unmatched::ApiRoutes;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use domain::Domain;
use kernel::Error;

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
    limit_and_log(
        router
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed),
        domain,
        function,
    )
}

/// [`finish`] for the function behind API Gateway's `$default` route: it
/// gets every request no route of the API matched, so its fallbacks answer
/// from the whole API's routes, not only its own.
pub fn finish_default_route(
    router: Router,
    domain: &Domain,
    function: &'static str,
    routes: ApiRoutes,
) -> Router {
    let wrong_method = routes.clone();
    limit_and_log(
        router
            .fallback(move |method: Method, uri: Uri| {
                std::future::ready(routes.answer(&method, uri.path()))
            })
            .method_not_allowed_fallback(move |method: Method, uri: Uri| {
                std::future::ready(wrong_method.wrong_method(&method, uri.path()))
            }),
        domain,
        function,
    )
}

fn limit_and_log(router: Router, domain: &Domain, function: &'static str) -> Router {
    let state = LogState {
        domain: domain.clone(),
        function,
    };
    router
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state, log_requests))
}
