//! `device-api`: every `/v1/device/*` route chargers call. Handlers parse,
//! call the domain and wrap the envelope; nothing else.

mod auth;
mod dto;
mod long_poll;
mod routes;

pub use routes::{openapi, router, routes};
