//! Lambda entry point of `intelligence-api`.

use lambda_http::{Error, run};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let domain = store::bootstrap::domain_from_env().await?;
    let app = intelligence_api::router(domain.clone());
    run(api::finish(app, &domain, "intelligence-api")).await
}
