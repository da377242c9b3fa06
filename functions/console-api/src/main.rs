//! Lambda entry point of `console-api`.

use lambda_http::{Error, run};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let domain = store::bootstrap::domain_from_env().await?;
    run(console_api::lambda_app(&domain)?).await
}
