//! The DynamoDB adapter: the only crate that speaks to the AWS SDK. It
//! implements every storage port of the domain on one table: one file per
//! capability over a small core ([`core`]), the table's definition in
//! [`table`], every key built in [`keys`].

pub mod bootstrap;
mod campaigns;
mod chargepoints;
mod client;
mod commands;
mod core;
mod counters;
mod devices;
mod errors;
mod feeds;
mod idtags;
mod intelligence;
mod items;
pub mod keys;
mod loads;
mod observations;
mod partners;
mod profiles;
mod records;
mod sites;
pub mod table;
mod tariffs;
mod telemetry;
mod tenants;
mod throttle;

pub use client::{RequestCounter, Usage, client_for_endpoint, client_from_env};
pub use core::DynamoStore;

use async_trait::async_trait;
use domain::storage::StoreHealth;
use kernel::storage::StoreResult;

#[async_trait]
impl StoreHealth for DynamoStore {
    async fn ping(&self) -> StoreResult<()> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(errors::map_sdk)?;
        Ok(())
    }
}
