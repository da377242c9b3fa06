//! Lambda entry point of `command-api`.

use lambda_http::{Error, run};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (store, domain) = store::bootstrap::from_env().await?;
    // Commands for OCPP chargers go out at once through `@connections`.
    let domain = ocpp_link::connections::Connections::attach(domain, store).await;
    let app = command_api::router(domain.clone());
    run(api::finish(app, &domain, "command-api")).await
}
