//! Building the domain for a Lambda cold start: settings from the
//! environment, a client from the standard AWS chain.

use crate::{DynamoStore, client_from_env};
use domain::Domain;
use kernel::settings::SettingsError;
use kernel::{Settings, SystemClock};
use std::sync::Arc;

pub async fn domain_from_env() -> Result<Domain, SettingsError> {
    let settings = Settings::from_env()?;
    let client = client_from_env(None).await;
    let store = DynamoStore::new(client, &settings.table_name).with_retention(settings.retention);
    Ok(Domain::new(
        Arc::new(store),
        settings,
        Arc::new(SystemClock),
    ))
}
