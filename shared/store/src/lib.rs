//! The DynamoDB adapter: the only crate that speaks to the AWS SDK. It
//! implements the domain's storage port on one table whose definition lives
//! in [`table`], with every key built in [`keys`].

pub mod bootstrap;
mod client;
mod dynamo;
mod errors;
mod items;
pub mod keys;
pub mod table;

pub use client::{RequestCounter, Usage, client_for_endpoint, client_from_env};
pub use dynamo::DynamoStore;
