//! Lambda entry point of `ocpp-api`: the provisioning routes.

use lambda_http::{Error, run};
use ocpp_link::connections::Connections;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (store, domain) = store::bootstrap::from_env().await?;
    // Commands for OCPP chargers go out at once through `@connections`.
    let domain = Connections::attach(domain, store).await;
    let app = ocpp_gateway::router(domain.clone());
    run(api::finish(app, &domain, "ocpp-api")).await
}
