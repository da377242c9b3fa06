//! Lambda entry point of `command-api`.

use lambda_http::{Error, run};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // Commands for OCPP chargers go out at once through `@connections`.
    let domain =
        ocpp_gateway::connections::Connections::attach(store::bootstrap::domain_from_env().await?)
            .await;
    let app = command_api::router(domain.clone());
    run(api::finish(app, &domain, "command-api")).await
}
