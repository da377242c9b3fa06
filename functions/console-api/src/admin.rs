//! Admin-only reads: the live activity feed and the shared request log.

use api::{ApiResult, Console, Envelope, ErrorEnvelope, QueryParams, Reply};
use axum::extract::State;
use domain::Domain;
use kernel::Error;
use kernel::model::{Activity, RequestLogEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type Failure = ErrorEnvelope;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// The `cursor` of the previous answer: only newer lines.
    #[param(max_length = 256, pattern = "^[0-9a-f]*$")]
    pub since: Option<String>,
}

/// Cursors this API hands out are short hex strings.
fn since(q: &ActivityQuery) -> Result<Option<&str>, Error> {
    match q.since.as_deref() {
        Some(c) if c.len() > 256 || !c.bytes().all(|b| b.is_ascii_hexdigit()) => Err(
            Error::bad_request("since", "is not a cursor this API handed out"),
        ),
        other => Ok(other),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityFeed {
    /// Newest first.
    pub items: Vec<Activity>,
    /// Pass as `since` to poll for what is newer.
    pub cursor: Option<String>,
}

/// Recent domain events, newest first (admin).
#[utoipa::path(get, path = "/v1/internal/activity", tag = "admin", security(("bearer" = [])), params(ActivityQuery),
    responses(
        (status = 200, description = "the feed", body = Envelope<ActivityFeed>),
        (status = 403, description = "not an admin", body = Failure),
    ))]
pub async fn activity(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<ActivityQuery>,
) -> ApiResult<ActivityFeed> {
    let (items, cursor) = domain.feeds.activity_feed(&caller, since(&q)?).await?;
    Ok(Reply::ok(ActivityFeed { items, cursor }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestLog {
    /// The last 200 requests across every function, newest first.
    pub items: Vec<RequestLogEntry>,
}

/// The shared request log (admin).
#[utoipa::path(get, path = "/v1/debug/requests", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "recent requests", body = Envelope<RequestLog>),
        (status = 403, description = "not an admin", body = Failure),
    ))]
pub async fn debug_requests(
    State(domain): State<Domain>,
    Console(caller): Console,
) -> ApiResult<RequestLog> {
    Ok(Reply::ok(RequestLog {
        items: domain.feeds.request_log(&caller).await?,
    }))
}
