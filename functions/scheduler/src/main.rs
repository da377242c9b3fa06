//! Lambda entry point of `scheduler` (an EventBridge schedule).

use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (store, domain) = store::bootstrap::from_env().await?;
    // Commands for OCPP chargers go out at once through `@connections`.
    let domain = ocpp_link::connections::Connections::attach(domain, store).await;
    run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let domain = domain.clone();
        async move {
            scheduler::run_once(&domain)
                .await
                .map_err(|e| Error::from(kernel::error::chain(&e)))
        }
    }))
    .await
}
