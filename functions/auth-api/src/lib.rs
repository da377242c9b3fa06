//! `auth-api`: operator OAuth tokens and the admin routes that create
//! operators and API clients. Separate from the console reads because it
//! writes credentials.

mod routes;
mod token_request;

pub use routes::{openapi, router, routes};
