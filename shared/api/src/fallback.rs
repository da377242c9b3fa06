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
        .layer(axum::middleware::from_fn(refuse_large_bodies))
        .layer(axum::middleware::from_fn_with_state(state, log_requests))
}

/// A body over the limit is 413 on every route, those that read no body
/// included (a handler that ignores a body would otherwise act on it).
async fn refuse_large_bodies(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::body::HttpBody;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // What the body itself says it holds at least (a buffered body, as a
    // Lambda's, knows exactly).
    let known = request.body().size_hint().lower();
    if declared.unwrap_or(0).max(known) > BODY_LIMIT as u64 {
        return axum::response::IntoResponse::into_response(ApiError(Error::PayloadTooLarge(
            BODY_LIMIT,
        )));
    }
    next.run(request).await
}
