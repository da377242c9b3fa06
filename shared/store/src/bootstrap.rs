//! Building the domain for a Lambda cold start: settings from the
//! environment, a client from the standard AWS chain.

use crate::{DynamoStore, client_from_env};
use domain::Domain;
use kernel::settings::SettingsError;
use kernel::{Settings, SystemClock};
use std::sync::Arc;

pub async fn domain_from_env() -> Result<Domain, SettingsError> {
    Ok(from_env().await?.1)
}

/// The store and the domain over it, for a function that hands the store
/// to an edge part of its own too (the OCPP line notes calls in it).
pub async fn from_env() -> Result<(Arc<DynamoStore>, Domain), SettingsError> {
    let settings = Settings::from_env()?;
    let client = client_from_env(None).await;
    let store = DynamoStore::new(client, &settings.table_name).with_retention(settings.retention);
    let store = Arc::new(store);
    let domain = Domain::new(store.clone(), settings, Arc::new(SystemClock));
    Ok((store, domain))
}
