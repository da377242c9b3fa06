//! The HTTP edge shared by every function: the response envelope, the one
//! mapping from domain errors to statuses and codes, extractors whose
//! rejections are envelopes too, the fallbacks and the request log line.

mod auth;
mod envelope;
mod error;
mod extract;
mod fallback;
mod log;
pub mod openapi;
mod paging;
mod path;
mod source;
mod token;
mod unmatched;

pub use auth::{CallerSlot, Console};
pub use envelope::{Envelope, Null, Reply};
pub use error::{ApiError, ApiResult, ErrorBody, ErrorEnvelope};
pub use extract::{
    BODY_LIMIT, JsonBody, QueryParams, RawBody, bearer_token, parse_json, required_bearer,
};
pub use fallback::{finish, finish_default_route};
pub use paging::PageQuery;
pub use path::{Id, parse_path};
pub use source::Source;
pub use token::{TokenData, TokenEnvelope, no_store, token_answer};
pub use unmatched::{ApiRoutes, RoutesError};
